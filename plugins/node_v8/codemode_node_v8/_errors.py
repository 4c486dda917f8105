"""Reading what V8 reports: a script's exception, and the stack of a failed program."""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from codemode.sandbox import EngineStop, Turn

_HEAD: Final = re.compile(
    r"^<anonymous>:(?P<line>\d+): (?P<name>[A-Za-z_$][\w$]*): (?P<message>.*)$"
)
# V8 names a method frame "at Object.__cm_start [as start] (...)"; the kit drops prelude frames
# by a leading "__cm_" only.
_METHOD_FRAME: Final = re.compile(r"(\s+at (?:async )?)[\w$.]+\.(__cm_[\w$]+) \[as [\w$]+\]")


def plain_prelude_frames(turn: Turn) -> Turn:
    """The turn of a failed program, with V8's method frames of the prelude named as the
    kit recognizes them."""
    failure = turn.failure
    if failure is None or failure.stack is None:
        return turn
    stack = _METHOD_FRAME.sub(r"\1\2", failure.stack)
    return dataclasses.replace(turn, failure=dataclasses.replace(failure, stack=stack))


def engine_error(text: str) -> EngineStop:
    """An exception mini-racer reported for a script: ``<anonymous>:LINE: Name: message``,
    then the source line and a caret line under the position."""
    lines = text.split("\n")
    match = _HEAD.match(lines[0])
    if match is None:
        return EngineStop("error", "Error", lines[0])
    name, message = match["name"], match["message"]
    column = lines[2].find("^") + 1 if len(lines) > 2 and "^" in lines[2] else 1
    stack = f"{name}: {message}\n    at <anonymous>:{match['line']}:{column}"
    if name == "RangeError" and "call stack" in message:
        return EngineStop("stack", name, message, stack)
    return EngineStop("error", name, message, stack)
