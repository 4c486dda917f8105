"""The code-mode tool: one TypeScript program instead of many tool calls."""

from codemode.code_mode import _events as events
from codemode.code_mode._tool import (
    CodeMode,
    CodeModeRunner,
    ExecuteTypescriptInput,
    ExecuteTypescriptOutput,
    create_code_mode,
    create_code_mode_system_prompt,
    create_code_mode_tool,
)

__all__ = [
    "CodeMode",
    "CodeModeRunner",
    "ExecuteTypescriptInput",
    "ExecuteTypescriptOutput",
    "create_code_mode",
    "create_code_mode_system_prompt",
    "create_code_mode_tool",
    "events",
]
