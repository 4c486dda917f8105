"""Stack normalization: the program's frames, in the model's positions, prelude frames dropped."""

from __future__ import annotations

from codemode.sandbox import PROGRAM_PREFIX, normalize, program_frames


def test_quickjs_frames() -> None:
    stack = (
        "    at __cm_call (<input>:170:20)\n"
        "    at f (<input>:4:9)\n"
        "    at __cm_main (<input>:1:40)\n"
        "    at <eval> (<input>:1:1)\n"
    )
    frames = program_frames(stack)
    assert [(f.function, f.line, f.column) for f in frames] == [
        ("f", 4, 9),
        ("__cm_main", 1, 40 - len(PROGRAM_PREFIX)),
        (None, 1, 1),
    ]


def test_v8_frames_including_method_frames() -> None:
    stack = (
        "Error: boom\n"
        "    at Object.__cm_start [as start] (<anonymous>:200:7)\n"
        "    at helper (<anonymous>:7:11)\n"
        "    at async __cm_main (<anonymous>:12:3)\n"
        "    at <anonymous>:3:5\n"
    )
    frames = program_frames(stack)
    assert [(f.function, f.line) for f in frames] == [("helper", 7), ("__cm_main", 12), (None, 3)]


def test_normalize_renders_program_positions_and_collapses_repeats() -> None:
    stack = "\n".join(["    at f (<input>:2:5)"] * 4)
    error = normalize("RangeError", "too deep", stack)
    assert error.line == 2
    assert error.column == 5
    assert error.stack == (
        "RangeError: too deep\n    at f (program.ts:2:5)\n    ... the frame above 3 more time(s)"
    )


def test_no_frames() -> None:
    error = normalize("Error", "x", None)
    assert (error.line, error.stack) == (None, "Error: x")
