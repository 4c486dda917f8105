"""Skills: saved TypeScript programs the model can call again, that earn trust by running.

For storage authors the contract is ``Skill``, ``SkillIndexEntry``, ``SkillStorage`` and the
shared rules ``prepare_save``, ``record_run``, ``check_loaded``, ``check_skill_name`` and
``rank_skills``; ``codemode.testing.SkillStorageConformance`` checks a storage against them.
Names load on first use, so a storage plugin importing the model does not load the engine.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: see codemode/__init__.py

if TYPE_CHECKING:
    from codemode.skills._config import DEFAULT_POLICIES, SkillPolicy, SkillsConfig
    from codemode.skills._configured import load_configured_storage
    from codemode.skills._model import (
        MAX_NAME_CHARS,
        Skill,
        SkillIndexEntry,
        check_skill_name,
        content_hash,
    )
    from codemode.skills._prompt import LivePrompt
    from codemode.skills._run import SkillContext, SkillEngine, SkillWarning
    from codemode.skills._search import SkillSearchIndex, rank_skills
    from codemode.skills._select import select_relevant_skills
    from codemode.skills._session import code_mode_with_skills
    from codemode.skills._storage import SkillStorage, check_loaded, prepare_save, record_run

__all__ = [
    "DEFAULT_POLICIES",
    "MAX_NAME_CHARS",
    "LivePrompt",
    "Skill",
    "SkillContext",
    "SkillEngine",
    "SkillIndexEntry",
    "SkillPolicy",
    "SkillSearchIndex",
    "SkillStorage",
    "SkillWarning",
    "SkillsConfig",
    "check_loaded",
    "check_skill_name",
    "code_mode_with_skills",
    "content_hash",
    "load_configured_storage",
    "prepare_save",
    "rank_skills",
    "record_run",
    "select_relevant_skills",
]

_HOMES = {
    "DEFAULT_POLICIES": "codemode.skills._config",
    "LivePrompt": "codemode.skills._prompt",
    "SkillContext": "codemode.skills._run",
    "SkillEngine": "codemode.skills._run",
    "SkillPolicy": "codemode.skills._config",
    "SkillWarning": "codemode.skills._run",
    "SkillsConfig": "codemode.skills._config",
    "code_mode_with_skills": "codemode.skills._session",
    "select_relevant_skills": "codemode.skills._select",
    "load_configured_storage": "codemode.skills._configured",
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
