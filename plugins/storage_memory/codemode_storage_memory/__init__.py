"""In-process skill storage for codemode: ``pip install codemode-storage-memory``, storage
``memory``.

Names load on first use, so loading the plugin (which every codemode process does to find
its plugins) imports no skill model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemode_storage_memory._storage import MemorySkillStorage, create_memory_skill_storage

__all__ = ["MemorySkillStorage", "create_memory_skill_storage"]

_HOMES = {
    "MemorySkillStorage": "codemode_storage_memory._storage",
    "create_memory_skill_storage": "codemode_storage_memory._storage",
}

if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead.
    from codemode.plugins import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
    del lazy_exports
