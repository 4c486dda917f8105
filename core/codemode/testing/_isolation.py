"""Conformance: no host capability, nothing shared between contexts, contexts in parallel."""

from __future__ import annotations

import asyncio
import time

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._harness import error_name, run_program, sync


class IsolationConformance:
    """The sandbox's walls, and contexts side by side."""

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
    @sync
    async def test_no_host_capabilities(self, driver: IsolateDriver, expression: str) -> None:
        result = await run_program(driver, f"return {expression}")
        assert result.success, result.error
        assert result.value == "undefined", f"{expression} gave {result.value!r}"

    @sync
    async def test_dynamic_import_fails(self, driver: IsolateDriver) -> None:
        result = await run_program(driver, "const m = await import('fs');\nreturn typeof m")
        assert not result.success

    @sync
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

    @sync
    async def test_tampering_with_builtins_only_hurts_the_program(
        self, driver: IsolateDriver
    ) -> None:
        code = "JSON.stringify = () => '{broken'; JSON.parse = () => 0; Array.prototype.push = null;\nreturn {ok: true}"
        result = await run_program(driver, code)
        assert result.value == {"ok": True}

    # Concurrency -----------------------------------------------------------------------------

    @sync
    async def test_contexts_run_at_the_same_time(self, driver: IsolateDriver) -> None:
        code = "await external_sleep({ ms: 400 }); return 1"
        started = time.perf_counter()
        results = await asyncio.gather(*(run_program(driver, code) for _ in range(4)))
        elapsed = time.perf_counter() - started
        assert [r.value for r in results] == [1, 1, 1, 1]
        assert elapsed < 1.2, f"4 contexts each waiting 400 ms took {elapsed:.2f}s"

    @sync
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

    @sync
    async def test_lone_surrogates_become_replacement_characters(
        self, driver: IsolateDriver
    ) -> None:
        result = await run_program(
            driver, "console.log('a\\ud800b');\nreturn { text: 'x\\udc00y' }"
        )
        assert result.success, result.error
        assert result.value == {"text": "x\ufffdy"}
        assert result.logs == ["a\ufffdb"]

    @sync
    async def test_too_deeply_nested_values_are_named(self, driver: IsolateDriver) -> None:
        code = "let o = {};\nfor (let i = 0; i < 2000; i++) o = { o };\nreturn o"
        result = await run_program(driver, code)
        assert error_name(result) in ("SerializationError", "StackOverflowError")
        assert (await run_program(driver, "return 'fine'")).value == "fine"
