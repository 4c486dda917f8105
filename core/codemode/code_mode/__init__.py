"""The code-mode tool: one TypeScript program instead of many tool calls."""

from codemode.code_mode import _events as events
from codemode.code_mode._registry import EXTERNAL, SKILL, BindingKind, ToolRegistry
from codemode.code_mode._runner import DEFAULT_MAX_CODE_CHARS, CodeModeRunner
from codemode.code_mode._tool import (
    CodeMode,
    ExecuteTypescriptInput,
    ExecuteTypescriptOutput,
    create_code_mode,
    create_code_mode_system_prompt,
    create_code_mode_tool,
)

__all__ = [
    "DEFAULT_MAX_CODE_CHARS",
    "EXTERNAL",
    "SKILL",
    "BindingKind",
    "CodeMode",
    "CodeModeRunner",
    "ExecuteTypescriptInput",
    "ExecuteTypescriptOutput",
    "ToolRegistry",
    "create_code_mode",
    "create_code_mode_system_prompt",
    "create_code_mode_tool",
    "events",
]
