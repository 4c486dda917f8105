"""Hostile programs, part 2: values the sandbox cannot describe, and text that is not UTF-8.

Whatever the program throws or passes to a tool (a proxy whose traps throw, an object whose
``message`` getter throws, a 30 MB message, a stack string of 500,000 frames), the run ends
quickly as a named error with bounded text. Lone UTF-16 surrogates and NUL characters, in
keys, values, errors, console lines, tool results and the program text itself, come out as
UTF-8 text (a lone surrogate as U+FFFD).
"""

from __future__ import annotations

from typing import Any

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._harness import sync as _sync
from codemode.testing._hostile_support import (
    Raising,
    Returning,
    expect_calls,
    expect_logs,
    expect_named_failure,
    expect_success,
    hostile,
)

# JavaScript expressions of values no error normalizer can take at face value.
INDESCRIBABLE = {
    "proxy with throwing traps": "new Proxy({}, { get() { throw new Error('get trap') }, has() { throw new Error('has trap') }, ownKeys() { throw new Error('ownKeys trap') }, getOwnPropertyDescriptor() { throw new Error('descriptor trap') }, getPrototypeOf() { throw new Error('prototype trap') } })",
    "object with throwing getters": "({ get name() { throw new Error('name getter') }, get message() { throw new Error('message getter') }, get stack() { throw new Error('stack getter') } })",
    "error whose getters throw itself": "(() => { const e = new Error('real'); for (const k of ['name', 'message', 'stack']) Object.defineProperty(e, k, { get() { throw e } }); return e })()",
    "message that cannot become a string": "({ name: 'Custom', message: Object.create(null) })",
    "message whose toString throws": "({ message: { toString() { throw new Error('toString') } } })",
    "null-prototype object": "Object.create(null)",
    "null-prototype object with a message": "Object.assign(Object.create(null), { name: 'Custom', message: 'no prototype' })",
    "revoked proxy": "(() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy })()",
    "function": "function thrown() {}",
    "symbol": "Symbol('thrown')",
    "null": "null",
    "undefined": "undefined",
    "BigInt": "12345678901234567890n",
}
HUGE = {
    "proxy returning huge strings": "new Proxy({}, { get: () => 'x'.repeat(2 ** 24), has: () => true, ownKeys: () => ['name', 'message', 'stack'], getOwnPropertyDescriptor: () => ({ value: 'y'.repeat(2 ** 24), enumerable: true, configurable: true }) })",
    "30 MB message and 20 MB name": "(() => { const e = new Error('m'.repeat(30 * 2 ** 20)); e.name = 'n'.repeat(20 * 2 ** 20); return e })()",
    "500,000-frame stack string": "(() => { const e = new Error('deep'); const frames = []; for (let i = 0; i < 500000; i++) frames.push('    at f' + i + ' (<anonymous>:' + (i + 2) + ':3)'); e.stack = 'Error: deep\\n' + frames.join('\\n'); return e })()",
    "32 MB thrown string": "'s'.repeat(2 ** 25)",
}
THROWS = {
    "thrown": "throw (VALUE)",
    "thrown in a then callback": "await Promise.resolve().then(() => { throw (VALUE) })",
}
NOT_AWAITED = "(async () => { throw (VALUE) })(); await external_echo({}); return 'after'"
AS_ARGUMENT = "return await external_echo({ value: (VALUE) })"

LONE, LONE_KEY, NUL = "a\ud800b", {"k\ud800": "v\udc00"}, "a\x00b"
TEXT_TOOLS = [
    Returning("lone", LONE),
    Returning("lone_key", LONE_KEY),
    Returning("nul", NUL),
    Raising("lone_error", "boom\ud800"),
]

