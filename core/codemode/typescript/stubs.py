"""TypeScript declarations of the host tools, generated from their JSON Schemas.

The model reads these in its system prompt to learn how to call each tool as
``external_<name>(input)``. Only what a caller needs is kept: types, optionality, literal
values, descriptions, defaults and string formats; validation keywords such as ``minimum`` or
``pattern`` are left to the tool's own input validation.

Decisions worth knowing:

* An object schema with an empty ``properties`` (a tool that takes no arguments) or with
  ``additionalProperties: false`` and no properties is ``Record<string, never>``: the model
  must pass ``{}``. An object schema that says nothing about its properties is
  ``Record<string, unknown>``.
* ``$defs`` (and draft-7 ``definitions``) become named declarations, emitted only when
  referenced. Across the tools of one render, a definition with the same name and the same
  schema (including everything it references) is declared once; a different one under a
  taken name gets a numeric suffix. Names of TypeScript keywords and of common global types
  (``Record``, ``Error``, ``Date``...) are never declared, so a model named ``Error`` becomes
  ``Error2`` instead of merging with the global ``Error``.
* A ``$ref`` this module cannot resolve (another document, a pointer that is not a
  definition) is ``unknown``.

The work is split by what it does: ``naming`` (type names), ``_renderer`` (the schema walk),
``_type_syntax`` (unions and parentheses), ``_references`` (``$ref``) and ``_doc_comments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codemode.errors import ConfigError, ToolDefinitionError
from codemode.typescript._doc_comments import description_lines, doc_comment
from codemode.typescript._renderer import Renderer
from codemode.typescript.naming import KEYWORDS, is_identifier, is_type_name, pascal_case

__all__ = ["ToolSignature", "render_tool_stubs", "schema_to_type"]


@dataclass(frozen=True, slots=True)
class ToolSignature:
    """What the stubs need to know about one tool."""

    function_name: str
    """The JavaScript name the program calls, e.g. ``external_fetch_weather``."""
    tool_name: str
    """The tool's own name, e.g. ``fetch_weather``; its type names derive from it."""
    description: str
    input_schema: dict[str, Any]
    """JSON Schema of the input, possibly with ``$defs`` and ``$ref``."""
    output_schema: dict[str, Any] | None
    """JSON Schema of the output; ``None`` when unknown (``Promise<unknown>``)."""


def render_tool_stubs(tools: Sequence[ToolSignature]) -> str:
    """TypeScript declarations for these tools: the types they use, then one
    ``declare function`` each, in the order given.

    Each tool's input type is ``<PascalCase tool name>Input`` and its output type
    ``<PascalCase tool name>Output``; a tool without an output schema returns
    ``Promise<unknown>``. Raises `ToolDefinitionError` when a function name is not a
    JavaScript identifier or is used by two tools.
    """
    seen: set[str] = set()
    for tool in tools:
        if not is_identifier(tool.function_name) or tool.function_name in KEYWORDS:
            raise ToolDefinitionError(
                f"tool {tool.tool_name!r}: {tool.function_name!r} cannot name a JavaScript "
                "function: it must be an identifier and not a keyword"
            )
        if tool.function_name in seen:
            raise ToolDefinitionError(
                f"two tools are named {tool.function_name!r} in the program; "
                "function names must be unique"
            )
        seen.add(tool.function_name)

    renderer = Renderer()
    # Tool types are claimed before any definition so that they keep their natural
    # names; a colliding definition is the one that gets a suffix.
    names: list[tuple[str, str | None]] = []
    for tool in tools:
        base = pascal_case(tool.tool_name) or "Tool"
        input_name = renderer.names.claim(base + "Input")
        output_name = None
        if tool.output_schema is not None:
            output_name = renderer.names.claim(base + "Output")
        names.append((input_name, output_name))

    for tool, (input_name, output_name) in zip(tools, names, strict=True):
        renderer.render_document(tool.input_schema, input_name)
        if output_name is not None:
            renderer.render_document(tool.output_schema, output_name)

    functions = []
    for tool, (input_name, output_name) in zip(tools, names, strict=True):
        returns = output_name or "unknown"
        functions.append(
            doc_comment(description_lines(tool.description), "")
            + f"declare function {tool.function_name}(input: {input_name}): Promise<{returns}>;"
        )
    if not functions:
        return ""
    return "\n\n".join([*renderer.declarations, *functions]) + "\n"


def schema_to_type(schema: dict[str, Any], name: str) -> str:
    """One named declaration (``interface Name {...}`` for object schemas, ``type Name = ...``
    otherwise) plus declarations of the ``$defs`` it references, as TypeScript source.

    "Object schemas" are those with named properties and nothing else that would make them a
    union or an intersection; a map such as ``dict[str, int]`` is ``type Name = Record<...>``.

    Raises `ConfigError` when ``name`` cannot name a type (not an identifier, a keyword, or a
    global type such as ``Record``).
    """
    if not is_type_name(name):
        raise ConfigError(
            f"{name!r} cannot name a TypeScript type: it must be an identifier and "
            "neither a keyword nor a global type such as Record or Error"
        )
    renderer = Renderer()
    renderer.names.claim(name)
    renderer.render_document(schema, name)
    return "\n\n".join(renderer.declarations) + "\n"
