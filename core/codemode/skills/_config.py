"""``SkillsConfig``: where skills live, how many are loaded, and what each trust level may do.

Trust is enforced, not only recorded: every run of a skill (a direct tool call, or
``skill_<name>`` inside a program) is held to the ``SkillPolicy`` of its level.

=============  ==========  ===============  ==========================  ====================
level          timeout     tool calls       tools with side effects     first run
=============  ==========  ===============  ==========================  ====================
untrusted      5,000 ms    20               refused                     ``approve`` asked
provisional    15,000 ms   100              allowed                     -
trusted        code mode   code mode        allowed                     -
=============  ==========  ===============  ==========================  ====================

"code mode" means the limits of the code-mode tool itself; a policy only ever tightens them.
A skill called by another skill runs under the stricter of the two policies, so untrusted
code cannot reach a side effect through a trusted skill.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from codemode.errors import ConfigError
from codemode.skills._model import Skill
from codemode.skills._storage import SkillStorage
from codemode.trust import TrustLevel, TrustStrategy

Approve = Callable[[Skill, dict[str, Any]], bool | Awaitable[bool]]
"""``approve(skill, input)``: whether an untrusted skill may run for the first time."""

DEFAULT_MAX_DEPTH = 4
"""How deeply skills may call skills (a program calling a skill is depth 1)."""


@dataclass(frozen=True, slots=True)
class SkillPolicy:
    """What skills of one trust level may do. None leaves the code-mode tool's own limit."""

    timeout: int | None = None
    """Milliseconds per run of the skill's program."""
    max_tool_calls: int | None = None
    """Calls of ``external_*`` and ``skill_*`` functions per run."""
    side_effects: bool = True
    """Whether the skill may call tools marked ``side_effects=True``."""

    def __post_init__(self) -> None:
        for key in ("timeout", "max_tool_calls"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ConfigError(
                    f"SkillPolicy.{key} must be an integer > 0 or None, got {value!r}"
                )
        if not isinstance(self.side_effects, bool):
            raise ConfigError(f"SkillPolicy.side_effects must be a bool, got {self.side_effects!r}")

    def combined(self, other: SkillPolicy) -> SkillPolicy:
        """The stricter of the two, limit by limit."""
        return SkillPolicy(
            timeout=_smaller(self.timeout, other.timeout),
            max_tool_calls=_smaller(self.max_tool_calls, other.max_tool_calls),
            side_effects=self.side_effects and other.side_effects,
        )


def _smaller(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


DEFAULT_POLICIES: Mapping[TrustLevel, SkillPolicy] = {
    TrustLevel.UNTRUSTED: SkillPolicy(timeout=5_000, max_tool_calls=20, side_effects=False),
    TrustLevel.PROVISIONAL: SkillPolicy(timeout=15_000, max_tool_calls=100, side_effects=True),
    TrustLevel.TRUSTED: SkillPolicy(),
}


@dataclass(frozen=True)
class SkillsConfig:
    """The skills part of ``code_mode_with_skills``.

    ``storage`` is a ``SkillStorage`` or a name/URL for ``codemode.plugins.load_storage``
    (``"memory"``, ``"./.skills"``, ``"s3://bucket/skills"``). ``policies`` overrides the
    default ``SkillPolicy`` of some levels (the others keep theirs). ``approve``, if given, is
    asked before an untrusted skill's first run (sync or async; False refuses the run).
    """

    storage: SkillStorage | str = "memory"
    max_skills_in_context: int = 5
    trust_strategy: TrustStrategy | None = None
    """For new skills; None uses the storage's own strategy."""
    policies: Mapping[TrustLevel | str, SkillPolicy] = field(default_factory=dict)
    approve: Approve | None = None
    max_depth: int = DEFAULT_MAX_DEPTH
    max_concurrent_runs: int = 16
    """Skill programs one conversation runs at once (more wait); skills a skill calls do not
    count, so a chain of skills cannot wait on itself."""
    skills_as_tools: bool = True
    """Give the model each loaded skill as a direct tool too, besides ``skill_<name>``."""
    untrusted_isolation: Literal["none", "process"] = "none"
    """Where untrusted skills run: ``"process"`` runs their programs in worker processes of
    the code mode's driver (see docs/isolation.md) while the others stay with the code mode's
    own driver; ``"none"`` runs every skill on the code mode's driver."""

    def __post_init__(self) -> None:
        for key in ("max_skills_in_context", "max_depth", "max_concurrent_runs"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"SkillsConfig.{key} must be an integer >= 1, got {value!r}")
        if self.untrusted_isolation not in ("none", "process"):
            raise ConfigError(
                "SkillsConfig.untrusted_isolation must be 'none' or 'process', got"
                f" {self.untrusted_isolation!r}"
            )
        if self.approve is not None and not callable(self.approve):
            raise ConfigError(f"SkillsConfig.approve must be callable, got {self.approve!r}")
        levels = {level.value for level in TrustLevel}
        for level, policy in self.policies.items():
            if str(level) not in levels:
                raise ConfigError(
                    f"SkillsConfig.policies: unknown trust level {level!r} (levels:"
                    f" {', '.join(sorted(levels))})"
                )
            if not isinstance(policy, SkillPolicy):
                raise ConfigError(
                    f"SkillsConfig.policies[{level!r}] must be a SkillPolicy, got {policy!r}"
                )

    def policy(self, level: TrustLevel) -> SkillPolicy:
        given = self.policies.get(level) or self.policies.get(level.value)
        return given or DEFAULT_POLICIES[level]


async def ask_approval(approve: Approve, skill: Skill, input: dict[str, Any]) -> bool:
    answer = approve(skill, input)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer is True
