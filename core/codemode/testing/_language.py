"""Conformance: the language, tool calls, console, errors and values that cannot cross."""

from __future__ import annotations

import time

import pytest

from codemode.isolate import ConsoleEntry, IsolateConfig, IsolateDriver
from codemode.testing._harness import error_name, run_program, sync
from codemode.testing._tools import Recorder, bindings
from codemode.tools import tool


class LanguageConformance:
    """What a program can do and what it gets back."""

    # Language and results -------------------------------------------------------------

    @sync
    async def test_top_level_await_and_return(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const x = await Promise.resolve(41);\nreturn x + 1")
        assert result.success, result.error
        assert result.value == 42

    @sync
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

    @sync
    async def test_no_return_gives_none(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const x = 1;")
        assert result.success
        assert result.value is None

    @sync
    async def test_modern_builtins(self, driver: IsolateDriver) -> None:
        code = "return [[3, 1, 2].toSorted(), Object.keys(Object.groupBy([1, 2, 3], x => x % 2 ? 'odd' : 'even'))]"
        result = await run_program(driver, code)
        assert result.value == [[1, 2, 3], ["odd", "even"]]

    # Tool calls ----------------------------------------------------------------------------

    @sync
    async def test_external_calls_return_promises(self, driver: IsolateDriver) -> None:
        code = "const p = external_echo({ i: 7 });\nreturn [p instanceof Promise, (await p).i]"
        result = await run_program(driver, code)
        assert result.value == [True, 7]

    @sync
    async def test_tool_arguments_and_results_cross_as_json(self, driver: IsolateDriver) -> None:
        recorder = Recorder()
        code = 'const n = await external_record({ a: [1, "two", null], b: { c: true } });\nreturn n'
        result = await run_program(driver, code, bindings(recorder))
        assert result.value == 1
        assert recorder.calls == [{"a": [1, "two", None], "b": {"c": True}}]

    @sync
    async def test_promise_all_runs_tool_calls_concurrently(self, driver: IsolateDriver) -> None:
        code = "return (await Promise.all([1, 2, 3, 4, 5].map(() => external_sleep({ ms: 300 })))).length"
        started = time.perf_counter()
        result = await run_program(driver, code)
        elapsed = time.perf_counter() - started
        assert result.value == 5
        assert elapsed < 1.0, f"5 concurrent 300 ms calls took {elapsed:.2f}s: they ran one by one"

    @sync
    async def test_tool_error_is_catchable(self, driver: IsolateDriver) -> None:
        code = 'try { await external_fail({ message: "nope" }) } catch (e) { return e.message }'
        result = await run_program(driver, code)
        assert result.success
        assert "nope" in result.value

    @sync
    async def test_uncaught_tool_error_points_at_the_call(self, driver: IsolateDriver) -> None:
        code = "const a = 1;\nconst b = 2;\nawait external_fail({ message: 'boom' });\nreturn a + b"
        result = await run_program(driver, code)
        assert not result.success
        assert result.error is not None
        assert "boom" in result.error.message
        assert result.error.line == 3

    @sync
    async def test_invalid_tool_input_names_tool_and_field(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "return await external_sleep({ ms: 'soon' })")
        assert error_name(result) == "ToolInputError"
        assert result.error is not None
        assert "sleep" in result.error.message
        assert "ms" in result.error.message

    @sync
    async def test_unknown_external_function(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "\nreturn await external_nope({})")
        assert error_name(result) == "ReferenceError"
        assert result.error is not None
        assert result.error.line == 2

    @sync
    async def test_tool_call_limit(self, driver: IsolateDriver) -> None:
        code = "for (let i = 0; i < 10; i++) await external_echo({ i });\nreturn 'done'"
        result = await run_program(driver, code, max_tool_calls=5)
        assert error_name(result) == "ToolCallLimitError"

    # Console ---------------------------------------------------------------------------------

    @sync
    async def test_console_captured_in_order(self, driver: IsolateDriver) -> None:
        code = "console.log('a', 1, {b: 2});\nconsole.info('i');\nconsole.warn('w');\nconsole.error('e');"
        result = await run_program(driver, code)
        assert result.logs == ['a 1 {"b":2}', "[info] i", "[warn] w", "[error] e"]

    @sync
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

    @sync
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

    @sync
    async def test_engine_syntax_error_has_line(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const a = 1;\nreturn )")
        assert error_name(result) == "SyntaxError"
        assert result.error is not None
        assert result.error.line == 2

    @sync
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
    @sync
    async def test_non_json_values_are_named(
        self, driver: IsolateDriver, code: str, what: str
    ) -> None:
        result = await run_program(driver, code)
        assert error_name(result) == "SerializationError"
        assert result.error is not None
        assert what in result.error.message
