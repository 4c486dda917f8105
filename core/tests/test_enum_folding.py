"""Enum initializers fold to the numbers a JavaScript engine computes, or stay runtime code."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from codemode.typescript import strip_types

NODE = shutil.which("node")

# initializer -> the folded value as the stripper writes it
FOLDED = {
    "1 / 0": "Infinity",
    "-1 / 0": "-Infinity",
    "1 / -0": "-Infinity",
    "0 / 0": "NaN",
    "7 / 2": "3.5",
    "5 % 0": "NaN",
    "-5 % 3": "-2",
    "5.5 % 2": "1.5",
    "(1 / 0) % 2": "NaN",
    "5 % (1 / 0)": "5",
    "2 ** 10": "1024",
    "2 ** -1": "0.5",
    "1 ** (0 / 0)": "NaN",
    "(-1) ** (1 / 0)": "NaN",
    "(0 / 0) ** 0": "1",
    "0 ** -1": "Infinity",
    "(-0) ** -1": "-Infinity",
    "(-0) ** -2": "Infinity",
    "(-8) ** 0.5": "NaN",
    "(-8) ** (1 / 3)": "NaN",
    "10 ** 400": "Infinity",
    "(-10) ** 401": "-Infinity",
    "(-10) ** 400": "Infinity",
    "2 ** -2000": "0",
    "1e400": "Infinity",
    "-0": "-0",
    "0x" + "F" * 400: "Infinity",
    "0b" + "1" * 1100: "Infinity",
    "0o" + "7" * 400: "Infinity",
    "0xFFFFFFFFFFFFF800": "1.844674407370955e+19",  # the shortest text for this double
    "0x1F_FFFF_FFFF_FFFF": "9007199254740991",
    "1" + "0" * 400: "Infinity",
    "~5": "-6",
    "1 << 31": "-2147483648",
    "-1 >>> 0": "4294967295",
    "-1 >>> 32": "4294967295",
    "1e300 | 0": "0",
    "(1 / 0) | 0": "0",
    "2 ** 32 + 5 | 0": "5",
    "-7 >> 1": "-4",
    "0.1 + 0.2": "0.30000000000000004",
    "1e21 * 10": "1e+22",
}


@pytest.mark.parametrize(("initializer", "value"), FOLDED.items(), ids=[k[:30] for k in FOLDED])
def test_initializers_fold_to_constants(initializer: str, value: str) -> None:
    output = strip_types(f"enum E {{ A = {initializer} }}")
    assert output.startswith(f"const E = Object.freeze({{ A: {value}, "), output[:120]


def test_folded_values_are_what_an_engine_computes() -> None:
    if NODE is None:
        pytest.skip("node is not installed")
    members = ",\n".join(f"  M{i} = {init}" for i, init in enumerate(FOLDED))
    describe = "(v) => Object.is(v, -0) ? '-0' : String(v)"
    program = (
        strip_types(f"enum E {{\n{members}\n}}")
        + f"\nconst describe = {describe};"
        + "\nconsole.log(JSON.stringify(["
        + ", ".join(f"[describe(E.M{i}), describe({init})]" for i, init in enumerate(FOLDED))
        + "]));"
    )
    done = subprocess.run([NODE, "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout)
    assert len(pairs) == len(FOLDED)
    assert [folded for folded, _ in pairs] == [engine for _, engine in pairs]


def test_reverse_mapping_of_negative_zero_and_nan() -> None:
    # `{ -0: "A" }` does not parse: keys that start with "-" are computed.
    assert strip_types("enum E { A = -0, B = 0 / 0, C = -1, D = 2 }") == (
        'const E = Object.freeze({ A: -0, [-0]: "A", B: NaN, [NaN]: "B", C: -1, [-1]: "C", '
        'D: 2, 2: "D", });'
    )


@pytest.mark.parametrize(
    "initializer",
    ["'a'.length", "A && 1", "1 < 2", "x ?? 1", "typeof 1", "f(1) + 1", "-'1'", "(1, 2)", "1n"],
)
def test_what_typescript_does_not_fold_is_computed_at_runtime(initializer: str) -> None:
    output = strip_types(f"enum E {{ A = 1, B = {initializer} }}")
    assert output.startswith("const E = (() => { const E = {};")
    assert f'E["B"] = ({initializer});' in output
