"""Hostile programs, part 3: engine specifics and the life cycle of a context.

A program that runs away (a busy loop being disposed or cancelled, a thenable that never
returns, a built-in walking a 2**53 array-like), runs out of memory inside promise jobs, or
makes the engine allocate outside its heap (Unicode and Intl on huge strings) is stopped
with a named error and leaves no engine thread busy. A context runs one program: a second
``execute`` raises, as does one after ``dispose``.

Cases that can abort the process or leave a thread busy for long run in a child process.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from codemode.isolate import IsolateConfig, IsolateDriver
from codemode.testing._harness import sync as _sync
from codemode.testing._hostile_child import IsolatedCase, run_isolated
from codemode.testing._hostile_support import (
    assert_driver_healthy,
    describe_exception,
    expect_error,
    expect_named_failure,
    expect_rss_within,
    expect_success,
    hostile,
    standard_tools,
)
from codemode.testing._hostile_watch import assert_no_busy_thread

GROW = "const a = []; while (true) a.push('x'.repeat(1024) + a.length);"
OUT_OF_MEMORY_IN_JOBS = {
    "in a then callback": f"await Promise.resolve().then(() => {{ {GROW} }})",
    "in an async function whose rejection is caught": f"async function grow() {{ {GROW} }} try {{ await grow() }} catch (e) {{ return 'caught: ' + e }}",
    "in a then callback whose rejection is swallowed": f"return await Promise.resolve().then(() => {{ {GROW} }}).catch(() => 'swallowed')",
    "in a job nobody awaits": f"Promise.resolve().then(() => {{ {GROW} }}); await external_echo({{}}); return 'after'",
    "caught in a try block": f"try {{ {GROW} }} catch (e) {{ return 'caught: ' + e }}",
}

ENDLESS_THENABLES = {
    "awaited": "await { then(resolve) { while (true) {} } }",
    "returned": "return { then(resolve) { while (true) {} } }",
    "awaited after a tool call": "await external_echo({}); await { then() { while (true) {} } }",
}

SPECIES_FIRST = (
    'Object.defineProperty(Promise, Symbol.species, { get() { throw new Error("x") } });\n'
)


def _config(timeout: int) -> IsolateConfig:
    return IsolateConfig(
        bindings={f"external_{t.name}": t for t in standard_tools()}, timeout=timeout
    )


# Cases run in a child process (module-level, so the child can import them) ---------------


async def _huge_array_like(driver: IsolateDriver, call: str) -> None:
    run = await hostile(driver, f"return {call}", timeout=1000)
    # An engine may refuse such a length at once (V8 builds no string past its maximum).
    expect_error(run, "TimeoutError", "MemoryLimitError", "RangeError", "TypeError")
    await assert_no_busy_thread()


async def _off_heap_memory(driver: IsolateDriver, expression: str) -> None:
    run = await hostile(
        driver, f"return {expression}", memory_limit=64, timeout=3000, watch_rss=True
    )
    # What matters is the memory: an operation that needs little outside the heap (a number
    # format of a long digit string gives "∞") may succeed, within the bound.
    assert run.result is not None
    if not run.result.success:
        expect_named_failure(run)
    expect_rss_within(run, 64)


async def _dispose_while_busy(driver: IsolateDriver) -> None:
    context = await driver.create_context(_config(20_000))
    running = asyncio.create_task(context.execute("while (true) {}"))
    await asyncio.sleep(0.3)
    disposing = asyncio.create_task(context.dispose())
    await asyncio.wait({running, disposing}, timeout=2.5)
    problems = [
        f"{what} had not returned 2.5 s after dispose()"
        for what, task in (("execute", running), ("dispose", disposing))
        if not task.done()
    ]
    for what, task, allowed in (("execute", running, RuntimeError), ("dispose", disposing, ())):
        if task.done() and (problem := _ended_badly(task, allowed)):
            problems.append(f"{what} {problem}")
    if running.done() and not running.cancelled() and running.exception() is None:
        result = running.result()
        if result.success or result.error is None or not result.error.name:
            problems.append(f"execute returned {result!r:.300} for a disposed busy loop")
    for task in (running, disposing):
        task.cancel()
    await _then_healthy_and_idle(driver, problems)


def _ended_badly(
    task: asyncio.Task[object], allowed: type[BaseException] | tuple[()]
) -> str | None:
    if task.cancelled():
        return "was cancelled by the driver"
    exc = task.exception()
    if exc is None or isinstance(exc, allowed):
        return None
    return f"raised {describe_exception(exc)}" + (", not a RuntimeError" if allowed else "")


async def _cancel_while_busy(driver: IsolateDriver) -> None:
    context = await driver.create_context(_config(20_000))
    running = asyncio.create_task(context.execute("while (true) {}"))
    await asyncio.sleep(0.3)
    running.cancel()
    await asyncio.wait({running}, timeout=2.5)
    problems = [] if running.done() else ["the cancelled execute had not ended after 2.5 s"]
    try:
        await asyncio.wait_for(context.dispose(), 2.5)
    except Exception as exc:
        problems.append(f"dispose after the cancellation raised {describe_exception(exc)}")
    await _then_healthy_and_idle(driver, problems)


async def _then_healthy_and_idle(driver: IsolateDriver, problems: list[str]) -> None:
    try:
        await assert_driver_healthy(driver)
        await assert_no_busy_thread()
    except (AssertionError, pytest.fail.Exception) as exc:
        problems.append(str(exc))
    assert not problems, "; ".join(problems)


HUGE_ARRAY_LIKES: list[IsolatedCase] = [
    (method, _huge_array_like, (f"Array.prototype.{method}.call({{ length: 2 ** 53 - 1 }}{args})",))
    for method, args in {
        "indexOf": ", 1",
        "lastIndexOf": ", 1",
        "includes": ", 1",
        "fill": ", 1",
        "join": "",
        "reverse": "",
        "sort": "",
        "copyWithin": ", 0, 1",
    }.items()
]
OFF_HEAP: list[IsolatedCase] = [
    (case_id, _off_heap_memory, (expression,))
    for case_id, expression in {
        "normalize": '"a".repeat(2 ** 28).normalize("NFD").length',
        "toLocaleUpperCase": '"a".repeat(2 ** 27).toLocaleUpperCase("tr").length',
        "Intl.Collator.compare": 'new Intl.Collator().compare("x".repeat(2 ** 27), "x".repeat(2 ** 27) + "y")',
        "Intl.Segmenter": 'new Intl.Segmenter("en", { granularity: "word" }).segment("a ".repeat(2 ** 26)).containing(2 ** 27 - 1).index',
        "Intl.NumberFormat.format": 'new Intl.NumberFormat().format("9".repeat(2 ** 27))',
        "localeCompare": '"x".repeat(2 ** 27).localeCompare("x".repeat(2 ** 27) + "y")',
    }.items()
]
RUNAWAY: list[IsolatedCase] = [
    ("dispose while busy", _dispose_while_busy, ()),
    ("cancel while busy", _cancel_while_busy, ()),
]


# One child process runs them all (a fresh one after any case that leaves a thread busy).
ISOLATED = HUGE_ARRAY_LIKES + OFF_HEAP + RUNAWAY


def _ids(group: list[IsolatedCase]) -> list[str]:
    return [case_id for case_id, _, _ in group]


class EngineLimits:
    """Section 5: what the engine does outside the program's view."""

    @pytest.mark.timeout(30)
    @pytest.mark.parametrize(
        "code", [pytest.param(c, id=k) for k, c in OUT_OF_MEMORY_IN_JOBS.items()]
    )
    @_sync
    async def test_out_of_memory_in_promise_jobs(self, driver: IsolateDriver, code: str) -> None:
        run = await hostile(driver, code, memory_limit=32, timeout=3000)
        expect_error(run, "MemoryLimitError")

    @pytest.mark.timeout(30)
    @pytest.mark.parametrize("code", [pytest.param(c, id=k) for k, c in ENDLESS_THENABLES.items()])
    @_sync
    async def test_endless_thenable_times_out(self, driver: IsolateDriver, code: str) -> None:
        run = await hostile(driver, code, timeout=1000)
        expect_error(run, "TimeoutError")
        await assert_no_busy_thread()

    @pytest.mark.parametrize(
        ("code", "value"),
        [
            pytest.param("return 1", 1, id="then returns"),
            pytest.param(
                "return await external_echo({ value: 1 })", {"value": 1}, id="then calls a tool"
            ),
        ],
    )
    @_sync
    async def test_throwing_promise_species_first(
        self, driver: IsolateDriver, code: str, value: object
    ) -> None:
        run = await hostile(driver, SPECIES_FIRST + code)
        assert run.result is not None
        if run.result.success:
            expect_success(run, value)
        else:
            expect_named_failure(run)

    @pytest.mark.timeout(300)
    @pytest.mark.parametrize("case_id", _ids(HUGE_ARRAY_LIKES))
    @_sync
    async def test_huge_array_like_is_stopped(
        self, request: pytest.FixtureRequest, driver: IsolateDriver, case_id: str
    ) -> None:
        await run_isolated(request, driver, ISOLATED, case_id)

    @pytest.mark.timeout(300)
    @pytest.mark.parametrize("case_id", _ids(OFF_HEAP))
    @_sync
    async def test_memory_outside_the_heap_is_bounded(
        self, request: pytest.FixtureRequest, driver: IsolateDriver, case_id: str
    ) -> None:
        await run_isolated(request, driver, ISOLATED, case_id)

    @pytest.mark.timeout(300)
    @pytest.mark.parametrize("case_id", _ids(RUNAWAY))
    @_sync
    async def test_runaway_program_is_stopped(
        self, request: pytest.FixtureRequest, driver: IsolateDriver, case_id: str
    ) -> None:
        await run_isolated(request, driver, ISOLATED, case_id)


