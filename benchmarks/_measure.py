"""Timing, summaries and peak memory.

A sample is the wall time (``time.perf_counter``) of one action; results are checked after
the clock stops, so checking costs nothing. Warm-up actions run (and are checked) first and
are not recorded. The figure of a workload is the median of its samples.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _workloads import Workload

from codemode import CodeMode

SCALE = {"ms": 1e3, "us": 1e6}
FIRST_RUN_TIMEOUT_S = 120


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the JSON report."""
    print(message, file=sys.stderr, flush=True)


def summary(values: list[float], unit: str, target: float | None) -> dict[str, Any]:
    median = statistics.median(values)
    return {
        "unit": unit,
        "median": round(median, 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "samples": len(values),
        "target": target,
        "meets_target": None if target is None else median <= target,
    }


async def sample(workload: Workload, code_mode: CodeMode, count: int) -> list[float]:
    """Warm up, then time ``count`` actions; raises ``WrongResult`` on a wrong answer."""
    for _ in range(workload.warmup):
        workload.check(await workload.action(code_mode))
    scale = SCALE[workload.unit] / workload.per_sample
    values = []
    for _ in range(count):
        started = time.perf_counter()
        outcome = await workload.action(code_mode)
        elapsed = time.perf_counter() - started
        workload.check(outcome)
        values.append(elapsed * scale)
    return values


def sample_sync(action: Callable[[], object], count: int, warmup: int, unit: str) -> list[float]:
    """The same for a host-side function (W5)."""
    for _ in range(warmup):
        action()
    values = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        values.append((time.perf_counter() - started) * SCALE[unit])
    return values


def _status_mb(key: str) -> float | None:
    """A ``kB`` line of ``/proc/self/status`` (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """This process's resident set size now (``VmRSS``), in MB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> tuple[float, str]:
    """This process's peak resident set size so far, in MB, and how it was read.

    On Linux this is ``VmHWM``, not ``ru_maxrss``: a process started by ``subprocess`` inherits
    in ``ru_maxrss`` the peak of its parent at the moment it was spawned (the kernel folds
    the old address space's peak into it on ``exec``), so a fresh child would report the
    parent's peak. ``VmHWM`` belongs to the child's own address space.
    """
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak, "VmHWM"
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else KiB
    return round(maxrss / per_mb, 1), "ru_maxrss"


def _first_line(
    command: list[str], cwd: Path, expected: str, env: dict[str, str] | None
) -> float | str:
    """Milliseconds from starting ``command`` to its first line on stdout, which must be
    ``expected``; or why not (the process failed or printed something else)."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()  # stderr is read by communicate() below
        elapsed = (time.perf_counter() - started) * 1e3
        try:
            _, stderr = process.communicate(timeout=FIRST_RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            return f"did not exit within {FIRST_RUN_TIMEOUT_S} s of its result"
    if line.strip() != expected or process.returncode != 0:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        return f"exit status {process.returncode}, printed {line.strip()!r}: {tail}"
    return elapsed


def first_results(
    command: list[str], cwd: Path, samples: int, expected: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """W0: ``samples`` fresh starts of ``command``, each timed to its first result line. One
    more start comes first, uncounted: it fills the page cache (and, for Python, the bytecode
    caches) as an installed program's second start would find them."""
    values = []
    for index in range(samples + 1):
        outcome = _first_line(command, cwd, expected, env)
        if isinstance(outcome, str):
            return {"crashed": outcome}
        if index:
            values.append(outcome)
    return summary(values, "ms", None)