# (program, value, host calls, console lines) of programs that must succeed exactly so.
EXACT_TEXT: dict[str, tuple[str, Any, list[tuple[str, Any]], list[str]]] = {
    "lone surrogates in returned keys": (
        r"return { ['a\ud800']: 1, ['😀'.slice(0, 1)]: 2, nested: { ['k\udc00']: ['v\ud800'] } }",
        {"a\ufffd": 1, "\ufffd": 2, "nested": {"k\ufffd": ["v\ufffd"]}},
        [],
        [],
    ),
    "lone surrogates in tool argument keys": (
        r"await external_record({ ['a\ud800']: 'b\udc00', list: ['😀'.slice(0, 1)] }); return 'ok'",
        "ok",
        [("record", {"a\ufffd": "b\ufffd", "list": ["\ufffd"]})],
        [],
    ),
    "lone surrogates in console lines": (
        r"console.log('a\ud800'); console.error('😀'.slice(1), 'x\udc00y'); return 1",
        1,
        [],
        ["a\ufffd", "[error] \ufffd x\ufffdy"],
    ),
    "NUL escapes in the return value": (r"return { ['k\0']: 'a\0b' }", {"k\x00": NUL}, [], []),
    "NUL escapes in tool arguments": (
        r"await external_record({ s: 'a\0b', ['k\0']: 1 }); return 'ok'",
        "ok",
        [("record", {"s": NUL, "k\x00": 1})],
        [],
    ),
    "NUL in a tool result": (
        "const s = await external_nul({}); return [s.length, s.charCodeAt(1)]",
        [3, 0],
        [("nul", {})],
        [],
    ),
    "NUL escapes in console lines": (r"console.log('a\0b'); return 1", 1, [], [NUL]),
}

# Programs that may succeed (with this value) or fail with a named error: the raw text of the
# program, and tool results Python cannot encode as UTF-8.
TEXT_SUCCESS_OR_NAMED: dict[str, tuple[str, Any]] = {
    "raw lone surrogate in a string literal": ("return 'a\ud800b'", "a\ufffdb"),
    "raw lone surrogate in a comment": ("// \ud800\nreturn 1", 1),
    "raw lone surrogate in a key": ("return { 'k\udc00': 1 }", {"k\ufffd": 1}),
    "raw NUL in a string literal": ("return 'a\x00b'", NUL),
    "raw NUL in a comment": ("// \x00\nreturn 1", 1),
    "tool result with a lone surrogate": ("return await external_lone({})", "a\ufffdb"),
    "tool result with a lone surrogate key": (
        "return await external_lone_key({})",
        {"k\ufffd": "v\ufffd"},
    ),
}


def _values(*tables: dict[str, str]) -> list[Any]:
    return [
        pytest.param(value, key in HUGE, id=key) for table in tables for key, value in table.items()
    ]


def _thrown() -> list[Any]:
    # Huge values only by the plainest path: building them is what takes the time.
    cases = [
        pytest.param(path.replace("VALUE", value), False, id=f"{key}, {how}")
        for key, value in INDESCRIBABLE.items()
        for how, path in THROWS.items()
    ]
    cases += [
        pytest.param(THROWS["thrown"].replace("VALUE", value), True, id=f"{key}, thrown")
        for key, value in HUGE.items()
    ]
    return cases


class HostileValues:
    """Section 3: thrown and passed values the sandbox cannot describe as they are."""

    @pytest.mark.timeout(60)
    @pytest.mark.parametrize(("code", "huge"), _thrown())
    @_sync
    async def test_thrown_value_becomes_a_named_error(
        self, driver: IsolateDriver, code: str, huge: bool
    ) -> None:
        run = await hostile(driver, code, timeout=3000)
        # A huge value may run out of memory on its way; a small one is the program's error.
        expect_named_failure(run, not_a_limit=not huge)

    @pytest.mark.timeout(60)
    @pytest.mark.parametrize(("value", "huge"), _values(INDESCRIBABLE, HUGE))
    @_sync
    async def test_rejection_nobody_awaits(
        self, driver: IsolateDriver, value: str, huge: bool
    ) -> None:
        run = await hostile(driver, NOT_AWAITED.replace("VALUE", value), timeout=3000)
        assert run.result is not None
        if run.result.success:
            expect_success(run, "after")
        else:
            expect_named_failure(run, not_a_limit=not huge)

    @pytest.mark.timeout(60)
    @pytest.mark.parametrize(("value", "huge"), _values(INDESCRIBABLE, HUGE))
    @_sync
    async def test_value_as_tool_argument(
        self, driver: IsolateDriver, value: str, huge: bool
    ) -> None:
        run = await hostile(driver, AS_ARGUMENT.replace("VALUE", value), timeout=3000)
        assert run.result is not None
        if run.result.success:
            assert [tool for tool, _ in run.calls] == ["echo"], run.calls
        else:
            expect_named_failure(run, not_a_limit=not huge)


