"""Run every check of the workspace: lint, format, strict types, each member's tests, then all.

Usage (from the Quick start): python3 -m uv run --all-packages scripts/test.py [pytest args]
Extra arguments go to every pytest run (for example ``-x`` or ``-k conformance``).

After each member's tests come the tests that span distributions (the top-level ``tests/``;
``npm ci`` there first installs the pinned ``@tanstack/ai-client`` they drive in Node; the
Cloudflare plugin's pinned ``workerd`` is installed the same way before the members' tests).
Last, the core's tests run once more in a throwaway virtualenv holding the *lowest* version
that each ``pyproject.toml`` allows of every direct dependency, so the lower bounds stay true.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = [
    ROOT / "core",
    *sorted((ROOT / "plugins").iterdir()),
    # Third-party style plugins (examples/plugins/*), members of the workspace like the rest.
    *sorted((ROOT / "examples" / "plugins").iterdir()),
]
# What the core's tests import besides the core: the quickjs driver (the CLI and code-mode
# tests run programs on it) and the two skill storages (the skill tests keep skills in them).
# The testing extra brings pytest and pytest-asyncio.
LOWEST_REQUIREMENTS = [
    "./core[testing,server,openai,litellm]",
    "./plugins/quickjs",
    "./plugins/storage_memory",
    "./plugins/storage_fs",
]
# Pinned, not lowest: they are the harness, not something users install with codemode
# (the root config's ``timeout = 120`` is pytest-timeout's option).
HARNESS = ["pytest-timeout"]


def run(title: str, *command: str, env: dict[str, str] | None = None) -> bool:
    print(f"\n== {title}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    code = subprocess.call(command, cwd=ROOT, env=env)
    outcome = "ok" if code == 0 else f"FAILED ({code})"
    print(f"== {title}: {outcome} in {time.perf_counter() - started:.1f}s")
    return code == 0


NPM_FOLDERS = {
    # folder: (what it installs, who needs it)
    "tests": ("@tanstack/ai-client", "the interop tests in tests/"),
    "plugins/cloudflare/codemode_cloudflare/workerd": ("workerd", "the Cloudflare driver's tests"),
}


def npm_ci(folder: str) -> bool:
    """``npm ci`` of ``folder``'s pinned ``package-lock.json``."""
    what, needed_by = NPM_FOLDERS[folder]
    npm = shutil.which("npm")
    if npm is None:
        print(f"\n== npm ci in {folder}: skipped (npm not found; {needed_by} will be skipped)")
        return True
    command = [npm, "ci", "--prefix", folder, "--no-audit", "--no-fund", "--loglevel=error"]
    if run(f"npm ci in {folder}", *command):
        return True
    print(
        f"== npm ci in {folder} failed: it installs {what} from the npm registry "
        f"(pinned in {folder}/package-lock.json), so the registry must be reachable"
    )
    return False


def dev_pin(name: str) -> str:
    """The root ``dev`` group's requirement for ``name`` (``pytest-timeout==2.4.0``)."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())
    group: list[str] = workspace["dependency-groups"]["dev"]
    return next(req for req in group if re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0] == name)


def lowest_direct(extra: list[str]) -> bool:
    """The core's tests with the lowest allowed version of every direct dependency."""
    # ``uv run`` (the README's command) says where uv is; else it must be on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        print("\n== lowest direct versions: FAILED (uv not found; pip install uv)")
        return False
    with tempfile.TemporaryDirectory(prefix="codemode-lowest-") as scratch:
        venv = Path(scratch) / "venv"
        python = str(venv / ("Scripts" if os.name == "nt" else "bin") / "python")
        # The tests must use this venv's ``codemode``, and any program they start with it.
        env = {**os.environ, "VIRTUAL_ENV": str(venv)}
        env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
        return (
            run("lowest: new venv", uv, "venv", "--quiet", "--python", sys.executable, str(venv))
            and run(
                "lowest: install",
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                python,
                # Without this, the workspace's sources would install codemode editable, and
                # the wheel a user gets (package data, py.typed) would go untested.
                "--no-sources",
                "--resolution",
                "lowest-direct",
                *LOWEST_REQUIREMENTS,
                *(dev_pin(name) for name in HARNESS),
            )
            and run("lowest: installed", uv, "pip", "freeze", "--python", python)
            and run(
                "lowest: core tests", python, "-m", "pytest", "-q", "core/tests", *extra, env=env
            )
        )


def main() -> int:
    extra = sys.argv[1:]
    python = sys.executable
    results = {
        "ruff check": run("ruff check", python, "-m", "ruff", "check", "."),
        "ruff format": run("ruff format", python, "-m", "ruff", "format", "--check", "."),
        "mypy": run("mypy --strict", python, "-m", "mypy"),
        "layers": run(
            "import layers (import-linter)",
            str(Path(python).parent / "lint-imports"),
            "--no-cache",
        ),
    }
    # workerd, for the Cloudflare driver's tests (they would install it themselves, elsewhere).
    results["npm ci workerd"] = npm_ci("plugins/cloudflare/codemode_cloudflare/workerd")
    for member in MEMBERS:
        tests = member / "tests"
        if any(tests.glob("test_*.py")):
            name = str(member.relative_to(ROOT))
            results[f"pytest {name}"] = run(
                f"tests of {name}", python, "-m", "pytest", "-q", str(tests), *extra
            )
    results["npm ci"] = npm_ci("tests")
    results["pytest tests"] = results["npm ci"] and run(
        "tests across distributions", python, "-m", "pytest", "-q", "tests", *extra
    )
    dirs = [str(m / "tests") for m in MEMBERS if any((m / "tests").glob("test_*.py"))]
    # In one session, the hostile cases that run in child processes of their own are skipped:
    # they cannot interact with the other tests, and each member's run above just ran them.
    together = {**os.environ, "CODEMODE_TESTS_SKIP_CHILD_CASES": "1"}
    results["pytest all"] = run(
        "all tests together", python, "-m", "pytest", "-q", *dirs, *extra, env=together
    )
    results["lowest direct versions"] = lowest_direct(extra)
    failed = [name for name, ok in results.items() if not ok]
    print("\n" + ("all checks passed" if not failed else "FAILED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
