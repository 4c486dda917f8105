"""QuickJS-specific behaviour: options, registration, thread reuse, stack size."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from codemode.errors import ConfigError, ContextError
from codemode.isolate import IsolateConfig
from codemode.plugins import load_driver
from codemode.testing import run_program
from codemode_quickjs import QuickJSIsolateDriver, create_quickjs_isolate_driver


def test_registered_under_its_name() -> None:
    driver = load_driver("quickjs", timeout=1000, memory_limit=64)
    assert isinstance(driver, QuickJSIsolateDriver)
    assert (driver.timeout, driver.memory_limit) == (1000, 64)


@pytest.mark.parametrize("option", ["timeout", "memory_limit", "max_stack_size"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "10"])
def test_bad_options(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=option):
        create_quickjs_isolate_driver(**{option: value})  # type: ignore[arg-type]


async def test_max_stack_size_bounds_recursion_depth() -> None:
    code = "let d = 0; function f() { d++; f() } try { f() } catch (e) {} return d"
    small = await run_program(create_quickjs_isolate_driver(max_stack_size=64 * 1024), code)
    large = await run_program(create_quickjs_isolate_driver(max_stack_size=1024 * 1024), code)
    assert small.value < large.value


async def test_engine_threads_are_reused() -> None:
    driver = create_quickjs_isolate_driver()
    await run_program(driver, "return 1")
    before = threading.active_count()
    for _ in range(50):
        await run_program(driver, "return 1")
    assert threading.active_count() <= before + 1


async def test_many_contexts_at_once() -> None:
    driver = create_quickjs_isolate_driver()
    results = await asyncio.gather(*(run_program(driver, f"return {n} * 2") for n in range(40)))
    assert [r.value for r in results] == [n * 2 for n in range(40)]


async def test_a_context_runs_one_program() -> None:
    context = await create_quickjs_isolate_driver().create_context(IsolateConfig())
    try:
        first = await context.execute("globalThis.kept = 5; return 1")
        with pytest.raises(ContextError, match="already run a program"):
            await context.execute("return kept")
    finally:
        await context.dispose()
    assert first.value == 1


async def test_execute_after_dispose_raises() -> None:
    context = await create_quickjs_isolate_driver().create_context(IsolateConfig())
    await context.dispose()
    with pytest.raises(RuntimeError, match="disposed"):
        await context.execute("return 1")


# Stopping a running evaluation from another thread ---------------------------------------


def test_the_interrupter_is_verified_on_this_platform() -> None:
    import sys

    from codemode_quickjs._interrupt import interrupter

    expected = sys.platform != "win32"
    assert interrupter.available is expected


def test_the_interrupter_stops_a_busy_loop_from_another_thread() -> None:
    import quickjs

    from codemode_quickjs._interrupt import interrupter

    context = quickjs.Context()
    context.set_time_limit(30)
    outcome: list[str] = []
    running = threading.Event()

    def busy() -> None:
        running.set()
        try:
            context.eval("while (true) {}")
        except quickjs.JSException as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=busy)
    thread.start()
    running.wait()
    assert interrupter.stop(context, running.is_set)
    thread.join(2)
    assert not thread.is_alive()
    assert outcome
    assert "interrupted" in outcome[0]


def test_the_interrupter_writes_again_while_the_evaluation_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import quickjs

    from codemode_quickjs import _interrupt

    assert _interrupt.interrupter.available  # checked for real, before _stop is replaced
    writes: list[object] = []
    monkeypatch.setattr(_interrupt, "_stop", writes.append)
    still_running = [True]
    busy, idle = quickjs.Context(), quickjs.Context()
    assert _interrupt.interrupter.stop(busy, lambda: still_running[0])
    time.sleep(0.2)
    assert writes.count(busy) == 1 + len(_interrupt._AGAIN_AFTER_S)
    assert _interrupt.interrupter.stop(idle, lambda: False)
    time.sleep(0.1)
    assert writes.count(idle) == 1


# The time limit of a turn of many jobs ----------------------------------------------------

# One turn that never waits on the host: every `await` is one more promise job.
_JOBS_FOREVER = "for (;;) { await null }"


async def test_a_turn_of_endless_jobs_stops_at_the_deadline() -> None:
    # With the interrupter, the engine's own limit is set once per turn; between jobs the
    # deadline is still checked, and the host's interrupt still lands.
    started = time.monotonic()
    result = await run_program(create_quickjs_isolate_driver(), _JOBS_FOREVER, timeout=300)
    assert result.error is not None
    assert result.error.name == "TimeoutError"
    assert time.monotonic() - started < 3


async def test_disposing_stops_a_turn_of_endless_jobs() -> None:
    context = await create_quickjs_isolate_driver().create_context(IsolateConfig(timeout=30_000))
    run = asyncio.ensure_future(context.execute(_JOBS_FOREVER))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await context.dispose()
    with pytest.raises(ContextError, match="disposed"):
        await run
    assert time.monotonic() - started < 3


async def test_without_the_interrupter_each_job_gets_what_is_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where the interrupter is not available, the engine's limit is the only one, so it is
    # renewed before every job: a turn of endless jobs still stops.
    from codemode_quickjs import _driver

    class Unavailable:
        available = False

    monkeypatch.setattr(_driver, "interrupter", Unavailable())
    started = time.monotonic()
    result = await run_program(create_quickjs_isolate_driver(), _JOBS_FOREVER, timeout=300)
    assert result.error is not None
    assert result.error.name == "TimeoutError"
    assert time.monotonic() - started < 3
