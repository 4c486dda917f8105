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
"""

from __future__ import annotations

import inspect
import json
import math
import re
import urllib.parse
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from codemode.errors import ConfigError, ToolDefinitionError

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
        if not _is_identifier(tool.function_name) or tool.function_name in _KEYWORDS:
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

    renderer = _Renderer()
    # Tool types are claimed before any definition so that they keep their natural
    # names; a colliding definition is the one that gets a suffix.
    names: list[tuple[str, str | None]] = []
    for tool in tools:
        base = _pascal_case(tool.tool_name) or "Tool"
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
            _doc_comment(_description_lines(tool.description), "")
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
    if not _is_type_name(name):
        raise ConfigError(
            f"{name!r} cannot name a TypeScript type: it must be an identifier and "
            "neither a keyword nor a global type such as Record or Error"
        )
    renderer = _Renderer()
    renderer.names.claim(name)
    renderer.render_document(schema, name)
    return "\n\n".join(renderer.declarations) + "\n"


# --- names -------------------------------------------------------------------------------

_KEYWORDS: Final = frozenset(
    # Reserved words, strict-mode reserved words, and TypeScript's contextual keywords and
    # predefined type names: none can name an interface or a type alias.
    """abstract accessor any as asserts async await bigint boolean break case catch class
    const constructor continue debugger declare default delete do else enum export extends
    false finally for from function get global if implements import in infer instanceof
    interface is keyof let module namespace never new null number object of out package
    private protected public readonly require return satisfies set static string super
    switch symbol this throw true try type typeof undefined unique unknown var void while
    with yield""".split()  # noqa: SIM905 (a word list reads better than 80 quoted lines)
)

_GLOBAL_TYPES: Final = frozenset(
    # Global types of the standard library that a declaration would shadow, merge with or
    # clash with; Record and Partial are also used by the stubs themselves.
    """Array ArrayBuffer ArrayLike AsyncGenerator AsyncIterable AsyncIterator Awaited BigInt
    Boolean Capitalize ConstructorParameters DataView Date Error EvalError Exclude Extract
    Function Generator InstanceType Intl Iterable IterableIterator Iterator JSON Lowercase
    Map Math NonNullable Number Object Omit Parameters Partial Pick Promise PromiseLike
    Proxy RangeError Readonly ReadonlyArray ReadonlyMap ReadonlySet Record ReferenceError
    Reflect RegExp Required ReturnType Set String Symbol SyntaxError TemplateStringsArray
    ThisType TypeError URIError Uint8Array Uncapitalize Uppercase WeakMap WeakRef WeakSet
    console globalThis""".split()  # noqa: SIM905
)


def _is_identifier(name: str) -> bool:
    # Python's identifier rules are Unicode ID_Start/ID_Continue like JavaScript's, less "$".
    return name.replace("$", "_").isidentifier()


def _is_type_name(name: str) -> bool:
    return _is_identifier(name) and name not in _KEYWORDS and name not in _GLOBAL_TYPES


def _pascal_case(text: str) -> str:
    """``fetch_weather``, ``fetch-weather`` and ``fetchWeather`` all give ``FetchWeather``."""
    words = []
    for word in re.split(r"[\W_]+", text):
        if not word:
            continue
        if word.isupper() and len(word) > 1:
            word = word.capitalize()  # FETCH_WEATHER reads as FetchWeather, not FETCHWEATHER
        words.append(word[0].upper() + word[1:])
    joined = "".join(c for c in "".join(words) if f"_{c}".isidentifier())
    if joined and not joined[0].isidentifier():
        joined = "T" + joined  # a leading digit
    return joined


@dataclass
class _Names:
    """The type names taken in one render."""

    taken: set[str] = field(default_factory=set)

    def claim(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken or not _is_type_name(name):
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name


def _definition_name(key: str) -> str:
    if _is_identifier(key) and key not in _KEYWORDS:
        return key
    return _pascal_case(key) or "Type"


# --- types -------------------------------------------------------------------------------


_Kind = Literal["primary", "union", "intersection"]


@dataclass(frozen=True, slots=True)
class _Ty:
    """A rendered TypeScript type, and how it binds, so that it gets parens where needed."""

    text: str
    kind: _Kind = "primary"
    members: tuple[_Ty, ...] = ()

    def operand(self) -> str:
        """The type as an operand of ``[]``, ``|`` or ``&``."""
        return self.text if self.kind == "primary" else f"({self.text})"


_UNKNOWN: Final = _Ty("unknown")
_NEVER: Final = _Ty("never")
_NULL: Final = _Ty("null")
_UNDEFINED: Final = _Ty("undefined")
_SCALARS: Final = {
    "string": _Ty("string"),
    "number": _Ty("number"),
    "integer": _Ty("number"),
    "boolean": _Ty("boolean"),
    "null": _NULL,
}


def _union(types: Sequence[_Ty]) -> _Ty:
    flat: dict[str, _Ty] = {}
    for ty in types:
        for member in ty.members if ty.kind == "union" else (ty,):
            if member.text == "unknown":
                return _UNKNOWN
            if member.text != "never":
                flat.setdefault(member.text, member)
    return _combine(flat, "union", " | ", _NEVER)


def _intersection(types: Sequence[_Ty]) -> _Ty:
    flat: dict[str, _Ty] = {}
    for ty in types:
        for member in ty.members if ty.kind == "intersection" else (ty,):
            if member.text == "never":
                return _NEVER
            if member.text != "unknown":
                flat.setdefault(member.text, member)
    return _combine(flat, "intersection", " & ", _UNKNOWN)


def _combine(flat: dict[str, _Ty], kind: _Kind, operator: str, empty: _Ty) -> _Ty:
    if not flat:
        return empty
    if len(flat) == 1:
        return next(iter(flat.values()))
    members = tuple(flat.values())
    return _Ty(operator.join(m.operand() for m in members), kind, members)


def _literal(value: Any) -> _Ty:
    if isinstance(value, float) and not math.isfinite(value):
        return _Ty("number")  # NaN and Infinity have no literal type
    # JSON text is also TypeScript: strings, numbers, true/false/null, and arrays and objects
    # of them read as tuple and object literal types.
    return _Ty(_json(value))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _property_key(name: str) -> str:
    return name if _is_identifier(name) else _json(name)


# --- documentation -----------------------------------------------------------------------


def _description_lines(description: object) -> list[str]:
    if not isinstance(description, str) or not description.strip():
        return []
    return [line.rstrip() for line in inspect.cleandoc(description).splitlines()]


def _doc_lines(schema: object, *, is_property: bool) -> list[str]:
    if not isinstance(schema, dict):
        return []
    lines = _description_lines(schema.get("description"))
    if is_property and "default" in schema:
        lines.append(f"@default {_json(schema['default'])}")
    lines.extend(f"@format {fmt}" for fmt in _formats(schema))
    return lines


def _formats(schema: dict[str, Any]) -> list[str]:
    own = schema.get("format")
    if isinstance(own, str):
        return [own]
    # Optional[datetime] puts the format inside anyOf, next to {"type": "null"}.
    found: dict[str, None] = {}
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        for member in members if isinstance(members, list) else ():
            fmt = member.get("format") if isinstance(member, dict) else None
            if isinstance(fmt, str):
                found[fmt] = None
    return list(found)


def _doc_comment(lines: list[str], pad: str) -> str:
    """A ``/** */`` comment, with a newline after it, or "" when there is nothing to say."""
    lines = [line.replace("*/", "*\\/") for line in lines]
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{pad}/** {lines[0]} */\n"
    body = "".join(f"{pad} * {line}".rstrip() + "\n" for line in lines)
    return f"{pad}/**\n{body}{pad} */\n"


# --- references --------------------------------------------------------------------------

_Target = tuple[str, str]
"""A definition: ("$defs" or "definitions", key)."""

_ROOT: Final = "#"


def _parse_ref(ref: str) -> _Target | Literal["#"] | None:
    if ref == _ROOT:
        return _ROOT
    if not ref.startswith("#/"):
        return None
    # RFC 6901 in a URI fragment: percent-decode, split, then unescape ~1 and ~0.
    parts = urllib.parse.unquote(ref[2:]).split("/")
    if len(parts) != 2 or parts[0] not in ("$defs", "definitions"):
        return None
    return parts[0], parts[1].replace("~1", "/").replace("~0", "~")


def _lookup(root: object, target: _Target) -> object:
    section = root.get(target[0]) if isinstance(root, dict) else None
    return section.get(target[1]) if isinstance(section, dict) else None


def _refs_in(schema: object) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs_in(item)


@dataclass
class _Document:
    """One tool input or output schema: where its ``$ref``s resolve."""

    root: object
    name: str
    ref_names: dict[_Target, str] = field(default_factory=dict)

    def fingerprint(self, start: _Target) -> str:
        """What a definition means here: its schema and those of all it references."""
        reached: dict[str, object] = {}
        pending = [start]
        while pending:
            target = pending.pop()
            label = "/".join(target)
            if label in reached:
                continue
            schema = _lookup(self.root, target)
            reached[label] = schema
            for ref in _refs_in(schema):
                parsed = _parse_ref(ref)
                if parsed == _ROOT:
                    reached[_ROOT] = self.name  # "#" means this document's own type
                elif parsed is not None:
                    pending.append(parsed)
        return json.dumps([start, reached], sort_keys=True, default=repr)


# --- rendering ---------------------------------------------------------------------------

_OBJECT_KEYWORDS: Final = ("properties", "additionalProperties", "patternProperties")
_ARRAY_KEYWORDS: Final = ("items", "prefixItems")
_STRUCTURAL_KEYWORDS: Final = (
    *_OBJECT_KEYWORDS,
    *_ARRAY_KEYWORDS,
    "propertyNames",
    "enum",
    "const",
)
_INDENT: Final = "  "


class _Renderer:
    """Declarations for one or more documents, sharing one set of type names."""

    def __init__(self) -> None:
        self.names = _Names()
        self.declarations: list[str] = []
        self._shared: dict[tuple[str, str], str] = {}  # (definition key, fingerprint) -> name
        self._pending: deque[tuple[str, object, _Document]] = deque()

    def render_document(self, schema: object, name: str) -> None:
        """Declare ``name`` as ``schema``, then the definitions it reaches, in first-use order."""
        document = _Document(schema, name)
        self.declarations.append(self._declaration(name, schema, document))
        while self._pending:
            self.declarations.append(self._declaration(*self._pending.popleft()))

    def _declaration(self, name: str, schema: object, document: _Document) -> str:
        comment = _doc_comment(_doc_lines(schema, is_property=False), "")
        if isinstance(schema, dict) and _is_interface(schema):
            body = self._members(schema, document, 1)
            return f"{comment}interface {name} {{\n{body}}}"
        return f"{comment}type {name} = {self._type(schema, document, 0).text};"

    def _ref(self, ref: str, document: _Document) -> _Ty:
        target = _parse_ref(ref)
        if target == _ROOT:
            return _Ty(document.name)
        if target is None:
            return _UNKNOWN
        name = document.ref_names.get(target)
        if name is None:
            schema = _lookup(document.root, target)
            if schema is None:
                return _UNKNOWN
            key = (target[1], document.fingerprint(target))
            name = self._shared.get(key)
            if name is None:
                name = self.names.claim(_definition_name(target[1]))
                self._shared[key] = name
                self._pending.append((name, schema, document))
            document.ref_names[target] = name
        return _Ty(name)

    def _type(self, schema: object, document: _Document, indent: int) -> _Ty:
        """The type of ``schema`` written on a line indented ``indent`` levels."""
        if schema is False:
            return _NEVER
        if not isinstance(schema, dict):
            return _UNKNOWN
        parts: list[_Ty] = []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            parts.append(self._ref(ref, document))
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            parts.extend(self._type(member, document, indent) for member in all_of)
        for key in ("anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list) and members:
                parts.append(_union([self._type(m, document, indent) for m in members]))
        base = self._base(schema, document, indent)
        if base is not None:
            # A bare "type" next to a $ref or combinator only restates it; drop the noise.
            bare = not any(keyword in schema for keyword in _STRUCTURAL_KEYWORDS)
            if not bare or all(part == _UNKNOWN for part in parts):
                parts.insert(0, base)
        result = _intersection(parts)
        if schema.get("nullable") is True:  # OpenAPI 3.0
            result = _union([result, _NULL])
        return result

    def _base(self, schema: dict[str, Any], document: _Document, indent: int) -> _Ty | None:
        """The type from ``const``, ``enum`` or ``type``; None when the schema has none."""
        if "const" in schema:
            return _literal(schema["const"])
        enum = schema.get("enum")
        if isinstance(enum, list):
            return _union([_literal(value) for value in enum])
        declared = schema.get("type")
        if isinstance(declared, str):
            types = [declared]
        elif isinstance(declared, list):
            types = [t for t in declared if isinstance(t, str)]
        elif any(keyword in schema for keyword in _OBJECT_KEYWORDS):
            types = ["object"]
        elif any(keyword in schema for keyword in _ARRAY_KEYWORDS):
            types = ["array"]
        else:
            return None
        if not types:
            return None
        return _union([self._of_type(t, schema, document, indent) for t in types])

    def _of_type(self, name: str, schema: dict[str, Any], document: _Document, indent: int) -> _Ty:
        if name == "object":
            return self._object(schema, document, indent)
        if name == "array":
            return self._array(schema, document, indent)
        return _SCALARS.get(name, _UNKNOWN)

    def _object(self, schema: dict[str, Any], document: _Document, indent: int) -> _Ty:
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            body = self._members(schema, document, indent + 1)
            return _Ty(f"{{\n{body}{_INDENT * indent}}}")
        values = self._index_values(schema, document, indent)
        if values:
            value = _union(values).text
            keys = self._key_type(schema, document, indent)
            if keys is not None:
                return _Ty(f"Partial<Record<{keys.text}, {value}>>")
            return _Ty(f"Record<string, {value}>")
        if isinstance(properties, dict) or schema.get("additionalProperties") is False:
            return _Ty("Record<string, never>")
        return _Ty("Record<string, unknown>")

    def _members(self, schema: dict[str, Any], document: _Document, indent: int) -> str:
        """The lines inside an interface or object literal, each indented ``indent`` levels."""
        pad = _INDENT * indent
        properties = schema.get("properties")
        listed = schema.get("required")
        required = {r for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
        lines = []
        property_types = []
        for name, subschema in (properties if isinstance(properties, dict) else {}).items():
            ty = self._type(subschema, document, indent)
            optional = name not in required
            property_types.append(_union([ty, _UNDEFINED]) if optional else ty)
            comment = _doc_comment(_doc_lines(subschema, is_property=True), pad)
            mark = "?" if optional else ""
            lines.append(f"{comment}{pad}{_property_key(name)}{mark}: {ty.text};\n")
        values = self._index_values(schema, document, indent)
        if values:
            # TypeScript requires every property to fit the index signature.
            index = _union([*values, *property_types])
            if "\n" in index.text:
                index = _UNKNOWN  # repeating nested object literals would bury the point
            lines.append(f"{pad}[key: string]: {index.text};\n")
        return "".join(lines)

    def _index_values(self, schema: dict[str, Any], document: _Document, indent: int) -> list[_Ty]:
        values = []
        additional = schema.get("additionalProperties")
        if additional is not None and additional is not False:
            values.append(self._type(additional, document, indent))
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            values.extend(self._type(s, document, indent) for s in patterns.values())
        return values

    def _key_type(self, schema: dict[str, Any], document: _Document, indent: int) -> _Ty | None:
        """The key type from ``propertyNames`` when it lists the allowed keys."""
        names = schema.get("propertyNames")
        resolved = names
        if isinstance(names, dict) and isinstance(names.get("$ref"), str):
            target = _parse_ref(names["$ref"])
            resolved = _lookup(document.root, target) if isinstance(target, tuple) else None
        if not isinstance(resolved, dict):
            return None
        values = resolved["enum"] if "enum" in resolved else [resolved.get("const")]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        return self._type(names, document, indent)

    def _array(self, schema: dict[str, Any], document: _Document, indent: int) -> _Ty:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        rest = items
        if isinstance(items, list):  # draft 7 tuple: items as a list, then additionalItems
            prefix, rest = items, schema.get("additionalItems")
        if isinstance(prefix, list):
            elements = [self._type(s, document, indent).text for s in prefix]
            if rest is not None and rest is not False:
                elements.append(f"...{self._type(rest, document, indent).operand()}[]")
            return _Ty(f"[{', '.join(elements)}]")
        if items is False:
            return _Ty("[]")
        return _Ty(f"{self._type(items, document, indent).operand()}[]")


def _is_interface(schema: dict[str, Any]) -> bool:
    """Whether the schema is exactly an object with named properties."""
    properties = schema.get("properties")
    return (
        isinstance(properties, dict)
        and bool(properties)
        and schema.get("type", "object") in ("object", ["object"])
        and not any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "enum", "const"))
        and schema.get("nullable") is not True
    )
