"""codemode against the reference measured in the same run: the reference's figures, and the
ratio of each of ours to the reference's fastest driver on that workload (lower is better;
1.0 or under meets the issue's targets).

Variants of ours (``W1-process``, ``W2-sync``, ``W0-process``) are compared with the
reference's only way of doing the same workload. W6 and W7 also compare peak RSS: both sides
measure those in a fresh process and read ``VmHWM``.
"""

from __future__ import annotations

from typing import Any

import _reference
from _measure import progress
from _workloads import Workload

MEMORY_WORKLOADS = ("W6", "W7")


class ReferenceRun:
    """The reference's figures of one run, measured when ``run.py`` reaches each workload."""

    def __init__(self, quick: bool) -> None:
        _reference.ensure_installed()
        self.quick = quick
        self.figures: dict[str, dict[str, dict[str, Any]]] = {}

    def _record(self, workload_id: str, driver: str, entry: dict[str, Any]) -> None:
        self.figures.setdefault(workload_id, {})[driver] = entry
        if "median" in entry:
            text = f"median {entry['median']} {entry['unit']} over {entry['samples']}"
            if "peak_rss_mb" in entry:
                text += f", peak RSS {entry['peak_rss_mb']} MB"
        else:
            text = "CRASHED: " + entry["crashed"] if "crashed" in entry else entry["error"]
        progress(f"  reference {driver}: {text}")

    def first_run(self, samples: int) -> None:
        if "W0" in self.figures:
            return
        progress(f"reference W0: a fresh node to its first result ({samples} starts)")
        for driver in _reference.DRIVERS:
            self._record("W0", driver, _reference.first_run(driver, samples))

    def workload(self, workload: Workload) -> None:
        workload_id = _reference.SAME_WORKLOAD.get(workload.id, workload.id)
        if workload_id in self.figures or workload_id not in _reference.MEASURED:
            return
        count = workload.count(self.quick)
        progress(f"reference {workload_id}: {workload.title} ({workload.warmup} warm-up, {count})")
        for driver in _reference.DRIVERS:
            entry = _reference.measure(driver, workload_id, count, workload.warmup)
            self._record(workload_id, driver, entry)

    def strip(self, count: int, warmup: int) -> None:
        progress(f"reference W5: sucrase via TanStack's stripTypeScript ({warmup} + {count})")
        self._record("W5", "sucrase", _reference.measure("sucrase", "W5", count, warmup))

    def report(self, report: dict[str, Any]) -> dict[str, Any]:
        return {
            "reference": {"packages": _reference.versions(), "results": self.figures},
            "comparison": rows(report, self.figures),
        }


def _figure(entry: dict[str, Any] | None, key: str = "median") -> float | str | None:
    if entry is None:
        return None
    if "crashed" in entry:
        return "crashed"
    if "error" in entry:
        return "wrong result"
    value = entry.get(key)
    return value if isinstance(value, int | float) else None


def _row(
    workload_id: str,
    driver: str,
    ours: float,
    unit: str,
    theirs: dict[str, dict[str, Any]],
    key: str = "median",
) -> dict[str, Any]:
    figures = {name: _figure(entry, key) for name, entry in theirs.items()}
    numbers = {name: value for name, value in figures.items() if isinstance(value, int | float)}
    best = min(numbers, key=lambda name: numbers[name]) if numbers else None
    ratio = round(ours / numbers[best], 2) if best is not None and numbers[best] else None
    return {
        "workload": workload_id, "driver": driver, "figure": key, "unit": unit,
        "codemode": ours, "reference": figures, "fastest": best, "ratio": ratio,
    }  # fmt: skip


def rows(report: dict[str, Any], figures: dict[str, dict[str, dict[str, Any]]]) -> list[Any]:
    """One row per workload and driver of ours that the reference also measured."""
    found = []
    for driver, workloads in report["results"].items():
        for workload_id, entry in workloads.items():
            theirs = figures.get(_reference.SAME_WORKLOAD.get(workload_id, workload_id))
            if not theirs or not entry or "median" not in entry:
                continue
            found.append(_row(workload_id, driver, entry["median"], entry["unit"], theirs))
            if workload_id in MEMORY_WORKLOADS and "peak_rss_mb" in entry:
                found.append(
                    _row(workload_id, driver, entry["peak_rss_mb"], "MB", theirs, "peak_rss_mb")
                )
    strip = report["host"].get("W5")
    if strip and "median" in strip and "W5" in figures:
        found.append(_row("W5", "host", strip["median"], strip["unit"], figures["W5"]))
    return found


def _cell(value: float | str | None) -> str:
    return "-" if value is None else str(value)


def table(comparison: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table (what docs/performance.md keeps)."""
    names = sorted({name for row in comparison for name in row["reference"]})
    head = ["workload", "driver", "figure", "codemode", *names, "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in comparison:
        figure = "peak RSS" if row["figure"] == "peak_rss_mb" else "median"
        cells = [row["workload"], row["driver"], f"{figure} ({row['unit']})"]
        cells.append(_cell(row["codemode"]))
        cells += [_cell(row["reference"].get(name)) for name in names]
        cells.append(_cell(row["ratio"]) + (f" vs {row['fastest']}" if row["fastest"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
