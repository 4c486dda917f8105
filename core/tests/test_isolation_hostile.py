"""The programs of issue 12 that no in-process driver can contain, run in process isolation.

Run in-process, some of them abort the host (V8 fatal errors), grow it by gigabytes (ICU
memory), or keep an engine busy long after the deadline (a heavy builtin between interrupt
polls). In process isolation each ends with a named error, the worker that ran it is killed
or idle, a run beside it is untouched, the host's own memory does not move, and the next
program runs. Never run these in-process in a test.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Iterator

import pytest

from codemode.isolate import IsolateConfig
from codemode.isolation import ProcessIsolatedDriver, WorkerPool
from codemode.isolation._driver import HOST_GRACE_S
from codemode.testing import bindings, run_program, sleep

psutil = pytest.importorskip("psutil")  # a dev dependency, absent from the lowest-versions run

PROGRAMS = {
    "split of a huge string": 'return "x".repeat(2**28).split("").length',
    "fill of a huge array": "return new Array(2**28).fill(1).length",
    "builtin past termination": (
        "return Array.prototype.lastIndexOf.call({ length: 2 ** 53 - 1 }, 1)"
    ),
    "ICU normalize": 'return "a".repeat(2 ** 28).normalize("NFD").length',
    "ICU locale case mapping": 'return "a".repeat(2 ** 27).toLocaleUpperCase("tr").length',
    "ICU Intl.Collator": (
        'return new Intl.Collator().compare("x".repeat(2 ** 27), "x".repeat(2 ** 27) + "y")'
    ),
    "join between interrupt polls": (
        "const a = new Array(5_000_000).fill('x'); while (true) a.join(',')"
    ),
}
NAMED = {"TimeoutError", "MemoryLimitError", "WorkerCrashedError"}
TIMEOUT_MS = 1000
DRIVERS = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            importlib.util.find_spec(module) is None, reason=f"{module} is not installed"
        ),
    )
    for name, module in (("quickjs", "codemode_quickjs"), ("node", "codemode_node_v8"))
]


@pytest.fixture(scope="module", params=DRIVERS)
def pool(request: pytest.FixtureRequest) -> Iterator[WorkerPool]:
    workers = WorkerPool(request.param, size=2)
    assert workers.wait_warm(120)
    yield workers
    workers.close()
    assert workers.pids() == []


def busy(pid: int) -> bool:
    try:
        return psutil.Process(pid).cpu_percent(0.3) > 50
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("code", [pytest.param(c, id=k) for k, c in PROGRAMS.items()])
async def test_a_hostile_program_ends_named_and_harms_nothing(pool: WorkerPool, code: str) -> None:
    assert await asyncio.to_thread(pool.wait_warm, 120)  # a case before may have killed some
    driver = ProcessIsolatedDriver(pool.driver, pool=pool)
    host = psutil.Process()
    host_rss = host.memory_info().rss
    beside = asyncio.ensure_future(
        run_program(
            driver,
            "await external_sleep({ ms: 300 }); return 'beside'",
            tools=bindings(sleep),
        )
    )
    context = await driver.create_context(IsolateConfig(timeout=TIMEOUT_MS, memory_limit=16))
    running = asyncio.ensure_future(context.execute(code))
    await asyncio.sleep(0.02)
    pid = context.pid
    started = time.monotonic()
    result = await running
    elapsed = time.monotonic() - started
    await context.dispose()
    # JavaScript-level refusals (QuickJS has no Intl) are fine too: the program failed, named.
    assert result.error is not None, result
    assert result.error.name in NAMED | {"ReferenceError", "RangeError"}, result.error
    assert elapsed < TIMEOUT_MS / 1000 + HOST_GRACE_S + 1.0, f"came back after {elapsed:.1f} s"
    assert pid is not None
    assert not busy(pid), "the worker that ran it is still busy past the deadline"
    assert (await beside).value == "beside"
    assert host.memory_info().rss - host_rss < 100 * 2**20
    assert (await run_program(driver, "return 'next'")).value == "next"
