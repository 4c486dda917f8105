"""The skill storage contract, and the rules every storage applies the same way.

A storage keeps skills by name. The rules that make trust mean something live here, not in
each storage, so the in-memory storage, the file storage and a third party's agree:

- ``save`` sets ``created_at`` (kept from the stored version), ``updated_at`` and
  ``content_hash``; a new skill whose ``trust_level`` was not given starts at the strategy's
  initial level; a skill whose code or schemas differ from the stored version goes back to
  the initial level with fresh stats; one whose content is unchanged keeps the stored
  ``trust_level`` and ``stats`` unless the caller set them (host code may; the model cannot,
  ``register_skill`` takes neither) (``prepare_save``).
- ``update_stats`` adds one run and lets the strategy promote the skill (``record_run``),
  atomically: concurrent updates lose no count.
- A skill read back whose code or schemas no longer match its stored hash (edited by hand)
  is returned at the initial level with fresh stats (``check_loaded``); its next save
  records the new hash.

``codemode.testing.SkillStorageConformance`` checks all of it against any storage.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from codemode.skills._model import Skill, SkillIndexEntry, utc_now
from codemode.trust import SkillStats, TrustStrategy


@runtime_checkable
class SkillStorage(Protocol):
    """Where skills live. Every method is async; names are checked with ``check_skill_name``
    (``get`` and ``delete`` answer None / False for an invalid name rather than raise)."""

    trust_strategy: TrustStrategy

    async def load_index(self) -> list[SkillIndexEntry]:
        """Every skill's index entry (no code), in the order they were first saved."""
        ...

    async def load_all(self) -> list[Skill]:
        """Every skill that can be read; an unreadable one is skipped with a warning."""
        ...

    async def get(self, name: str) -> Skill | None:
        """The skill, or None; ``CorruptSkillError`` naming the file if it cannot be read."""
        ...

    async def save(self, skill: Skill) -> Skill:
        """Create or replace ``skill.name`` (see ``prepare_save``); returns what was stored."""
        ...

    async def delete(self, name: str) -> bool:
        """Remove a skill; whether it existed."""
        ...

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        """The best matches for ``query`` (an exact name first, then BM25 relevance)."""
        ...

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        """Record one run; the updated skill, or None if there is no such skill."""
        ...


def prepare_save(existing: Skill | None, skill: Skill, strategy: TrustStrategy) -> Skill:
    """What a storage stores when asked to save ``skill`` over ``existing`` (or None)."""
    now = utc_now()
    new_hash = skill.computed_hash()
    update: dict[str, object] = {"content_hash": new_hash, "updated_at": now}
    if existing is None:
        update["created_at"] = skill.created_at or now
        if "trust_level" not in skill.model_fields_set:
            update["trust_level"] = strategy.get_initial_trust_level()
    else:
        update["created_at"] = existing.created_at or skill.created_at or now
        update["id"] = existing.id
        old_hash = existing.content_hash or existing.computed_hash()
        if old_hash != new_hash:
            # New code is not the code that earned the old trust.
            update["trust_level"] = strategy.get_initial_trust_level()
            update["stats"] = SkillStats()
        else:
            # What the caller did not set is kept (a skill built afresh to change its
            # description keeps the trust it earned); what it set explicitly wins.
            if "trust_level" not in skill.model_fields_set:
                update["trust_level"] = existing.trust_level
            if "stats" not in skill.model_fields_set:
                update["stats"] = existing.stats
    return skill.model_copy(update=update, deep=True)


def record_run(skill: Skill, success: bool, strategy: TrustStrategy) -> Skill:
    """``skill`` (as ``check_loaded`` gave it) with one more run counted and its level
    recalculated by ``strategy``. The content hash is brought up to date, so a skill edited
    by hand starts earning trust again from this run on."""
    stats = skill.stats.record(success)
    level = strategy.calculate_trust_level(skill.trust_level, stats)
    return skill.model_copy(
        update={
            "stats": stats,
            "trust_level": level,
            "updated_at": utc_now(),
            "content_hash": skill.computed_hash(),
        }
    )


def check_loaded(skill: Skill, strategy: TrustStrategy) -> Skill:
    """``skill`` as read from storage; back at the initial level if its content was edited."""
    if skill.content_hash is None or skill.content_hash == skill.computed_hash():
        return skill
    return skill.model_copy(
        update={"trust_level": strategy.get_initial_trust_level(), "stats": SkillStats()}
    )
