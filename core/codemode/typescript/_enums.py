"""TypeScript ``enum`` declarations rewritten as frozen JavaScript objects, line count kept."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Final, TypeAlias

import tree_sitter

from codemode.typescript._tree import Edit, apply, blank, node_text

_Value: TypeAlias = float | bytes  # a number, or the source text of a string literal

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
    env: dict[bytes, _Value] = {}
    # (member node, key as a JS string literal, key if an identifier, value, initializer)
    members: list[tuple[tree_sitter.Node, bytes, bytes | None, _Value | None, bytes | None]] = []
    previous: _Value | None = -1.0
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
        value: _Value | None
        initializer = None
        if value_node is None:
            value = previous + 1.0 if isinstance(previous, float) else None
        else:
            value = _evaluate(src, value_node, env, name)
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
                number = _js_number(value)
                reverse = number if value >= 0 and math.isfinite(value) else b"[%s]" % number
                pieces.append((member, b"%s: %s, %s: %s," % (key, number, reverse, literal)))
            elif value is not None:
                pieces.append((member, b"%s: %s," % (key, value)))
        head, tail = b"const %s = Object.freeze({" % name, b"});"
        return _layout(src, node, head, pieces, tail)

    previous_slot = b"-1"
    for member, literal, ident, value, initializer in members:
        slot = b"%s[%s]" % (name, literal)
        if isinstance(value, float):
            code = b"%s[%s = %s] = %s;" % (name, slot, _js_number(value), literal)
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
    return json.dumps(text.decode("utf-8", "surrogatepass"), ensure_ascii=False).encode()


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
    indent = len(src[line_start:offset].decode("utf-8", "surrogatepass"))
    return b"\n" * lines + b" " * indent


_BINARY: Final[dict[bytes, Callable[[float, float], float]]] = {
    b"+": lambda a, b: a + b,
    b"-": lambda a, b: a - b,
    b"*": lambda a, b: a * b,
    b"/": lambda a, b: a / b,
    b"%": math.fmod,
    b"**": lambda a, b: float(a**b),
    b"|": lambda a, b: float(_int32(a) | _int32(b)),
    b"&": lambda a, b: float(_int32(a) & _int32(b)),
    b"^": lambda a, b: float(_int32(a) ^ _int32(b)),
    b"<<": lambda a, b: float(_int32(_int32(a) << (_uint32(b) & 31))),
    b">>": lambda a, b: float(_int32(a) >> (_uint32(b) & 31)),
    b">>>": lambda a, b: float(_uint32(a) >> (_uint32(b) & 31)),
}
_TRANSPARENT: Final = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}
)


def _evaluate(
    src: bytes, node: tree_sitter.Node, env: dict[bytes, _Value], enum: bytes
) -> _Value | None:
    """TypeScript's constant folding of enum initializers; None means "only at runtime"."""
    kind = node.type
    if kind == "number":
        return _parse_number(node_text(src, node))
    if kind == "string":
        return node_text(src, node)
    if kind == "template_string":
        has_substitution = any(c.type == "template_substitution" for c in node.named_children)
        return None if has_substitution else node_text(src, node)
    if kind in _TRANSPARENT:
        return _evaluate(src, node.named_child(0), env, enum)
    if kind == "type_assertion":
        return _evaluate(src, node.named_child(node.named_child_count - 1), env, enum)
    if kind == "identifier":
        return env.get(node_text(src, node))
    if kind == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and prop is not None and node_text(src, obj) == enum:
            return env.get(node_text(src, prop))
        return None
    if kind == "unary_expression":
        operator, argument = (
            node.child_by_field_name("operator"),
            node.child_by_field_name("argument"),
        )
        if operator is None or argument is None:
            return None
        value = _evaluate(src, argument, env, enum)
        if not isinstance(value, float):
            return None
        op = node_text(src, operator)
        if op == b"-":
            return -value
        if op == b"+":
            return value
        if op == b"~":
            return float(~_int32(value))
        return None
    if kind == "binary_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left is None or right is None or operator is None:
            return None
        function = _BINARY.get(node_text(src, operator))
        a, b = _evaluate(src, left, env, enum), _evaluate(src, right, env, enum)
        if function is None or not isinstance(a, float) or not isinstance(b, float):
            return None
        try:
            return function(a, b)
        except (ArithmeticError, ValueError, TypeError):
            return None  # x / 0, or (-8) ** 0.5 turning complex: let the engine compute it
    return None


def _parse_number(text: bytes) -> float | None:
    digits = text.replace(b"_", b"").lower()
    try:
        if digits[:2] in (b"0x", b"0o", b"0b"):
            return float(int(digits, 0))
        if len(digits) > 1 and digits[0] == ord("0") and digits[1:2].isdigit():
            return None  # legacy octal: not valid in strict mode anyway
        return float(digits)
    except ValueError:
        return None  # a BigInt, for instance


def _js_number(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    if value.is_integer() and abs(value) < 2**53:
        return b"%d" % int(value)
    return repr(value).encode()


def _int32(value: float) -> int:
    if not math.isfinite(value):
        return 0
    n = int(value) & 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def _uint32(value: float) -> int:
    return _int32(value) & 0xFFFFFFFF
