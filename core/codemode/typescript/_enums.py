"""TypeScript ``enum`` declarations rewritten as frozen JavaScript objects, line count kept.

When every member folds to a constant (``_folding``) the enum is an object literal with the
reverse mapping of each number; otherwise an IIFE assigns the members in order, as
TypeScript's own output does, so a member may use the ones before it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

import tree_sitter

from codemode.typescript._folding import Value, evaluate, js_number
from codemode.typescript._tree import Edit, apply, blank, node_text

_PLAIN_NAME: Final = re.compile(rb"[A-Za-z_$][\w$]*")
_RESERVED: Final = frozenset(
    b"arguments await break case catch class const continue debugger default delete do else "
    b"enum eval export extends false finally for function if implements import in instanceof "
    b"interface let new null package private protected public return static super switch this "
    b"throw true try typeof var void while with yield".split()
)


def rewrite_enum(src: bytes, node: tree_sitter.Node, edits: list[Edit]) -> bytes:
    """Rewrite an enum as a frozen object (an IIFE if a value needs runtime code)."""
    name_node = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    if name_node is None or body is None:
        return blank(node_text(src, node))
    name = node_text(src, name_node)
    env: dict[bytes, Value] = {}
    # (member node, key as a JS string literal, key if an identifier, value, initializer)
    members: list[tuple[tree_sitter.Node, bytes, bytes | None, Value | None, bytes | None]] = []
    previous: Value | None = -1.0
    for member in body.named_children:
        if member.type == "comment":
            continue
        key_node, value_node = member, None
        if member.type == "enum_assignment":
            key_node = member.child_by_field_name("name") or member
            value_node = member.child_by_field_name("value")
        if key_node.type == "computed_property_name":
            key_node = key_node.named_child(0)
        if key_node.type == "string":
            literal, ident = node_text(src, key_node), None
        else:
            ident = node_text(src, key_node)
            literal = b'"%s"' % ident if _PLAIN_NAME.fullmatch(ident) else _js_string(ident)
        value: Value | None
        initializer = None
        if value_node is None:
            value = previous + 1.0 if isinstance(previous, float) else None
        else:
            value = evaluate(src, value_node, env, name)
            if value is None:
                initializer = apply(src, edits, value_node.start_byte, value_node.end_byte)
        if value is not None and ident is not None:
            env[ident] = value
        previous = value
        members.append((member, literal, ident, value, initializer))

    pieces: list[tuple[tree_sitter.Node, bytes]] = []
    if all(value is not None for _, _, _, value, _ in members):
        for member, literal, ident, value, _ in members:
            # A computed key, so that a member named __proto__ stays an own property.
            key = ident if ident is not None and ident != b"__proto__" else b"[%s]" % literal
            if isinstance(value, float):
                number = js_number(value)
                # -1, -0 and NaN cannot be written as a key: [-1] computes the key "-1".
                plain = math.isfinite(value) and not number.startswith(b"-")
                reverse = number if plain else b"[%s]" % number
                pieces.append((member, b"%s: %s, %s: %s," % (key, number, reverse, literal)))
            elif value is not None:
                pieces.append((member, b"%s: %s," % (key, value)))
        head, tail = b"const %s = Object.freeze({" % name, b"});"
        return _layout(src, node, head, pieces, tail)

    previous_slot = b"-1"
    for member, literal, ident, value, initializer in members:
        slot = b"%s[%s]" % (name, literal)
        if isinstance(value, float):
            code = b"%s[%s = %s] = %s;" % (name, slot, js_number(value), literal)
        elif isinstance(value, bytes):
            code = b"%s = %s;" % (slot, value)
        elif initializer is not None:
            code = b'%s = (%s); if (typeof %s !== "string") %s[%s] = %s;' % (
                slot,
                initializer,
                slot,
                name,
                slot,
                literal,
            )
        else:
            code = b"%s[%s = %s + 1] = %s;" % (name, slot, previous_slot, literal)
        # Later initializers may name earlier members bare, as TypeScript allows.
        if ident is not None and ident != name and ident not in _RESERVED:
            code += b" const %s = %s;" % (ident, slot)
        pieces.append((member, code))
        previous_slot = slot
    head = b"const %s = (() => { const %s = {};" % (name, name)
    tail = b"return Object.freeze(%s); })();" % name
    return _layout(src, node, head, pieces, tail)


def _js_string(text: bytes) -> bytes:
    return json.dumps(text.decode(), ensure_ascii=False).encode()


def _layout(
    src: bytes,
    node: tree_sitter.Node,
    head: bytes,
    pieces: list[tuple[tree_sitter.Node, bytes]],
    tail: bytes,
) -> bytes:
    """Put each member's code on the member's own line so the line count is unchanged."""
    out = [head]
    row = node.start_point[0]
    for member, code in pieces:
        out.append(_move_to(src, member.start_byte, member.start_point[0] - row))
        out.append(code)
        row = member.start_point[0] + code.count(b"\n")
    out.append(_move_to(src, node.end_byte - 1, node.end_point[0] - row))
    out.append(tail)
    return b"".join(out)


def _move_to(src: bytes, offset: int, lines: int) -> bytes:
    if lines <= 0:
        return b" "
    line_start = src.rfind(b"\n", 0, offset) + 1
    indent = len(src[line_start:offset].decode())
    return b"\n" * lines + b" " * indent
