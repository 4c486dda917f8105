"""The skills part of the system prompt, and ``LivePrompt``, a prompt that can be re-read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codemode.skills._config import SkillsConfig
from codemode.skills._model import Skill
from codemode.trust import TrustLevel

_BADGES = {
    TrustLevel.TRUSTED: "trusted",
    TrustLevel.PROVISIONAL: "provisional",
    TrustLevel.UNTRUSTED: "untrusted",
}


class LivePrompt(str):
    """A system prompt as text (as it was when made), that ``render()`` gives as it is now.

    Use it anywhere a string goes. A chat loop that calls ``render()`` before each model turn
    (``codemode.chat`` does) shows the model skills registered since.
    """

    _render: Callable[[], str]

    def __new__(cls, render: Callable[[], str]) -> LivePrompt:
        prompt = super().__new__(cls, render())
        prompt._render = render
        return prompt

    def render(self) -> str:
        return self._render()


def _limits(config: SkillsConfig, level: TrustLevel) -> str:
    policy = config.policy(level)
    parts = []
    if policy.timeout is not None:
        parts.append(f"{policy.timeout} ms")
    if policy.max_tool_calls is not None:
        parts.append(f"{policy.max_tool_calls} calls")
    if not policy.side_effects:
        parts.append("no tools with side effects")
    return ", ".join(parts) or "the normal limits"


def render_skills_prompt(
    loaded: Sequence[Skill], total: int, config: SkillsConfig, *, as_tools: bool
) -> str:
    lines = ["## Skills", ""]
    if total == 0:
        lines.append("You have a library for saving reusable programs (skills); it is empty.")
    else:
        lines.append(
            f"You have a library of {total} saved skill{'s' if total != 1 else ''} (reusable"
            f" programs); {len(loaded)} {'is' if len(loaded) == 1 else 'are'} loaded."
        )
    if loaded:
        lines += ["", "Loaded skills:"]
        for skill in loaded:
            hint = f" ({skill.usage_hints[0]})" if skill.usage_hints else ""
            lines.append(
                f"- `{skill.name}` [{_BADGES[skill.trust_level]}]: {skill.description}{hint}"
            )
        where = "as a tool of the same name, and " if as_tools else ""
        lines += [
            "",
            f"Call a loaded skill {where}inside execute_typescript programs as"
            " `await skill_<name>(input)` (declared with the functions above).",
        ]
    lines += [
        "",
        "- `search_skills({query})` finds saved skills; `get_skill({name})` shows one and loads"
        " it.",
        "- `register_skill({name, description, code, inputSchema, outputSchema, usageHints,"
        " dependsOn})` saves a program that worked as a new skill, usable at once. `code` is"
        " the body of an async function that reads its argument as `input` and returns the"
        " result; it may call external_* and other skill_* functions.",
        "",
        "Skills earn trust by running successfully. Until then they run under tighter limits:"
        f" untrusted: {_limits(config, TrustLevel.UNTRUSTED)}; provisional:"
        f" {_limits(config, TrustLevel.PROVISIONAL)}.",
    ]
    return "\n".join(lines) + "\n"
