"""``MemorySkillStorage``: skills kept in a dict of this process, gone when it exits.

For tests, notebooks and short-lived agents. It applies the same shared rules as every
storage (``codemode.skills._storage``) and keeps copies on both sides, so nothing a caller does
to a skill it passed in or got back changes what is stored. One ``threading.Lock`` guards the
state: a storage may be shared by several threads, each running its own event loop. The
methods are ``async`` for the protocol's sake; none of them waits on anything.
"""

from __future__ import annotations

import threading

from codemode.errors import SkillNameError
from codemode.skills import (
    Skill,
    SkillIndexEntry,
    SkillSearchIndex,
    check_loaded,
    check_skill_name,
    prepare_save,
    record_run,
)
from codemode.trust import TrustStrategy, create_default_trust_strategy

__all__ = ["MemorySkillStorage", "create_memory_skill_storage"]


def _is_valid_name(name: str) -> bool:
    try:
        check_skill_name(name)
    except SkillNameError:
        return False
    return True


class MemorySkillStorage:
    """A ``SkillStorage`` in memory; make one with ``create_memory_skill_storage()``."""

    trust_strategy: TrustStrategy

    def __init__(self, trust_strategy: TrustStrategy | None = None) -> None:
        self.trust_strategy = (
            create_default_trust_strategy() if trust_strategy is None else trust_strategy
        )
        self._lock = threading.Lock()
        self._skills: dict[str, Skill] = {}  # in order of first save, as load_index answers
        # Bumped by every change a search could see; the index is rebuilt only when it moved.
        self._version = 0
        self._search_index: SkillSearchIndex | None = None
        self._search_version = -1

    def __repr__(self) -> str:
        return (
            f"MemorySkillStorage({len(self._skills)} skills,"
            f" trust_strategy={self.trust_strategy!r})"
        )

    async def load_index(self) -> list[SkillIndexEntry]:
        # No check_loaded here: what is stored came out of prepare_save or record_run, so its
        # hash always matches and the check could change nothing.
        with self._lock:
            return [skill.index_entry() for skill in self._skills.values()]

    async def load_all(self) -> list[Skill]:
        with self._lock:
            stored = list(self._skills.values())
        return [self._read(skill) for skill in stored]

    async def get(self, name: str) -> Skill | None:
        if not _is_valid_name(name):
            return None
        with self._lock:
            skill = self._skills.get(name)
        return None if skill is None else self._read(skill)

    async def save(self, skill: Skill) -> Skill:
        # Again, though a Skill checks its name: model_construct() skips validation.
        check_skill_name(skill.name)
        with self._lock:
            stored = prepare_save(self._skills.get(skill.name), skill, self.trust_strategy)
            self._skills[skill.name] = stored
            self._version += 1
        return stored.model_copy(deep=True)

    async def delete(self, name: str) -> bool:
        if not _is_valid_name(name):
            return False
        with self._lock:
            existed = self._skills.pop(name, None) is not None
            if existed:
                self._version += 1
        return existed

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        if limit <= 0 or not query.strip():
            return []  # what the index would answer, without building one
        with self._lock:
            if self._search_index is None or self._search_version != self._version:
                entries = [skill.index_entry() for skill in self._skills.values()]
                self._search_index = SkillSearchIndex(entries)
                self._search_version = self._version
            index = self._search_index
        # The index never changes once built, so it is searched outside the lock.
        return [entry.model_copy(deep=True) for entry in index.search(query, limit)]

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        check_skill_name(name)
        with self._lock:
            existing = self._skills.get(name)
            if existing is None:
                return None
            updated = record_run(
                check_loaded(existing, self.trust_strategy), success, self.trust_strategy
            )
            self._skills[name] = updated
            if updated.trust_level != existing.trust_level:
                self._version += 1  # the index entries carry the trust level
        return updated.model_copy(deep=True)

    def _read(self, skill: Skill) -> Skill:
        return check_loaded(skill.model_copy(deep=True), self.trust_strategy)


def create_memory_skill_storage(trust_strategy: TrustStrategy | None = None) -> MemorySkillStorage:
    """An empty in-memory skill storage (the default trust strategy unless one is given)."""
    return MemorySkillStorage(trust_strategy)
