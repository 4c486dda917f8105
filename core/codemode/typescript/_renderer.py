"""JSON Schema to TypeScript declarations: the walk over one or more schema documents.

A `Renderer` collects the declarations of one render: each document's own type, then the
definitions it reaches, in first-use order, under names that are unique across the render.
What each keyword becomes is described in ``codemode.typescript.stubs``.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from codemode.typescript._doc_comments import doc_comment, doc_lines
from codemode.typescript._references import ROOT, Document, lookup, parse_ref
from codemode.typescript._type_syntax import (
    NEVER,
    NULL,
    SCALARS,
    UNDEFINED,
    UNKNOWN,
    Ty,
    intersection,
    literal,
    property_key,
    union,
)
from codemode.typescript.naming import TypeNames, definition_name

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


class Renderer:
    """Declarations for one or more documents, sharing one set of type names."""

    def __init__(self) -> None:
        self.names = TypeNames()
        self.declarations: list[str] = []
        self._shared: dict[tuple[str, str], str] = {}  # (definition key, fingerprint) -> name
        self._pending: deque[tuple[str, object, Document]] = deque()

    def render_document(self, schema: object, name: str) -> None:
        """Declare ``name`` as ``schema``, then the definitions it reaches, in first-use order."""
        document = Document(schema, name)
        self.declarations.append(self._declaration(name, schema, document))
        while self._pending:
            self.declarations.append(self._declaration(*self._pending.popleft()))

    def _declaration(self, name: str, schema: object, document: Document) -> str:
        comment = doc_comment(doc_lines(schema, is_property=False), "")
        if isinstance(schema, dict) and _is_interface(schema):
            body = self._members(schema, document, 1)
            return f"{comment}interface {name} {{\n{body}}}"
        return f"{comment}type {name} = {self._type(schema, document, 0).text};"

    def _ref(self, ref: str, document: Document) -> Ty:
        target = parse_ref(ref)
        if target == ROOT:
            return Ty(document.name)
        if target is None:
            return UNKNOWN
        name = document.ref_names.get(target)
        if name is None:
            schema = lookup(document.root, target)
            if schema is None:
                return UNKNOWN
            key = (target[1], document.fingerprint(target))
            name = self._shared.get(key)
            if name is None:
                name = self.names.claim(definition_name(target[1]))
                self._shared[key] = name
                self._pending.append((name, schema, document))
            document.ref_names[target] = name
        return Ty(name)

    def _type(self, schema: object, document: Document, indent: int) -> Ty:
        """The type of ``schema`` written on a line indented ``indent`` levels."""
        if schema is False:
            return NEVER
        if not isinstance(schema, dict):
            return UNKNOWN
        parts: list[Ty] = []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            parts.append(self._ref(ref, document))
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            parts.extend(self._type(member, document, indent) for member in all_of)
        for key in ("anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list) and members:
                parts.append(union([self._type(m, document, indent) for m in members]))
        base = self._base(schema, document, indent)
        if base is not None:
            # A bare "type" next to a $ref or combinator only restates it; drop the noise.
            bare = not any(keyword in schema for keyword in _STRUCTURAL_KEYWORDS)
            if not bare or all(part == UNKNOWN for part in parts):
                parts.insert(0, base)
        result = intersection(parts)
        if schema.get("nullable") is True:  # OpenAPI 3.0
            result = union([result, NULL])
        return result

    def _base(self, schema: dict[str, Any], document: Document, indent: int) -> Ty | None:
        """The type from ``const``, ``enum`` or ``type``; None when the schema has none."""
        if "const" in schema:
            return literal(schema["const"])
        enum = schema.get("enum")
        if isinstance(enum, list):
            return union([literal(value) for value in enum])
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
        return union([self._of_type(t, schema, document, indent) for t in types])

    def _of_type(self, name: str, schema: dict[str, Any], document: Document, indent: int) -> Ty:
        if name == "object":
            return self._object(schema, document, indent)
        if name == "array":
            return self._array(schema, document, indent)
        return SCALARS.get(name, UNKNOWN)

    def _object(self, schema: dict[str, Any], document: Document, indent: int) -> Ty:
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            body = self._members(schema, document, indent + 1)
            return Ty(f"{{\n{body}{_INDENT * indent}}}")
        values = self._index_values(schema, document, indent)
        if values:
            value = union(values).text
            keys = self._key_type(schema, document, indent)
            if keys is not None:
                return Ty(f"Partial<Record<{keys.text}, {value}>>")
            return Ty(f"Record<string, {value}>")
        if isinstance(properties, dict) or schema.get("additionalProperties") is False:
            return Ty("Record<string, never>")
        return Ty("Record<string, unknown>")

    def _members(self, schema: dict[str, Any], document: Document, indent: int) -> str:
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
            property_types.append(union([ty, UNDEFINED]) if optional else ty)
            comment = doc_comment(doc_lines(subschema, is_property=True), pad)
            mark = "?" if optional else ""
            lines.append(f"{comment}{pad}{property_key(name)}{mark}: {ty.text};\n")
        values = self._index_values(schema, document, indent)
        if values:
            # TypeScript requires every property to fit the index signature.
            index = union([*values, *property_types])
            if "\n" in index.text:
                index = UNKNOWN  # repeating nested object literals would bury the point
            lines.append(f"{pad}[key: string]: {index.text};\n")
        return "".join(lines)

    def _index_values(self, schema: dict[str, Any], document: Document, indent: int) -> list[Ty]:
        values = []
        additional = schema.get("additionalProperties")
        if additional is not None and additional is not False:
            values.append(self._type(additional, document, indent))
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            values.extend(self._type(s, document, indent) for s in patterns.values())
        return values

    def _key_type(self, schema: dict[str, Any], document: Document, indent: int) -> Ty | None:
        """The key type from ``propertyNames`` when it lists the allowed keys."""
        names = schema.get("propertyNames")
        resolved = names
        if isinstance(names, dict) and isinstance(names.get("$ref"), str):
            target = parse_ref(names["$ref"])
            resolved = lookup(document.root, target) if isinstance(target, tuple) else None
        if not isinstance(resolved, dict):
            return None
        values = resolved["enum"] if "enum" in resolved else [resolved.get("const")]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        return self._type(names, document, indent)

    def _array(self, schema: dict[str, Any], document: Document, indent: int) -> Ty:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        rest = items
        if isinstance(items, list):  # draft 7 tuple: items as a list, then additionalItems
            prefix, rest = items, schema.get("additionalItems")
        if isinstance(prefix, list):
            elements = [self._type(s, document, indent).text for s in prefix]
            if rest is not None and rest is not False:
                elements.append(f"...{self._type(rest, document, indent).operand()}[]")
            return Ty(f"[{', '.join(elements)}]")
        if items is False:
            return Ty("[]")
        return Ty(f"{self._type(items, document, indent).operand()}[]")


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
