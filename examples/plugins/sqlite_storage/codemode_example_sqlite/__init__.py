"""An example third-party skill storage for codemode: skills in one SQLite file.

``pip install -e examples/plugins/sqlite_storage``, storage ``sqlite``. Names load on first
use (``codemode.plugins.lazy_exports``), so finding the plugin costs codemode nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemode_example_sqlite._storage import (
        SqliteSkillStorage,
        SqliteStorageWarning,
        create_sqlite_skill_storage,
    )

__all__ = ["SqliteSkillStorage", "SqliteStorageWarning", "create_sqlite_skill_storage"]

_HOMES = dict.fromkeys(__all__, "codemode_example_sqlite._storage")

if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead.
    from codemode.plugins import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
    del lazy_exports
