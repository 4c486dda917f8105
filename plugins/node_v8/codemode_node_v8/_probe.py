"""Checking, in a child process, that mini-racer's V8 loads and runs on this machine.

A native engine built for the wrong CPU or C library can kill the process that loads it, so
the driver first runs a trivial program in ``sys.executable -c ...`` and keeps the verdict
for the life of the process. ``CODEMODE_NODE_V8_PROBE_SCRIPT`` replaces the child's script
(tests use it to make the child crash for real).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

PROBE_SCRIPT = """\
import sys
from py_mini_racer import MiniRacer

with MiniRacer() as engine:
    value = engine.eval("[1, 2, 3].map((x) => x * 2).join()")
sys.stdout.write(str(value))
"""
EXPECTED_OUTPUT = "2,4,6"
SCRIPT_VARIABLE = "CODEMODE_NODE_V8_PROBE_SCRIPT"
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Whether mini-racer's engine works here, and why not when it does not."""

    compatible: bool
    error: str | None = None


_lock = threading.Lock()
_verdicts: dict[str, ProbeResult] = {}


def _script() -> str:
    return os.environ.get(SCRIPT_VARIABLE) or PROBE_SCRIPT


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _run(script: str, timeout: float) -> ProbeResult:
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"a trivial V8 program did not finish within {timeout:g} s")
    except OSError as exc:
        return ProbeResult(False, f"could not start {sys.executable}: {exc}")
    if done.returncode == 0 and done.stdout == EXPECTED_OUTPUT:
        return ProbeResult(True)
    detail = done.stderr.strip().splitlines()[-3:] or [f"it printed {done.stdout[:200]!r}"]
    return ProbeResult(
        False,
        f"a process running a trivial V8 program {_exit_reason(done.returncode)}"
        f" ({' / '.join(detail)})",
    )


def cached_probe() -> ProbeResult | None:
    """The verdict of an earlier probe in this process, if there was one."""
    return _verdicts.get(_script())


def probe_mini_racer(timeout: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Run a trivial program on mini-racer's V8 in a child process (once per process)."""
    script = _script()
    with _lock:
        verdict = _verdicts.get(script)
        if verdict is None:
            verdict = _verdicts[script] = _run(script, timeout)
    return verdict
