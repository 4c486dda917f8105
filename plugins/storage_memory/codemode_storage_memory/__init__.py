"""In-process skill storage for codemode: ``pip install codemode-storage-memory``, storage
``memory``."""

from codemode_storage_memory._storage import MemorySkillStorage, create_memory_skill_storage

__all__ = ["MemorySkillStorage", "create_memory_skill_storage"]
