"""TypeScript types as text, with just enough structure to flatten and parenthesize them.

A `Ty` knows whether it is a union, an intersection or a primary type, so that ``(A | B)[]``
gets its parentheses and ``A | (B | C)`` flattens to ``A | B | C``; ``unknown`` and ``never``
absorb or vanish in unions and intersections as they do in TypeScript.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from codemode.typescript.naming import is_identifier

_Kind = Literal["primary", "union", "intersection"]


@dataclass(frozen=True, slots=True)
class Ty:
    """A rendered TypeScript type, and how it binds, so that it gets parens where needed."""

    text: str
    kind: _Kind = "primary"
    members: tuple[Ty, ...] = ()

    def operand(self) -> str:
        """The type as an operand of ``[]``, ``|`` or ``&``."""
        return self.text if self.kind == "primary" else f"({self.text})"


UNKNOWN: Final = Ty("unknown")
NEVER: Final = Ty("never")
NULL: Final = Ty("null")
UNDEFINED: Final = Ty("undefined")
SCALARS: Final = {
    "string": Ty("string"),
    "number": Ty("number"),
    "integer": Ty("number"),
    "boolean": Ty("boolean"),
    "null": NULL,
}


def union(types: Sequence[Ty]) -> Ty:
    flat: dict[str, Ty] = {}
    for ty in types:
        for member in ty.members if ty.kind == "union" else (ty,):
            if member.text == "unknown":
                return UNKNOWN
            if member.text != "never":
                flat.setdefault(member.text, member)
    return _combine(flat, "union", " | ", NEVER)


def intersection(types: Sequence[Ty]) -> Ty:
    flat: dict[str, Ty] = {}
    for ty in types:
        for member in ty.members if ty.kind == "intersection" else (ty,):
            if member.text == "never":
                return NEVER
            if member.text != "unknown":
                flat.setdefault(member.text, member)
    return _combine(flat, "intersection", " & ", UNKNOWN)


def _combine(flat: dict[str, Ty], kind: _Kind, operator: str, empty: Ty) -> Ty:
    if not flat:
        return empty
    if len(flat) == 1:
        return next(iter(flat.values()))
    members = tuple(flat.values())
    return Ty(operator.join(m.operand() for m in members), kind, members)


def literal(value: Any) -> Ty:
    if isinstance(value, float) and not math.isfinite(value):
        return Ty("number")  # NaN and Infinity have no literal type
    # JSON text is also TypeScript: strings, numbers, true/false/null, and arrays and objects
    # of them read as tuple and object literal types.
    return Ty(json_text(value))


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def property_key(name: str) -> str:
    return name if is_identifier(name) else json_text(name)
