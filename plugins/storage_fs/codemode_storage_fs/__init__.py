"""File skill storage for codemode: ``pip install codemode-storage-fs``, storage ``fs``.

Skills live in TanStack AI's layout (``_index.json``, ``<name>/meta.json``, ``<name>/code.ts``)
in a local folder or under any fsspec URL. Names load on first use, so loading the plugin
imports neither fsspec nor the skill model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codemode_storage_fs._factory import create_file_skill_storage

if TYPE_CHECKING:
    from codemode_storage_fs._storage import (
        FileSkillStorage,
        ReindexReport,
        SkillStorageWarning,
    )

__all__ = [
    "FileSkillStorage",
    "ReindexReport",
    "SkillStorageWarning",
    "create_file_skill_storage",
]

_LAZY = frozenset({"FileSkillStorage", "ReindexReport", "SkillStorageWarning"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from codemode_storage_fs import _storage

        value = getattr(_storage, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
