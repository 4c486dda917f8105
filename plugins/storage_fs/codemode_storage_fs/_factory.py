"""``create_file_skill_storage``, kept apart so that loading the plugin imports no fsspec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codemode.trust import TrustStrategy
    from codemode_storage_fs._storage import FileSkillStorage


def create_file_skill_storage(
    directory: str = "./.skills",
    trust_strategy: TrustStrategy | None = None,
    **fsspec_options: Any,
) -> FileSkillStorage:
    """A skill storage in ``directory``: a local path, or an fsspec URL such as
    ``file:///abs/path``, ``memory://name`` or ``s3://bucket/prefix`` (``fsspec_options``
    go to the filesystem, e.g. ``anon=True`` for s3fs). Nothing is read or created until the
    first call; the default trust strategy is ``create_default_trust_strategy()``."""
    from codemode_storage_fs._storage import FileSkillStorage

    return FileSkillStorage(directory, trust_strategy, **fsspec_options)
