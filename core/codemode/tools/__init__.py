"""Host tools: how a Python function becomes something the model's program can call."""

from codemode.tools._context import EventSink, ToolExecutionContext
from codemode.tools._secrets import SecretPolicy, check_secret_parameters, looks_like_secret
from codemode.tools._tool import Tool, ToolDefinition, tool, tool_definition
from codemode.tools._toolset import ToolSet

__all__ = [
    "EventSink",
    "SecretPolicy",
    "Tool",
    "ToolDefinition",
    "ToolExecutionContext",
    "ToolSet",
    "check_secret_parameters",
    "looks_like_secret",
    "tool",
    "tool_definition",
]
