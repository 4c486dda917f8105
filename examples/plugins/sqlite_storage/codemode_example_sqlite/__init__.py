"""An example third-party skill storage for codemode: skills in one SQLite file.

``pip install -e examples/plugins/sqlite_storage``, storage ``sqlite``.
"""

from codemode_example_sqlite._storage import (
    SqliteSkillStorage,
    SqliteStorageWarning,
    create_sqlite_skill_storage,
)

__all__ = ["SqliteSkillStorage", "SqliteStorageWarning", "create_sqlite_skill_storage"]