class HostileText:
    """Section 4: lone surrogates and NUL characters, both ways across the boundary."""

    @pytest.mark.parametrize(
        ("code", "value", "calls", "logs"),
        [pytest.param(*case, id=key) for key, case in EXACT_TEXT.items()],
    )
    @_sync
    async def test_text_crosses_as_utf8(
        self,
        driver: IsolateDriver,
        code: str,
        value: Any,
        calls: list[tuple[str, Any]],
        logs: list[str],
    ) -> None:
        run = await hostile(driver, code, tools=TEXT_TOOLS)
        expect_success(run, value)
        expect_calls(run, calls)
        expect_logs(run, logs)

    @pytest.mark.parametrize(
        ("code", "value"),
        [pytest.param(*case, id=key) for key, case in TEXT_SUCCESS_OR_NAMED.items()],
    )
    @_sync
    async def test_text_succeeds_or_is_named(
        self, driver: IsolateDriver, code: str, value: Any
    ) -> None:
        # check_contract has checked that a failure is named and all text is UTF-8.
        run = await hostile(driver, code, tools=TEXT_TOOLS)
        assert run.result is not None
        if run.result.success:
            expect_success(run, value)

    @_sync
    async def test_lone_surrogates_in_error_name_and_message(self, driver: IsolateDriver) -> None:
        run = await hostile(
            driver, r"const e = new Error('bad\ud800'); e.name = 'Name\udc00'; throw e"
        )
        expect_named_failure(run)
        assert run.result is not None
        assert run.result.error is not None
        assert run.result.error.name == "Name\ufffd", run.describe()
        assert "bad\ufffd" in run.result.error.message, run.describe()

    @_sync
    async def test_lone_surrogate_in_a_thrown_string(self, driver: IsolateDriver) -> None:
        run = await hostile(driver, r"throw 'str\ud800'")
        expect_named_failure(run)
        assert run.result is not None
        assert run.result.error is not None
        assert "str\ufffd" in run.result.error.message, run.describe()

    @_sync
    async def test_lone_surrogate_in_a_tool_failure(self, driver: IsolateDriver) -> None:
        run = await hostile(driver, r"await external_fail({ message: 'x\ud800' })")
        expect_named_failure(run)
        expect_calls(run, [("fail", {"message": "x\ufffd"})])
        assert run.result is not None
        assert run.result.error is not None
        assert "x\ufffd" in run.result.error.message, run.describe()

    @pytest.mark.parametrize(
        "code",
        [
            pytest.param(
                "try { await external_lone_error({}) } catch (e) { return e.message }", id="caught"
            ),
            pytest.param("await external_lone_error({})", id="uncaught"),
        ],
    )
    @_sync
    async def test_tool_exception_with_a_lone_surrogate(
        self, driver: IsolateDriver, code: str
    ) -> None:
        run = await hostile(driver, code, tools=TEXT_TOOLS)
        assert run.result is not None
        if run.result.success:
            assert isinstance(run.result.value, str), run.describe()
            assert "boom" in run.result.value, run.describe()
        else:
            expect_named_failure(run, not_a_limit=True)
