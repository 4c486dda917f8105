"""TypeScript handling on the host: type stubs from JSON Schema, and type stripping."""

from codemode.typescript.strip import TypeScriptSyntaxError, strip_types, strip_types_cached
from codemode.typescript.stubs import ToolSignature, render_tool_stubs, schema_to_type

__all__ = [
    "ToolSignature",
    "TypeScriptSyntaxError",
    "render_tool_stubs",
    "schema_to_type",
    "strip_types",
    "strip_types_cached",
]
