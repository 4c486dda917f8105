"""Constant folding of ``enum`` member initializers, as TypeScript does it, in JavaScript's numbers.

The foldable forms are TypeScript's: number and string literals, earlier members (bare or as
``E.A``), parentheses and type assertions, unary ``+ - ~`` and the arithmetic, shift and
bitwise binary operators. Arithmetic follows IEEE 754 as an engine does, so it never fails:
a literal too large for a double (``0x`` and 400 ``F``) is ``Infinity`` and so is ``1 / 0``,
as TypeScript folds them. (TypeScript's checker refuses a non-finite value in a
``const enum``; this is not a type checker, so it emits the value as for a plain ``enum``.)
Anything else, or anything built on it, is not a constant: the member keeps its initializer
and is computed at runtime, which is what TypeScript emits for such a member too.

The initializer is walked with an explicit stack, so ``1 + 1 + ...`` fifty thousand times or
5,000 nested parentheses cost memory rather than Python recursion (the tree's depth is bounded
before it gets here, in ``_nesting``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeAlias

import tree_sitter

from codemode.typescript._tree import node_text

__all__ = ["Value", "evaluate", "js_number"]

Value: TypeAlias = float | bytes
"""A folded member: a number, or the source text of a string literal."""

_TRANSPARENT: Final = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}
)


@dataclass(frozen=True, slots=True)
class _Apply:
    """Work item: combine the top one (unary) or two (binary) folded operands."""

    operator: bytes
    binary: bool


def evaluate(
    src: bytes, root: tree_sitter.Node, env: dict[bytes, Value], enum: bytes
) -> Value | None:
    """The constant value of an initializer; None means "only known at runtime"."""
    work: list[tree_sitter.Node | _Apply] = [root]
    values: list[Value | None] = []
    while work:
        item = work.pop()
        if isinstance(item, _Apply):
            if item.binary:
                right = values.pop()
                values.append(_binary(item.operator, values.pop(), right))
            else:
                values.append(_unary(item.operator, values.pop()))
            continue
        parts = _parts(src, item)
        if parts is None:
            values.append(_leaf(src, item, env, enum))
        else:
            work += parts
    return values[0]


def _parts(src: bytes, node: tree_sitter.Node) -> list[tree_sitter.Node | _Apply] | None:
    """The work that folds ``node`` from its operands, as a stack; None if there is none."""
    kind = node.type
    inner: tree_sitter.Node | None
    if kind in _TRANSPARENT:
        inner = node.named_child(0)
        return [inner] if inner is not None else None
    if kind == "type_assertion":
        inner = node.named_child(node.named_child_count - 1)
        return [inner] if inner is not None else None
    if kind not in ("unary_expression", "binary_expression"):
        return None
    operator = node.child_by_field_name("operator")
    symbol = node_text(src, operator) if operator is not None else b""
    if kind == "unary_expression":
        argument = node.child_by_field_name("argument")
        if symbol not in _UNARY or argument is None:
            return None
        return [_Apply(symbol, binary=False), argument]
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if symbol not in _BINARY or left is None or right is None:
        return None  # an operator TypeScript does not fold: its operands need no look
    return [_Apply(symbol, binary=True), right, left]


def _leaf(src: bytes, node: tree_sitter.Node, env: dict[bytes, Value], enum: bytes) -> Value | None:
    kind = node.type
    if kind == "number":
        return _parse_number(node_text(src, node))
    if kind == "string":
        return node_text(src, node)
    if kind == "template_string":
        has_substitution = any(c.type == "template_substitution" for c in node.named_children)
        return None if has_substitution else node_text(src, node)
    if kind == "identifier":
        return env.get(node_text(src, node))
    if kind == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and prop is not None and node_text(src, obj) == enum:
            return env.get(node_text(src, prop))
    return None


def _parse_number(text: bytes) -> float | None:
    digits = text.replace(b"_", b"").lower()
    try:
        if digits[:2] in (b"0x", b"0o", b"0b"):
            return _to_double(int(digits, 0))
        if len(digits) > 1 and digits[0] == ord("0") and digits[1:2].isdigit():
            return None  # legacy octal: not valid in strict mode anyway
        return float(digits)  # rounds as JavaScript does; 1e999 is inf
    except ValueError:
        return None  # a BigInt, for instance


def _to_double(n: int) -> float:
    try:
        return float(n)  # correctly rounded, as JavaScript rounds a long hex literal
    except OverflowError:
        return math.inf  # the literal is non-negative


def js_number(value: float) -> bytes:
    """``value`` as a JavaScript numeric expression (``NaN``, ``-Infinity``, ``-0`` included)."""
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    if value == 0 and math.copysign(1.0, value) < 0:
        return b"-0"
    if value.is_integer() and abs(value) < 2**53:
        return b"%d" % int(value)
    return repr(value).encode()  # the shortest text that reads back as this double


def _unary(operator: bytes, value: Value | None) -> Value | None:
    if not isinstance(value, float):
        return None
    return _UNARY[operator](value)


def _binary(operator: bytes, left: Value | None, right: Value | None) -> Value | None:
    if not isinstance(left, float) or not isinstance(right, float):
        return None
    return _BINARY[operator](left, right)


def _divide(a: float, b: float) -> float:
    if b != 0:
        return a / b  # Python overflows to inf here, as JavaScript does
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _remainder(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)  # the sign of the dividend, as JavaScript's %
    except ValueError:
        return math.nan  # x % 0 and Infinity % x


def _power(a: float, b: float) -> float:
    # ECMAScript's Number::exponentiate where it differs from C's pow: NaN for 1 ** NaN and
    # (-1) ** Infinity, and infinities where Python raises.
    if math.isnan(b):
        return math.nan
    if b == 0:
        return 1.0
    if math.isnan(a) or (abs(a) == 1 and math.isinf(b)):
        return math.nan
    odd = math.isfinite(b) and b.is_integer() and math.fmod(b, 2) != 0
    try:
        return math.pow(a, b)
    except OverflowError:
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:  # zero to a negative power, or a negative base to a fraction
        if a != 0:
            return math.nan
        return -math.inf if odd and math.copysign(1.0, a) < 0 else math.inf


def _int32(value: float) -> int:
    if not math.isfinite(value):
        return 0
    n = int(value) & 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def _uint32(value: float) -> int:
    return _int32(value) & 0xFFFFFFFF


_UNARY: Final[dict[bytes, Callable[[float], float]]] = {
    b"-": lambda a: -a,
    b"+": lambda a: a,
    b"~": lambda a: float(~_int32(a)),
}
_BINARY: Final[dict[bytes, Callable[[float, float], float]]] = {
    b"+": lambda a, b: a + b,
    b"-": lambda a, b: a - b,
    b"*": lambda a, b: a * b,
    b"/": _divide,
    b"%": _remainder,
    b"**": _power,
    b"|": lambda a, b: float(_int32(a) | _int32(b)),
    b"&": lambda a, b: float(_int32(a) & _int32(b)),
    b"^": lambda a, b: float(_int32(a) ^ _int32(b)),
    b"<<": lambda a, b: float(_int32(_int32(a) << (_uint32(b) & 31))),
    b">>": lambda a, b: float(_int32(a) >> (_uint32(b) & 31)),
    b">>>": lambda a, b: float(_uint32(a) >> (_uint32(b) & 31)),
}