FIRST_PROGRAMS = {
    "a plain program": "globalThis.leaked = 1; return 1",
    "a polluting program": "globalThis.leaked = 1; Object.prototype.polluted = 'yes'; Array.prototype.map = () => 'hijacked'; JSON.stringify = () => 'fake'; return 1",
    "a failing program": "globalThis.leaked = 1; throw new Error('first')",
    "a timed-out program": "globalThis.leaked = 1; while (true) {}",
}
PROBE = "return [typeof leaked, ({}).polluted ?? null, [1, 2].map((x) => x * 2)]"
CLEAN = ["undefined", None, [2, 4]]


class ContextLifecycle:
    """Section 6: one program per context; nothing after dispose."""

    @pytest.mark.parametrize("first", [pytest.param(c, id=k) for k, c in FIRST_PROGRAMS.items()])
    @_sync
    async def test_second_execute_raises(self, driver: IsolateDriver, first: str) -> None:
        context = await driver.create_context(_config(1000))
        try:
            try:
                await context.execute(first)
            except Exception as exc:
                pytest.fail(f"the first execute raised {describe_exception(exc)}")
            try:
                second = await context.execute(PROBE)
            except RuntimeError:
                pass
            except Exception as exc:
                pytest.fail(
                    f"the second execute raised {describe_exception(exc)}, not a RuntimeError"
                )
            else:
                carried = second.success and second.value != CLEAN
                note = " (and the first program's state carried over)" if carried else ""
                pytest.fail(
                    f"a second execute on one context returned {second.success=} {second.value=!r}"
                    f" {second.error}{note}, instead of raising a RuntimeError"
                )
        finally:
            await context.dispose()
        await assert_driver_healthy(driver)

    @_sync
    async def test_execute_while_running_raises(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(_config(3000))
        first = asyncio.create_task(context.execute("await external_sleep({ ms: 500 }); return 1"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        try:
            second = await context.execute(PROBE)
        except RuntimeError:
            pass
        except Exception as exc:
            pytest.fail(f"the second execute raised {describe_exception(exc)}, not a RuntimeError")
        else:
            waited = time.monotonic() - started
            pytest.fail(
                f"execute while another runs on the context returned {second.success=}"
                f" {second.value=!r} after {waited:.1f} s, instead of raising a RuntimeError"
            )
        finally:
            await asyncio.wait({first}, timeout=5)
            if first.done() and not first.cancelled():
                first.exception()
            first.cancel()
            await context.dispose()
        await assert_driver_healthy(driver)

    @_sync
    async def test_execute_after_dispose_raises(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(_config(1000))
        await context.dispose()
        with pytest.raises(RuntimeError):
            await context.execute("return 1")
        await assert_driver_healthy(driver)
