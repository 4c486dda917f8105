"""Compare two reports of ``benchmarks/run.py``: the median of each figure, old -> new.

Usage: python benchmarks/compare.py OLD.json NEW.json

Prints one line per figure found in both reports, with the change in percent (negative is
faster), and the commits and machines of both so that unlike runs are not mistaken for a
regression.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def figures(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {("host", wid): entry for wid, entry in report.get("host", {}).items()}
    for driver, workloads in report.get("results", {}).items():
        found |= {(driver, wid): entry for wid, entry in workloads.items()}
    return {key: entry for key, entry in found.items() if "median" in entry}


def describe(report: dict[str, Any]) -> str:
    git = report.get("git") or {}
    commit = str(git.get("commit", "?"))[:10] + (" (dirty)" if git.get("dirty") else "")
    cpu = report.get("machine", {}).get("cpu_model")
    return f"{commit} {report.get('mode')} on {cpu}, {report.get('date')}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    old, new = (json.loads(Path(p).read_text(encoding="utf-8")) for p in argv)
    print(f"old: {describe(old)}\nnew: {describe(new)}")
    before = figures(old)
    for key, entry in figures(new).items():
        if key in before:
            a, b = before[key]["median"], entry["median"]
            change = f"{(b - a) / a * 100:+.1f}%" if a else "n/a"
            print(f"{key[0]:>8} {key[1]:<8} {a:>10} -> {b:>10} {entry['unit']:<2}  {change}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
