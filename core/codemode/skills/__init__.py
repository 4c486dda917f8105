"""Skills: saved TypeScript programs the model can call again, that earn trust by running.

For storage authors the contract is ``Skill``, ``SkillIndexEntry``, ``SkillStorage`` and the
shared rules ``prepare_save``, ``record_run``, ``check_loaded``, ``check_skill_name`` and
``rank_skills``; ``codemode.testing.SkillStorageConformance`` checks a storage against them.
Names load on first use, so a storage plugin importing the model does not load the engine.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: see codemode/__init__.py

if TYPE_CHECKING:
    from codemode.skills._model import (
        MAX_NAME_CHARS,
        Skill,
        SkillIndexEntry,
        check_skill_name,
        content_hash,
    )
    from codemode.skills._search import SkillSearchIndex, rank_skills
    from codemode.skills._storage import SkillStorage, check_loaded, prepare_save, record_run

__all__ = [
    "MAX_NAME_CHARS",
    "Skill",
    "SkillIndexEntry",
    "SkillSearchIndex",
    "SkillStorage",
    "check_loaded",
    "check_skill_name",
    "content_hash",
    "prepare_save",
    "rank_skills",
    "record_run",
]

_HOMES = {
    "MAX_NAME_CHARS": "codemode.skills._model",
    "Skill": "codemode.skills._model",
    "SkillIndexEntry": "codemode.skills._model",
    "SkillSearchIndex": "codemode.skills._search",
    "SkillStorage": "codemode.skills._storage",
    "check_loaded": "codemode.skills._storage",
    "check_skill_name": "codemode.skills._model",
    "content_hash": "codemode.skills._model",
    "prepare_save": "codemode.skills._storage",
    "rank_skills": "codemode.skills._search",
    "record_run": "codemode.skills._storage",
}

if not TYPE_CHECKING:
    from codemode._lazy import lazy

    __getattr__, __dir__ = lazy("codemode.skills", _HOMES, globals())
    del lazy
