"""Run every check of the workspace: lint, format, strict types, each member's tests, then all.

Usage (from the Quick start): python3 -m uv run --all-packages scripts/test.py [pytest args]
Extra arguments go to every pytest run (for example ``-x`` or ``-k conformance``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = [ROOT / "core", *sorted((ROOT / "plugins").iterdir())]


def run(title: str, *command: str) -> bool:
    print(f"\n== {title}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    code = subprocess.call(command, cwd=ROOT)
    outcome = "ok" if code == 0 else f"FAILED ({code})"
    print(f"== {title}: {outcome} in {time.perf_counter() - started:.1f}s")
    return code == 0


def main() -> int:
    extra = sys.argv[1:]
    python = sys.executable
    results = {
        "ruff check": run("ruff check", python, "-m", "ruff", "check", "."),
        "ruff format": run("ruff format", python, "-m", "ruff", "format", "--check", "."),
        "mypy": run("mypy --strict", python, "-m", "mypy"),
    }
    for member in MEMBERS:
        tests = member / "tests"
        if any(tests.glob("test_*.py")):
            name = str(member.relative_to(ROOT))
            results[f"pytest {name}"] = run(
                f"tests of {name}", python, "-m", "pytest", "-q", str(tests), *extra
            )
    dirs = [str(m / "tests") for m in MEMBERS if any((m / "tests").glob("test_*.py"))]
    results["pytest all"] = run("all tests together", python, "-m", "pytest", "-q", *dirs, *extra)
    failed = [name for name, ok in results.items() if not ok]
    print("\n" + ("all checks passed" if not failed else "FAILED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
