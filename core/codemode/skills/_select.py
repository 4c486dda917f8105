"""``select_relevant_skills``: which saved skills to load for this conversation.

With an adapter, a cheap model reads the recent conversation and the skill catalog and
answers with a JSON array of names. Without one, or when its answer is not a JSON array of
strings, or names no existing skill, or the call fails, the BM25 ranking of the catalog
against the recent user messages decides. An answer of ``[]`` is respected: the model said
none is relevant.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from codemode.adapters import ModelAdapter, complete_text
from codemode.errors import SkillError
from codemode.skills._model import Skill, SkillIndexEntry
from codemode.skills._search import SkillSearchIndex
from codemode.skills._storage import SkillStorage

logger = logging.getLogger("codemode.skills")

_RECENT = 5
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def message_text(message: Mapping[str, Any] | Any) -> str:
    """The text of a chat message: a string ``content``, or the text parts of a list."""
    content = (
        message.get("content")
        if isinstance(message, Mapping)
        else getattr(message, "content", None)
    )
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return " ".join(parts)
    return ""


def _role(message: Mapping[str, Any] | Any) -> str:
    role = message.get("role") if isinstance(message, Mapping) else getattr(message, "role", None)
    return str(role or "user")


def _selection_prompt(
    messages: Sequence[Any], index: Sequence[SkillIndexEntry], max_skills: int
) -> str:
    recent = "\n".join(
        f"{_role(message)}: {message_text(message)}" for message in messages[-_RECENT:]
    )
    catalog = "\n".join(
        f"- {entry.name}: {entry.description}"
        + (f" ({entry.usage_hints[0]})" if entry.usage_hints else "")
        for entry in index
    )
    return (
        f"Given this conversation:\n---\n{recent}\n---\n\n"
        f"Which of these skills (if any) would help with the next response? Answer with a"
        f" JSON array of at most {max_skills} skill names, or [] if none is relevant.\n\n"
        f"Skills:\n{catalog}\n\n"
        'Answer with the JSON array only, for example ["skill_name_1", "skill_name_2"].'
    )


def _parse_names(answer: str, known: set[str]) -> list[str] | None:
    """The names the model picked, or None when its answer is not usable."""
    text = _FENCE.sub("", answer.strip())
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    if not value:
        return []
    picked = list(dict.fromkeys(name for name in value if name in known))
    return picked or None


def _bm25_names(
    messages: Sequence[Any], index: Sequence[SkillIndexEntry], max_skills: int
) -> list[str]:
    users = [message for message in messages if _role(message) == "user"][-3:]
    query = " ".join(message_text(message) for message in users)
    return [entry.name for entry in SkillSearchIndex(index).search(query, max_skills)]


async def select_relevant_skills(
    messages: Sequence[Any],
    storage: SkillStorage,
    adapter: ModelAdapter | None = None,
    max_skills: int = 5,
) -> list[Skill]:
    """Up to ``max_skills`` stored skills relevant to ``messages`` (chat message dicts)."""
    if max_skills <= 0 or not messages:
        return []
    index = await storage.load_index()
    if not index:
        return []
    names: list[str] | None = None
    if adapter is not None:
        prompt = _selection_prompt(messages, index, max_skills)
        try:
            answer = await complete_text(adapter, [{"role": "user", "content": prompt}])
        except Exception as exc:
            logger.warning("skill selection: the model call failed (%s); using BM25", exc)
        else:
            names = _parse_names(answer, {entry.name for entry in index})
            if names is None:
                logger.warning(
                    "skill selection: the model's answer %r names no skill; using BM25",
                    answer[:200],
                )
    if names is None:
        names = _bm25_names(messages, index, max_skills)
    selected = []
    for name in names[:max_skills]:
        try:
            skill = await storage.get(name)
        except SkillError as exc:
            logger.warning("skill selection: skipping %s: %s", name, exc)
            continue
        if skill is not None:
            selected.append(skill)
    return selected
