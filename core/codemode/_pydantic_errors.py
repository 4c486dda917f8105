"""One way to turn a pydantic ``ValidationError`` into a message a person (or a model) can act on.

Tool errors, config errors and trust-strategy arguments all report bad values the same way:
``<where>: <reason> (got <value>)``, at most five of them, joined by ``; ``. Only the
``<where>`` differs: a tool says ``input.city``, a config file ``[driver] timeout``. This module
imports nothing of codemode and pydantic only for typing, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pydantic

Location = Sequence[int | str]

MAX_REPORTED = 5
"""More problems than this are counted (``; and 3 more``), not listed: the first few are what
one fixes first, and a message of fifty is read by no one."""

_MAX_VALUE_CHARS = 60
# Reasons that already say everything: the value itself is absent or is the key's name.
_WITHOUT_VALUE = frozenset({"missing", "extra_forbidden"})


def dotted_path(loc: Location, root: str = "") -> str:
    """``("items", 0, "name")`` under ``input`` -> ``input.items[0].name``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def short_repr(value: Any) -> str:
    """``repr`` cut to a readable length, since the bad value may be a whole document."""
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def join_problems(problems: Sequence[str], total: int | None = None) -> str:
    """The first ``MAX_REPORTED`` problems joined by ``; ``, plus how many were left out."""
    total = len(problems) if total is None else total
    shown = list(problems[:MAX_REPORTED])
    more = total - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def describe_validation_error(
    exc: pydantic.ValidationError,
    locate: Callable[[Location], str],
    *,
    unknown_key: str | None = None,
) -> str:
    """``<where>: <reason> (got <value>); ...`` for the errors of ``exc``.

    ``locate`` renders an error's location in the caller's own terms. ``unknown_key``
    replaces pydantic's "Extra inputs are not permitted" when the caller has a word its users
    know better (``unknown key`` for a config file, ``unexpected field`` for a tool input).
    """
    problems = []
    for error in exc.errors(include_url=False)[:MAX_REPORTED]:
        reason = error["msg"]
        if error["type"] == "extra_forbidden" and unknown_key is not None:
            reason = unknown_key
        elif error["type"] not in _WITHOUT_VALUE:
            reason += f" (got {short_repr(error.get('input'))})"
        where = locate(error["loc"])
        problems.append(f"{where}: {reason}" if where else reason)
    return join_problems(problems, exc.error_count())
