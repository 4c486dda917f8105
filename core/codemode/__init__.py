"""codemode: Code Mode for Python agents.

The model writes one TypeScript program; it runs in a sandboxed JavaScript isolate where each
host tool is an async ``external_<name>(input)`` function, and only the program's return
value goes back to the model.

>>> from codemode import create_code_mode, tool

The names below load on first use (PEP 562), so ``import codemode`` (and ``codemode.isolate``,
``codemode.errors``, ``codemode.hookspecs``, which a driver plugin needs) stays cheap: no
pydantic, jsonschema or tree-sitter until a tool or a code-mode tool is built.
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing ``typing`` would be most of what this module costs.
# Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from codemode.adapters import litellm_text, openai_text
    from codemode.agent import (
        chat,
        max_iterations,
        to_server_sent_events,
        to_server_sent_events_response,
    )
    from codemode.code_mode import (
        CodeMode,
        create_code_mode,
        create_code_mode_system_prompt,
        create_code_mode_tool,
    )
    from codemode.config import load_config
    from codemode.context import ToolExecutionContext
    from codemode.hookspecs import hookimpl
    from codemode.skills import Skill, SkillsConfig, code_mode_with_skills
    from codemode.tools import Tool, tool, tool_definition
    from codemode.trust import (
        create_always_trusted_strategy,
        create_custom_trust_strategy,
        create_default_trust_strategy,
        create_relaxed_trust_strategy,
    )

__all__ = [
    "CodeMode",
    "Skill",
    "SkillsConfig",
    "Tool",
    "ToolExecutionContext",
    "chat",
    "code_mode_with_skills",
    "create_always_trusted_strategy",
    "create_code_mode",
    "create_code_mode_system_prompt",
    "create_code_mode_tool",
    "create_custom_trust_strategy",
    "create_default_trust_strategy",
    "create_relaxed_trust_strategy",
    "hookimpl",
    "litellm_text",
    "load_config",
    "max_iterations",
    "openai_text",
    "to_server_sent_events",
    "to_server_sent_events_response",
    "tool",
    "tool_definition",
]

# Where each public name lives; must match the TYPE_CHECKING imports above (a test checks).
_HOMES = {
    "CodeMode": "codemode.code_mode",
    "Skill": "codemode.skills",
    "SkillsConfig": "codemode.skills",
    "code_mode_with_skills": "codemode.skills",
    "chat": "codemode.agent",
    "litellm_text": "codemode.adapters",
    "openai_text": "codemode.adapters",
    "max_iterations": "codemode.agent",
    "to_server_sent_events": "codemode.agent",
    "to_server_sent_events_response": "codemode.agent",
    "Tool": "codemode.tools",
    "ToolExecutionContext": "codemode.context",
    "create_always_trusted_strategy": "codemode.trust",
    "create_code_mode": "codemode.code_mode",
    "create_code_mode_system_prompt": "codemode.code_mode",
    "create_code_mode_tool": "codemode.code_mode",
    "create_custom_trust_strategy": "codemode.trust",
    "create_default_trust_strategy": "codemode.trust",
    "create_relaxed_trust_strategy": "codemode.trust",
    "hookimpl": "codemode.hookspecs",
    "load_config": "codemode.config",
    "tool": "codemode.tools",
    "tool_definition": "codemode.tools",
}


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead and so still report a
    # misspelt name (a module ``__getattr__`` would make every name valid).
    from codemode._lazy import lazy

    __getattr__, __dir__ = lazy("codemode", _HOMES, globals())
    del lazy
