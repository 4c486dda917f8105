"""Conformance: a context runs one program; dispose and cancellation stop it promptly."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from codemode.isolate import IsolateConfig, IsolateDriver
from codemode.testing._harness import run_program, sync
from codemode.testing._hostile_support import assert_no_busy_thread

_STOP_WITHIN_S = 2.5
"""How long after a dispose or a cancellation the program must have stopped."""


class LifecycleConformance:
    """One program per context; ``dispose`` and task cancellation stop a running program."""

    @sync
    async def test_context_can_be_disposed_twice(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(IsolateConfig())
        await context.dispose()
        await context.dispose()

    @sync
    async def test_a_context_runs_one_program(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(IsolateConfig())
        try:
            first = await context.execute(
                "globalThis.kept = 1; Object.prototype.evil = 1; return 1"
            )
            assert first.value == 1
            # The realm the first program left behind must never run more code.
            with pytest.raises(RuntimeError):
                await context.execute("return [typeof kept, ({}).evil]")
        finally:
            await context.dispose()

    @sync
    async def test_execute_after_dispose_raises(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(IsolateConfig())
        await context.dispose()
        with pytest.raises(RuntimeError):
            await context.execute("return 1")

    @sync
    async def test_dispose_stops_a_running_program(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(IsolateConfig(timeout=30_000))
        running = asyncio.ensure_future(context.execute("while (true) {}"))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        await context.dispose()
        # "Disposed while its program ran" is the caller's own doing: an exception is fine.
        with contextlib.suppress(RuntimeError):
            await asyncio.wait_for(running, _STOP_WITHIN_S)
        elapsed = time.perf_counter() - started
        assert elapsed < _STOP_WITHIN_S, f"the program ran on {elapsed:.1f} s after dispose"
        await assert_no_busy_thread()
        assert (await run_program(driver, "return 'next'")).value == "next"

    @pytest.mark.parametrize(
        "code",
        ["while (true) {}", "while (true) { await null }", "await external_sleep({ ms: 20000 })"],
        ids=["busy loop", "endless microtasks", "waiting on a tool"],
    )
    @sync
    async def test_cancelling_a_run_stops_it(self, driver: IsolateDriver, code: str) -> None:
        task = asyncio.ensure_future(run_program(driver, code, timeout=30_000))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, _STOP_WITHIN_S)
        elapsed = time.perf_counter() - started
        assert elapsed < _STOP_WITHIN_S, f"a cancelled run took {elapsed:.1f} s to stop"
        await assert_no_busy_thread()
        assert (await run_program(driver, "return 'next'")).value == "next"

    @sync
    async def test_no_thread_stays_busy_after_a_timeout(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "while (true) {}", timeout=500)
        assert result.error is not None
        assert result.error.name == "TimeoutError"
        await assert_no_busy_thread()

    @sync
    async def test_aclose_disposes_the_drivers_contexts(self, driver: IsolateDriver) -> None:
        aclose = getattr(driver, "aclose", None)
        if aclose is None:
            pytest.skip("this driver has no aclose()")
        context = await driver.create_context(IsolateConfig(timeout=30_000))
        running = asyncio.ensure_future(context.execute("while (true) {}"))
        await asyncio.sleep(0.2)
        await aclose()
        with contextlib.suppress(RuntimeError):
            await asyncio.wait_for(running, _STOP_WITHIN_S)
        with pytest.raises(RuntimeError):
            await driver.create_context(IsolateConfig())
