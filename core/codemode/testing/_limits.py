"""Conformance: every limit stops the program with its named error, and the driver recovers."""

from __future__ import annotations

import time

import pytest

from codemode.errors import ConfigError
from codemode.isolate import IsolateConfig, IsolateDriver
from codemode.testing._harness import error_name, run_program, sync


class LimitsConformance:
    """Time, memory, stack, tool calls, console and result size."""

    # Limits --------------------------------------------------------------------------------

    @sync
    async def test_timeout_stops_busy_loop_and_driver_recovers(self, driver: IsolateDriver) -> None:
        started = time.perf_counter()
        result = await run_program(driver, "while (true) {}", timeout=500)
        elapsed = time.perf_counter() - started
        assert error_name(result) == "TimeoutError"
        assert elapsed < 5, f"a 500 ms timeout took {elapsed:.1f}s to stop the program"
        assert (await run_program(driver, "return 1 + 1")).value == 2

    @sync
    async def test_timeout_includes_tool_waits(self, driver: IsolateDriver) -> None:
        started = time.perf_counter()
        result = await run_program(driver, "await external_sleep({ ms: 20000 })", timeout=500)
        assert error_name(result) == "TimeoutError"
        assert time.perf_counter() - started < 5

    @sync
    async def test_timeout_stops_endless_microtasks(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "while (true) { await null }", timeout=500)
        assert error_name(result) == "TimeoutError"

    @sync
    async def test_memory_limit_and_driver_recovers(self, driver: IsolateDriver) -> None:
        code = "const a = [];\nwhile (true) a.push('x'.repeat(1024) + a.length);"
        result = await run_program(driver, code, memory_limit=32, timeout=20_000)
        assert error_name(result) == "MemoryLimitError"
        assert (await run_program(driver, "return 'still fine'")).value == "still fine"

    @sync
    async def test_stack_overflow(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "function f(n) { return f(n + 1) + 1 }\nreturn f(0)")
        assert error_name(result) == "StackOverflowError"

    @sync
    async def test_result_size_limit(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return 'x'.repeat(5000)", max_result_bytes=1000)
        assert error_name(result) == "OutputLimitError"

    @sync
    async def test_fifty_megabyte_return_value(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return 'x'.repeat(50 * 1024 * 1024)")
        assert error_name(result) in ("OutputLimitError", "MemoryLimitError")
        assert result.error is not None
        assert "limit" in result.error.message
        assert (await run_program(driver, "return 'after'")).value == "after"

    @sync
    async def test_log_size_limit(self, driver: IsolateDriver) -> None:
        code = "for (let i = 0; i < 1000; i++) console.log('line ' + i);\nreturn 1"
        result = await run_program(driver, code, max_log_bytes=500)
        assert error_name(result) == "OutputLimitError"

    def test_zero_timeout_is_rejected(self) -> None:
        with pytest.raises(ConfigError, match="timeout"):
            IsolateConfig(timeout=0)
