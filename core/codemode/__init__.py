"""codemode: Code Mode for Python agents.

The model writes one TypeScript program; it runs in a sandboxed JavaScript isolate where each
host tool is an async ``external_<name>(input)`` function, and only the program's return
value goes back to the model.

>>> from codemode import create_code_mode, tool
"""

from codemode.code_mode import (
    CodeMode,
    create_code_mode,
    create_code_mode_system_prompt,
    create_code_mode_tool,
)
from codemode.config import load_config
from codemode.hookspecs import hookimpl
from codemode.tools import Tool, ToolExecutionContext, tool, tool_definition
from codemode.trust import (
    create_always_trusted_strategy,
    create_custom_trust_strategy,
    create_default_trust_strategy,
    create_relaxed_trust_strategy,
)

__all__ = [
    "CodeMode",
    "Tool",
    "ToolExecutionContext",
    "create_always_trusted_strategy",
    "create_code_mode",
    "create_code_mode_system_prompt",
    "create_code_mode_tool",
    "create_custom_trust_strategy",
    "create_default_trust_strategy",
    "create_relaxed_trust_strategy",
    "hookimpl",
    "load_config",
    "tool",
    "tool_definition",
]
