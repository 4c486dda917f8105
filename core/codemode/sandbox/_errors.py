"""Turning engine errors and stacks into ``NormalizedError`` with the model's own positions.

The program runs as the body of ``(async function __cm_main() {<code>\n})``, so its lines are
the engine's lines and only columns on line 1 shift, by the wrapper's length. Frames of the
prelude are told apart by their ``__cm_`` function names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codemode.errors import ConfigError
from codemode.isolate import NormalizedError

PROGRAM_PREFIX = "(async function __cm_main() {"
PROGRAM_SUFFIX = "\n})"
PROGRAM_FILE = "program.ts"

_FRAME = re.compile(
    r"^\s*at (?:async )?(?:(?P<fn>.+?) \()?"
    r"(?P<file><[^>]*>|[^\s():]+):(?P<line>\d+):(?P<col>\d+)\)?\s*$"
)


def _is_prelude(function: str) -> bool:
    # V8 writes methods as "Object.__cm_start [as start]"; QuickJS as "__cm_start".
    name = function.split(" [as ", 1)[0].rsplit(".", 1)[-1]
    return name.startswith("__cm_") and name != "__cm_main"


def wrap_program(code: str) -> str:
    """The program as an async function expression whose lines match the model's."""
    return PROGRAM_PREFIX + code + PROGRAM_SUFFIX


@dataclass(frozen=True, slots=True)
class Frame:
    function: str | None
    line: int
    column: int


def program_frames(stack: str | None) -> list[Frame]:
    """The frames of ``stack`` that are in the model's program, in model positions."""
    frames: list[Frame] = []
    for text in (stack or "").splitlines():
        match = _FRAME.match(text)
        if match is None:
            continue
        fn = match["fn"]
        if fn is not None and _is_prelude(fn):
            continue
        line, column = int(match["line"]), int(match["col"])
        if line == 1:
            column = max(1, column - len(PROGRAM_PREFIX))
        frames.append(Frame(None if fn in (None, "<anonymous>", "<eval>") else fn, line, column))
    return frames


def _render(frames: list[Frame]) -> str:
    lines: list[str] = []
    repeats = 0
    for index, frame in enumerate(frames):
        if index and frame == frames[index - 1]:
            repeats += 1
            continue
        if repeats:
            lines.append(f"    ... the frame above {repeats} more time(s)")
            repeats = 0
        name = "<program>" if frame.function in (None, "__cm_main") else frame.function
        lines.append(f"    at {name} ({PROGRAM_FILE}:{frame.line}:{frame.column})")
    if repeats:
        lines.append(f"    ... the frame above {repeats} more time(s)")
    return "\n".join(lines)


def normalize(name: str, message: str, stack: str | None) -> NormalizedError:
    """A program failure with its stack reduced to the program's frames."""
    frames = program_frames(stack)
    rendered = f"{name}: {message}"
    if frames:
        rendered += "\n" + _render(frames)
    first = frames[0] if frames else None
    return NormalizedError(
        name=name,
        message=message,
        stack=rendered,
        line=first.line if first else None,
        column=first.column if first else None,
    )


def limit_error(name: str, message: str) -> NormalizedError:
    """A limit was hit: no program frame to point at."""
    return NormalizedError(name=name, message=message, stack=f"{name}: {message}")


def check_driver_options(engine: str, options: dict[str, object]) -> None:
    """``ConfigError`` unless every option is an integer > 0 (for a driver's constructor)."""
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(
                f"{engine} driver option {name} must be an integer > 0, got {value!r}"
            )
