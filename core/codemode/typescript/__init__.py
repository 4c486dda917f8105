"""TypeScript handling on the host: type stubs from JSON Schema, and type stripping.

The names below load on first use (PEP 562): stripping needs tree-sitter, about 100 ms to
import, and ``codemode.tools`` imports ``codemode.typescript.naming`` without needing it.
"""

from __future__ import annotations

# As in ``codemode/__init__.py``: type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from codemode._unicode import well_formed
    from codemode.typescript.strip import TypeScriptSyntaxError, strip_types, strip_types_cached
    from codemode.typescript.stubs import ToolSignature, render_tool_stubs, schema_to_type

__all__ = [
    "ToolSignature",
    "TypeScriptSyntaxError",
    "render_tool_stubs",
    "schema_to_type",
    "strip_types",
    "strip_types_cached",
    "well_formed",
]

# Where each public name lives; must match the TYPE_CHECKING imports above (a test checks).
_HOMES = {
    "ToolSignature": "codemode.typescript.stubs",
    "TypeScriptSyntaxError": "codemode.typescript.strip",
    "render_tool_stubs": "codemode.typescript.stubs",
    "schema_to_type": "codemode.typescript.stubs",
    "strip_types": "codemode.typescript.strip",
    "strip_types_cached": "codemode.typescript.strip",
    "well_formed": "codemode._unicode",
}


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead and so still report a
    # misspelt name (a module ``__getattr__`` would make every name valid).
    from codemode._lazy import lazy

    __getattr__, __dir__ = lazy("codemode.typescript", _HOMES, globals())
    del lazy
