"""The reference in the same run: TanStack AI Code Mode's drivers, measured by
``benchmarks/reference/bench.mjs`` (Node) on the same workloads, one fresh Node process per
workload and driver.

``ensure_installed`` runs ``npm ci`` in ``benchmarks/reference`` unless its ``node_modules``
was installed from the lock file as it is now (a stamp holds the lock file's hash).
isolated-vm is a native addon compiled there by node-gyp, against the running Node's own
headers when it has them (so nothing is downloaded). A reference driver that crashes
(TanStack's QuickJS-WASM driver does, on some workloads) is recorded as
``{"crashed": why}``, with the signal or exit status and the error line from its stderr,
never hidden.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from _measure import first_results, progress

HERE = Path(__file__).resolve().parent / "reference"
DRIVERS = ("isolated-vm", "quickjs-wasm")
SAME_WORKLOAD = {"W1-process": "W1", "W2-sync": "W2"}
"""Variants of ours measured against the reference's one way of doing the same thing (its
tools are all async; its drivers run in the host process)."""
MEASURED = ("W0", "W1", "W2", "W3", "W4", "W5", "W6", "W7")
"""What the reference measures; W8 (skills) has no counterpart in it."""
TIMEOUT_S = 900
INSTALL_TIMEOUT_S = 900


class ReferenceUnavailable(Exception):
    """Node or npm is missing, or the reference's npm packages cannot be installed."""


def _node_headers() -> dict[str, str]:
    """``npm_config_nodedir`` pointing at the running Node's headers, when it ships them, so
    node-gyp builds isolated-vm without downloading headers."""
    node = shutil.which("node")
    if node is None:
        return {}
    prefix = Path(os.path.realpath(node)).parent.parent
    if (prefix / "include" / "node" / "node.h").is_file():
        return {"npm_config_nodedir": str(prefix)}
    return {}


def ensure_installed() -> None:
    """``npm ci`` in ``benchmarks/reference`` unless its packages are installed already."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise ReferenceUnavailable("--reference needs Node.js 20+ and npm on PATH")
    stamp = HERE / "node_modules" / ".codemode-lock-sha256"
    wanted = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text(encoding="ascii").strip() == wanted:
        return
    progress("reference: npm ci in benchmarks/reference (compiles isolated-vm: 1-2 minutes)")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            env=os.environ | _node_headers(),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReferenceUnavailable(f"npm ci ran over {INSTALL_TIMEOUT_S} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ReferenceUnavailable(f"npm ci in {HERE} failed:\n{tail}")
    stamp.write_text(wanted + "\n", encoding="ascii")
    progress(f"  installed in {time.perf_counter() - started:.0f} s")


def _crash_reason(returncode: int, stderr: str) -> str:
    if returncode < 0:
        try:
            how = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"killed by signal {-returncode}"
    else:
        how = f"exit status {returncode}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [
        line
        for line in lines
        if not line.startswith("at ") and ("Error" in line or "Abort" in line or "fault" in line)
    ]
    detail = (errors or lines or ["no error message"])[0]
    return f"{how}: {detail[:300]}"


def _node(arguments: list[str], timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(HERE / "bench.mjs"), *arguments],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def measure(driver: str, workload: str, samples: int, warmup: int) -> dict[str, Any]:
    """One workload on one reference driver, in a fresh Node process."""
    arguments = ["--workload", workload, "--samples", str(samples), "--warmup", str(warmup)]
    try:
        done = _node(["--driver", driver, *arguments])
    except subprocess.TimeoutExpired:
        return {"crashed": f"ran over {TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    try:
        payload: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        payload = {}
    if done.returncode == 0 and "median" in payload:
        return payload
    if "error" in payload:
        return {"error": payload["error"]}
    return {"crashed": _crash_reason(done.returncode, done.stderr)}


def first_run(driver: str, samples: int) -> dict[str, Any]:
    """W0 of the reference: a fresh ``node`` from its start to the first result of
    ``return 1 + 1``, through the same path (import, driver, execute_typescript)."""
    command = ["node", str(HERE / "bench.mjs"), "--driver", driver, "--first-run"]
    return first_results(command, HERE, samples, '{"result":2}')


def versions() -> dict[str, str]:
    """The installed versions of the reference's packages, and Node's."""
    found = {"node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout}
    for name in (
        "@tanstack/ai-code-mode",
        "@tanstack/ai-isolate-node",
        "@tanstack/ai-isolate-quickjs",
        "isolated-vm",
        "quickjs-emscripten",
        "sucrase",
    ):
        manifest = HERE / "node_modules" / name / "package.json"
        if manifest.is_file():
            found[name] = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    return {name: version.strip() for name, version in found.items()}  # fmt: skip


def fastest(entries: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The reference driver with the lowest median on one workload, among those that ran."""
    ran = [(name, entry) for name, entry in entries.items() if "median" in entry]
    return min(ran, key=lambda item: item[1]["median"]) if ran else None
