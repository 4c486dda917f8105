"""The bound on concurrent executions of one driver, shared by every event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from codemode.sandbox import ConcurrencyLimit, HostDrivenContext
from codemode_quickjs import create_quickjs_isolate_driver


async def test_at_most_limit_holders_and_waiters_go_in_order() -> None:
    limit = ConcurrencyLimit(2)
    order: list[int] = []
    peak = 0

    async def hold(n: int) -> None:
        nonlocal peak
        async with limit:
            peak = max(peak, limit.active)
            order.append(n)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(hold(n) for n in range(6)))
    assert peak == 2
    assert order == list(range(6))
    assert limit.active == 0


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    limit = ConcurrencyLimit(1)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limit.release()
    await asyncio.wait_for(limit.acquire(), 1)
    limit.release()
    assert limit.active == 0


def test_shared_by_loops_on_several_threads() -> None:
    limit = ConcurrencyLimit(1)
    inside = 0
    peak = 0
    guard = threading.Lock()

    async def use() -> None:
        nonlocal inside, peak
        for _ in range(20):
            async with limit:
                with guard:
                    inside += 1
                    peak = max(peak, inside)
                await asyncio.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=asyncio.run, args=(use(),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak == 1
    assert limit.active == 0


async def test_a_driver_runs_at_most_max_concurrency_programs_at_once() -> None:
    from codemode.isolate import IsolateConfig
    from codemode.testing import bindings, sleep

    driver = create_quickjs_isolate_driver(max_concurrency=2)
    config = IsolateConfig(bindings=bindings(sleep))
    contexts: list[HostDrivenContext] = [await driver.create_context(config) for _ in range(4)]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(c.execute("await external_sleep({ ms: 200 }); return 1") for c in contexts)
    )
    elapsed = time.perf_counter() - started
    for context in contexts:
        await context.dispose()
    assert [r.value for r in results] == [1, 1, 1, 1]
    assert elapsed >= 0.39, f"4 programs of 200 ms, 2 at a time, took {elapsed:.2f} s"
    await driver.aclose()
