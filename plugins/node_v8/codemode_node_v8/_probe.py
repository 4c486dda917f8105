"""Checking, in a child process, that this driver's real code path runs on this machine.

A native engine built for the wrong CPU or C library, or one that faults under the CPU's
memory protection keys, can kill the process that loads it. So before the first context of
a process, the driver runs ``python -m codemode_node_v8._probe`` (``main`` below): the driver
itself, used as an application would and in the conditions that broke it before (threads made
before V8 is initialized, the event loop on one of them, ``asyncio.to_thread``, sync and async
tool calls, contexts disposed and one left alive at exit), and keeps the verdict for the life
of the process; a passed probe is also kept on disk for the next process on the same machine
and install (``_probe_cache``). A child that crashes, hangs or says anything else means
``DriverUnavailableError``, with the reason. ``CODEMODE_NODE_V8_PROBE_SCRIPT`` replaces the
child's Python code (tests use it to make the child crash for real).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

from codemode_node_v8 import _probe_cache

SCRIPT_VARIABLE = "CODEMODE_NODE_V8_PROBE_SCRIPT"
DEFAULT_TIMEOUT_S = 60.0
EXPECTED = "codemode-node-v8 probe: ok"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """Whether the driver works here, and why not when it does not."""

    compatible: bool
    error: str | None = None
    details: str | None = None
    """What the child reported about the machine (V8 version, protection keys)."""


_lock = threading.Lock()
_verdicts: dict[str, ProbeResult] = {}


def _command() -> list[str]:
    script = os.environ.get(SCRIPT_VARIABLE)
    if script:
        return [sys.executable, "-c", script]
    return [sys.executable, "-m", "codemode_node_v8._probe"]


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _run(command: list[str], timeout: float) -> ProbeResult:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult(
            False, f"a trial run of the V8 driver did not finish within {timeout:g} s"
        )
    except OSError as exc:
        return ProbeResult(False, f"could not start {sys.executable}: {exc}")
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines and lines[-1].startswith(EXPECTED):
        return ProbeResult(True, details=lines[-1][len(EXPECTED) :].strip(" ;") or None)
    detail = done.stderr.strip().splitlines()[-3:] or [f"it printed {done.stdout[:200]!r}"]
    return ProbeResult(
        False,
        f"a process running the V8 driver {_exit_reason(done.returncode)} ({' / '.join(detail)})",
    )


def cached_probe() -> ProbeResult | None:
    """The verdict of an earlier probe in this process, if there was one."""
    return _verdicts.get(" ".join(_command()))


def _probe(command: list[str], timeout: float) -> ProbeResult:
    """A passed probe remembered on disk for this machine and install, or a fresh one."""
    stored = os.environ.get(SCRIPT_VARIABLE) is None  # a replaced probe is never stored
    details = _probe_cache.recall(command) if stored else None
    if details is not None:
        return ProbeResult(True, details=details or None)
    verdict = _run(command, timeout)
    if verdict.compatible and stored:
        _probe_cache.remember(command, verdict.details)
    return verdict


def probe_mini_racer(timeout: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Run the driver in a child process (once per process, and once per machine and install
    while it passes: see ``_probe_cache``) and say whether it worked."""
    command = _command()
    key = " ".join(command)
    with _lock:
        verdict = _verdicts.get(key)
        if verdict is None:
            verdict = _verdicts[key] = _probe(command, timeout)
    return verdict


# The child -----------------------------------------------------------------------------------

_PROGRAM = """
const [a, b] = await Promise.all([external_slow({ i: 1 }), external_quick({ i: 2 })]);
const c = await external_quick({ i: a.i + b.i });
return [a.i, b.i, c.i, [1, 2, 3].map((x) => x * 2).join()];
"""
_EXPECTED_VALUE = [1, 2, 3, "2,4,6"]


async def _trial(keep_alive: list[Any]) -> None:
    from codemode.isolate import IsolateConfig
    from codemode.tools import tool
    from codemode_node_v8 import create_node_isolate_driver

    @tool
    async def slow(i: int) -> dict[str, int]:
        """Answer after a hop through the event loop."""
        await asyncio.sleep(0.001)
        return {"i": i}

    @tool
    def quick(i: int) -> dict[str, int]:
        """Answer at once (a sync tool, served on V8's thread)."""
        return {"i": i}

    driver = create_node_isolate_driver(skip_probe=True)
    tools: dict[str, Any] = {"external_slow": slow, "external_quick": quick}
    for _ in range(3):
        context = await driver.create_context(IsolateConfig(bindings=tools, timeout=10_000))
        try:
            result = await context.execute(_PROGRAM)
        finally:
            await context.dispose()
        if not result.success or result.value != _EXPECTED_VALUE:
            raise SystemExit(f"unexpected result: {result}")
    timed = await driver.create_context(IsolateConfig(bindings=tools, timeout=200))
    stopped = await timed.execute("while (true) {}")
    await timed.dispose()
    if stopped.error is None or stopped.error.name != "TimeoutError":
        raise SystemExit(f"a busy loop was not stopped: {stopped}")
    # Left alive until the interpreter exits.
    keep_alive.append(await driver.create_context(IsolateConfig(bindings=tools)))


def main() -> None:
    """The probe's child: run the driver in the conditions that have broken it before."""
    early = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="early")
    early.submit(lambda: None).result()  # a thread that exists before V8 is initialized
    keep_alive: list[Any] = []
    # The first use of V8 comes from that early thread, and a second from asyncio.to_thread.
    early.submit(asyncio.run, _trial(keep_alive)).result()

    async def through_to_thread() -> None:
        await asyncio.to_thread(asyncio.run, _trial(keep_alive))

    asyncio.run(through_to_thread())
    from codemode_node_v8 import _native, _pkeys

    print(f"{EXPECTED}; V8 {_native.engine_version()}; {_pkeys.describe()}", flush=True)
    early.shutdown()


if __name__ == "__main__":
    main()
