"""The isolate driver conformance suite: every guarantee of the driver contract, as tests.

Run it against any driver with a few lines of pytest::

    import pytest
    from codemode.testing import DriverConformance
    from my_driver import create_my_driver

    class TestMyDriver(DriverConformance):
        @pytest.fixture
        def driver(self):
            return create_my_driver()

The tests are plain functions that run their own event loop, so no pytest plugin is needed.
Bounds on time are deliberately generous: they tell "concurrent" from "sequential" and
"stopped" from "hung", not fast from slow (that is the benchmarks' job).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from codemode.errors import ConfigError
from codemode.isolate import (
    ConsoleEntry,
    ExecutionResult,
    IsolateConfig,
    IsolateDriver,
    ToolBinding,
)
from codemode.testing._tools import Recorder, bindings, echo, fail, sleep
from codemode.tools import tool

F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, None]])


def _sync(fn: F) -> Callable[..., None]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


async def run_program(
    driver: IsolateDriver,
    code: str,
    tools: dict[str, ToolBinding] | None = None,
    **limits: Any,
) -> ExecutionResult:
    """Run ``code`` in a fresh context of ``driver`` (disposed afterwards)."""
    config = IsolateConfig(
        bindings=tools if tools is not None else bindings(echo, sleep, fail), **limits
    )
    context = await driver.create_context(config)
    try:
        return await context.execute(code)
    finally:
        await context.dispose()


def _error_name(result: ExecutionResult) -> str | None:
    return result.error.name if result.error else None


class DriverConformance:
    """Subclass in a ``Test*`` class and provide a ``driver`` fixture."""

    @pytest.fixture
    def driver(self) -> IsolateDriver:
        raise NotImplementedError("provide a `driver` fixture returning your IsolateDriver")

    # Language and results -------------------------------------------------------------

    @_sync
    async def test_top_level_await_and_return(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const x = await Promise.resolve(41);\nreturn x + 1")
        assert result.success, result.error
        assert result.value == 42

    @_sync
    async def test_json_values_round_trip(self, driver: IsolateDriver) -> None:
        code = 'return {s: "héllo ✓", n: 1.5, i: -3, b: true, z: null, a: [1, [2, {c: "d"}]]}'
        result = await run_program(driver, code)
        assert result.value == {
            "s": "héllo ✓",
            "n": 1.5,
            "i": -3,
            "b": True,
            "z": None,
            "a": [1, [2, {"c": "d"}]],
        }

    @_sync
    async def test_no_return_gives_none(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const x = 1;")
        assert result.success
        assert result.value is None

    @_sync
    async def test_modern_builtins(self, driver: IsolateDriver) -> None:
        code = "return [[3, 1, 2].toSorted(), Object.keys(Object.groupBy([1, 2, 3], x => x % 2 ? 'odd' : 'even'))]"
        result = await run_program(driver, code)
        assert result.value == [[1, 2, 3], ["odd", "even"]]

    # Tool calls ----------------------------------------------------------------------------

    @_sync
    async def test_external_calls_return_promises(self, driver: IsolateDriver) -> None:
        code = "const p = external_echo({ i: 7 });\nreturn [p instanceof Promise, (await p).i]"
        result = await run_program(driver, code)
        assert result.value == [True, 7]

    @_sync
    async def test_tool_arguments_and_results_cross_as_json(self, driver: IsolateDriver) -> None:
        recorder = Recorder()
        code = 'const n = await external_record({ a: [1, "two", null], b: { c: true } });\nreturn n'
        result = await run_program(driver, code, bindings(recorder))
        assert result.value == 1
        assert recorder.calls == [{"a": [1, "two", None], "b": {"c": True}}]

    @_sync
    async def test_promise_all_runs_tool_calls_concurrently(self, driver: IsolateDriver) -> None:
        code = "return (await Promise.all([1, 2, 3, 4, 5].map(() => external_sleep({ ms: 300 })))).length"
        started = time.perf_counter()
        result = await run_program(driver, code)
        elapsed = time.perf_counter() - started
        assert result.value == 5
        assert elapsed < 1.0, f"5 concurrent 300 ms calls took {elapsed:.2f}s: they ran one by one"

    @_sync
    async def test_tool_error_is_catchable(self, driver: IsolateDriver) -> None:
        code = 'try { await external_fail({ message: "nope" }) } catch (e) { return e.message }'
        result = await run_program(driver, code)
        assert result.success
        assert "nope" in result.value

    @_sync
    async def test_uncaught_tool_error_points_at_the_call(self, driver: IsolateDriver) -> None:
        code = "const a = 1;\nconst b = 2;\nawait external_fail({ message: 'boom' });\nreturn a + b"
        result = await run_program(driver, code)
        assert not result.success
        assert result.error is not None
        assert "boom" in result.error.message
        assert result.error.line == 3

    @_sync
    async def test_invalid_tool_input_names_tool_and_field(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return await external_sleep({ ms: 'soon' })")
        assert _error_name(result) == "ToolInputError"
        assert result.error is not None
        assert "sleep" in result.error.message
        assert "ms" in result.error.message

    @_sync
    async def test_unknown_external_function(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "\nreturn await external_nope({})")
        assert _error_name(result) == "ReferenceError"
        assert result.error is not None
        assert result.error.line == 2

    @_sync
    async def test_tool_call_limit(self, driver: IsolateDriver) -> None:
        code = "for (let i = 0; i < 10; i++) await external_echo({ i });\nreturn 'done'"
        result = await run_program(driver, code, max_tool_calls=5)
        assert _error_name(result) == "ToolCallLimitError"

    # Console ---------------------------------------------------------------------------------

    @_sync
    async def test_console_captured_in_order(self, driver: IsolateDriver) -> None:
        code = "console.log('a', 1, {b: 2});\nconsole.info('i');\nconsole.warn('w');\nconsole.error('e');"
        result = await run_program(driver, code)
        assert result.logs == ['a 1 {"b":2}', "[info] i", "[warn] w", "[error] e"]

    @_sync
    async def test_console_streams_before_the_program_ends(self, driver: IsolateDriver) -> None:
        seen: list[ConsoleEntry] = []
        seen_when_called: list[int] = []

        @tool
        async def probe() -> int:
            """Report how many console lines the host had received when it was called."""
            seen_when_called.append(len(seen))
            return len(seen)

        config_tools = bindings(probe)
        config = IsolateConfig(bindings=config_tools, on_console=seen.append)
        context = await driver.create_context(config)
        try:
            result = await context.execute("console.log('first');\nreturn await external_probe({})")
        finally:
            await context.dispose()
        assert result.value == 1
        assert seen_when_called == [1]
        assert seen[0] == ConsoleEntry("log", "first")

    # Errors --------------------------------------------------------------------------------

    @_sync
    async def test_thrown_error_is_normalized_with_line(self, driver: IsolateDriver) -> None:
        code = "const a = 1;\n\nfunction f() {\n  throw new TypeError('bad thing');\n}\nf();"
        result = await run_program(driver, code)
        assert not result.success
        assert result.error is not None
        assert (result.error.name, result.error.message, result.error.line) == (
            "TypeError",
            "bad thing",
            4,
        )

    @_sync
    async def test_engine_syntax_error_has_line(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const a = 1;\nreturn )")
        assert _error_name(result) == "SyntaxError"
        assert result.error is not None
        assert result.error.line == 2

    @_sync
    async def test_non_error_throw(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "throw 'just a string'")
        assert not result.success
        assert result.error is not None
        assert "just a string" in result.error.message

    # Values that cannot cross ----------------------------------------------------------------

    @pytest.mark.parametrize(
        ("code", "what"),
        [
            ("return { f() {} }", "function"),
            ("const a = {}; a.self = a; return a", "cyclic"),
            ("return { n: 10n }", "BigInt"),
            ("return new Map([[1, 2]])", "Map"),
            ("return await external_echo({ value: () => 1 })", "function"),
        ],
    )
    @_sync
    async def test_non_json_values_are_named(
        self, driver: IsolateDriver, code: str, what: str
    ) -> None:
        result = await run_program(driver, code)
        assert _error_name(result) == "SerializationError"
        assert result.error is not None
        assert what in result.error.message

    # Limits --------------------------------------------------------------------------------

    @_sync
    async def test_timeout_stops_busy_loop_and_driver_recovers(self, driver: IsolateDriver) -> None:
        started = time.perf_counter()
        result = await run_program(driver, "while (true) {}", timeout=500)
        elapsed = time.perf_counter() - started
        assert _error_name(result) == "TimeoutError"
        assert elapsed < 5, f"a 500 ms timeout took {elapsed:.1f}s to stop the program"
        assert (await run_program(driver, "return 1 + 1")).value == 2

    @_sync
    async def test_timeout_includes_tool_waits(self, driver: IsolateDriver) -> None:
        started = time.perf_counter()
        result = await run_program(driver, "await external_sleep({ ms: 20000 })", timeout=500)
        assert _error_name(result) == "TimeoutError"
        assert time.perf_counter() - started < 5

    @_sync
    async def test_timeout_stops_endless_microtasks(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "while (true) { await null }", timeout=500)
        assert _error_name(result) == "TimeoutError"

    @_sync
    async def test_memory_limit_and_driver_recovers(self, driver: IsolateDriver) -> None:
        code = "const a = [];\nwhile (true) a.push('x'.repeat(1024) + a.length);"
        result = await run_program(driver, code, memory_limit=32, timeout=20_000)
        assert _error_name(result) == "MemoryLimitError"
        assert (await run_program(driver, "return 'still fine'")).value == "still fine"

    @_sync
    async def test_stack_overflow(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "function f(n) { return f(n + 1) + 1 }\nreturn f(0)")
        assert _error_name(result) == "StackOverflowError"

    @_sync
    async def test_result_size_limit(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return 'x'.repeat(5000)", max_result_bytes=1000)
        assert _error_name(result) == "OutputLimitError"

    @_sync
    async def test_fifty_megabyte_return_value(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return 'x'.repeat(50 * 1024 * 1024)")
        assert _error_name(result) in ("OutputLimitError", "MemoryLimitError")
        assert result.error is not None
        assert "limit" in result.error.message
        assert (await run_program(driver, "return 'after'")).value == "after"

    @_sync
    async def test_log_size_limit(self, driver: IsolateDriver) -> None:
        code = "for (let i = 0; i < 1000; i++) console.log('line ' + i);\nreturn 1"
        result = await run_program(driver, code, max_log_bytes=500)
        assert _error_name(result) == "OutputLimitError"

    def test_zero_timeout_is_rejected(self) -> None:
        with pytest.raises(ConfigError, match="timeout"):
            IsolateConfig(timeout=0)

    # Isolation -------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "expression",
        [
            "typeof require",
            "typeof process",
            "typeof fetch",
            "typeof XMLHttpRequest",
            "typeof WebSocket",
            "typeof Deno",
            "typeof Bun",
            "typeof setTimeout",
            "typeof setInterval",
            "Function('return typeof process')()",
            "({}).constructor.constructor('return typeof require')()",
            "(async () => {}).constructor('return typeof fetch')() && 'undefined'",
            "eval('typeof process')",
            "typeof globalThis.std",
            "typeof globalThis.os",
        ],
    )
    @_sync
    async def test_no_host_capabilities(self, driver: IsolateDriver, expression: str) -> None:
        result = await run_program(driver, f"return {expression}")
        assert result.success, result.error
        assert result.value == "undefined", f"{expression} gave {result.value!r}"

    @_sync
    async def test_dynamic_import_fails(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const m = await import('fs');\nreturn typeof m")
        assert not result.success

    @_sync
    async def test_nothing_leaks_between_contexts(self, driver: IsolateDriver) -> None:
        polluter = (
            "globalThis.leaked = 1; Object.prototype.polluted = 'yes';"
            " Array.prototype.map = () => 'hijacked'; JSON.stringify = () => '\"fake\"'; return 1"
        )
        first = await run_program(driver, polluter)
        assert first.success, first.error
        second = await run_program(
            driver, "return [typeof leaked, ({}).polluted ?? null, [1, 2].map(x => x * 2)]"
        )
        assert second.value == ["undefined", None, [2, 4]]

    @_sync
    async def test_tampering_with_builtins_only_hurts_the_program(
        self, driver: IsolateDriver
    ) -> None:
        code = "JSON.stringify = () => '{broken'; JSON.parse = () => 0; Array.prototype.push = null;\nreturn {ok: true}"
        result = await run_program(driver, code)
        assert result.value == {"ok": True}

    # Concurrency -----------------------------------------------------------------------------

    @_sync
    async def test_contexts_run_at_the_same_time(self, driver: IsolateDriver) -> None:
        code = "await external_sleep({ ms: 400 }); return 1"
        started = time.perf_counter()
        results = await asyncio.gather(*(run_program(driver, code) for _ in range(4)))
        elapsed = time.perf_counter() - started
        assert [r.value for r in results] == [1, 1, 1, 1]
        assert elapsed < 1.2, f"4 contexts each waiting 400 ms took {elapsed:.2f}s"

    @_sync
    async def test_busy_sandbox_does_not_block_the_event_loop(self, driver: IsolateDriver) -> None:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        code = "const end = Date.now() + 600; let n = 0; while (Date.now() < end) n++; return n > 0"
        result = await run_program(driver, code)
        stop.set()
        await ticking
        assert result.value is True
        assert ticks >= 20, f"the event loop ticked only {ticks} times during a 600 ms program"

    @_sync
    async def test_context_can_be_disposed_twice(self, driver: IsolateDriver) -> None:
        context = await driver.create_context(IsolateConfig())
        await context.dispose()
        await context.dispose()

    @_sync
    async def test_lone_surrogates_become_replacement_characters(
        self, driver: IsolateDriver
    ) -> None:
        result = await run_program(
            driver, "console.log('a\\ud800b');\nreturn { text: 'x\\udc00y' }"
        )
        assert result.success, result.error
        assert result.value == {"text": "x\ufffdy"}
        assert result.logs == ["a\ufffdb"]

    @_sync
    async def test_too_deeply_nested_values_are_named(self, driver: IsolateDriver) -> None:
        code = "let o = {};\nfor (let i = 0; i < 2000; i++) o = { o };\nreturn o"
        result = await run_program(driver, code)
        assert _error_name(result) in ("SerializationError", "StackOverflowError")
        assert (await run_program(driver, "return 'fine'")).value == "fine"
