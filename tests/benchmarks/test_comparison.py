"""The benchmark suite's comparison with the reference: ratios against the fastest reference
driver that ran, crashes shown as such, and why a reference process failed (the figures
themselves are measured by ``benchmarks/run.py --reference``, not in the test run)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _comparison
import _reference


def _report(results: dict[str, Any], host: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"results": results, "host": host or {}}


FIGURES: dict[str, dict[str, dict[str, Any]]] = {
    "W2": {
        "isolated-vm": {"unit": "us", "median": 50.0, "samples": 5},
        "quickjs-wasm": {"crashed": "exit status 1: RuntimeError: table index is out of bounds"},
    },
    "W4": {
        "isolated-vm": {"unit": "ms", "median": 20.0, "samples": 3},
        "quickjs-wasm": {"unit": "ms", "median": 4000.0, "samples": 3},
    },
    "W7": {
        "isolated-vm": {"unit": "ms", "median": 200.0, "peak_rss_mb": 100.0, "samples": 5},
        "quickjs-wasm": {"error": "result: expected 100, got 90"},
    },
    "W5": {"sucrase": {"unit": "us", "median": 800.0, "samples": 50}},
}


def test_each_figure_is_divided_by_the_fastest_reference_that_ran() -> None:
    report = _report(
        {
            "quickjs": {
                "W2": {"unit": "us", "median": 100.0},
                "W2-sync": {"unit": "us", "median": 25.0},
                "W4": {"unit": "ms", "median": 400.0},
                "W8": {"unit": "ms", "median": 1.0},  # no counterpart: no row
            }
        },
        {"W5": {"unit": "us", "median": 400.0}},
    )
    rows = {(r["workload"], r["driver"]): r for r in _comparison.rows(report, FIGURES)}
    assert set(rows) == {
        ("W2", "quickjs"),
        ("W2-sync", "quickjs"),
        ("W4", "quickjs"),
        ("W5", "host"),
    }
    assert (rows["W2", "quickjs"]["ratio"], rows["W2", "quickjs"]["fastest"]) == (
        2.0,
        "isolated-vm",
    )
    assert rows["W2", "quickjs"]["reference"]["quickjs-wasm"] == "crashed"
    assert rows["W2-sync", "quickjs"]["ratio"] == 0.5  # against the reference's only W2
    assert rows["W4", "quickjs"]["ratio"] == 20.0
    assert (rows["W5", "host"]["ratio"], rows["W5", "host"]["fastest"]) == (0.5, "sucrase")


def test_memory_rows_compare_peak_rss_and_wrong_results_are_named() -> None:
    report = _report({"node": {"W7": {"unit": "ms", "median": 150.0, "peak_rss_mb": 130.0}}})
    rows = _comparison.rows(report, FIGURES)
    time_row, memory_row = rows
    assert (time_row["figure"], time_row["ratio"]) == ("median", 0.75)
    assert (memory_row["figure"], memory_row["unit"], memory_row["ratio"]) == (
        "peak_rss_mb",
        "MB",
        1.3,
    )
    assert memory_row["reference"]["quickjs-wasm"] == "wrong result"


def test_no_ratio_when_every_reference_driver_crashed() -> None:
    figures = {"W2": {"isolated-vm": {"crashed": "killed by SIGSEGV"}}}
    (row,) = _comparison.rows(_report({"quickjs": {"W2": {"unit": "us", "median": 9.0}}}), figures)
    assert (row["ratio"], row["fastest"]) == (None, None)
    assert "| W2 | quickjs | median (us) | 9.0 | crashed | - |" in _comparison.table([row])


def test_the_table_has_one_line_per_row_and_names_the_fastest() -> None:
    report = _report({"quickjs": {"W4": {"unit": "ms", "median": 400.0}}})
    table = _comparison.table(_comparison.rows(report, FIGURES)).splitlines()
    assert (
        table[0] == "| workload | driver | figure | codemode | isolated-vm | quickjs-wasm | ratio |"
    )
    assert (
        table[2] == "| W4 | quickjs | median (ms) | 400.0 | 20.0 | 4000.0 | 20.0 vs isolated-vm |"
    )


@pytest.mark.parametrize(
    ("returncode", "stderr", "expected"),
    [
        (
            1,
            "wasm://wasm/00415c3e:1\n\n\nRuntimeError: table index is out of bounds\n"
            "    at wasm://wasm/00415c3e:wasm-function[978]:0xb2704\n\nNode.js v20.20.2\n",
            "exit status 1: RuntimeError: table index is out of bounds",
        ),
        (-signal.SIGSEGV, "", "killed by SIGSEGV: no error message"),
        (7, "Aborted(Assertion failed: x)\n", "exit status 7: Aborted(Assertion failed: x)"),
    ],
)
def test_a_crash_is_described_by_how_the_process_ended_and_its_error_line(
    returncode: int, stderr: str, expected: str
) -> None:
    assert _reference._crash_reason(returncode, stderr) == expected
