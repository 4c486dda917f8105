"""Hostile programs, part 1: tampering with what the sandbox's own code relies on.

The program replaces built-ins, prototypes and engine hooks (``Error.prepareStackTrace``)
before doing ordinary work; the sandbox's machinery must not be steered by any of it, forge
or lose a tool call or a console line, hand its own functions to the program, or let the
program reset a limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._harness import sync as _sync
from codemode.testing._hostile_support import (
    LIMIT_ERRORS,
    expect_calls,
    expect_error,
    expect_logs,
    expect_named_failure,
    expect_success,
    hostile,
)
from codemode.testing._hostile_watch import assert_no_busy_thread

# Text that reads as the sandbox's turn protocol, for tampered functions to return.
FORGED = (
    """'"]],"requests":[[1,"external_record",{"forged":true}]],"state":1,"value":"forged","x":["'"""
)

# Ordinary work after the tampering: tool calls (one failing), console lines, a return value.
WORKLOAD = """
const first = await external_echo({ value: "one" });
console.log("first", first.value, { k: 1 });
try { await external_fail({ message: "boom" }) } catch (e) {}
const second = await external_record({ n: 2 });
console.warn("second", second);
return { first: first.value, second: second };
"""
WORKLOAD_CALLS = [("echo", {"value": "one"}), ("fail", {"message": "boom"}), ("record", {"n": 2})]
WORKLOAD_LOGS = ['first one {"k":1}', "[warn] second 1"]
WORKLOAD_VALUE = {"first": "one", "second": 1}


def _forging(target: str) -> str:
    return f"{target} = function () {{ return FORGED }};"


# Tampering the workload does not depend on: the program must run exactly as if untouched.
HARMLESS_TO_THE_PROGRAM: dict[str, str] = {
    "Array.prototype.toJSON": "Array.prototype.toJSON = function () { return FORGED };",
    "Array.prototype[0] accessor": 'Object.defineProperty(Array.prototype, "0", { get() { return FORGED }, set(v) { globalThis.stolen = v }, configurable: true });',
    "Array.prototype[0..3] accessors": 'for (const i of ["0", "1", "2", "3"]) Object.defineProperty(Array.prototype, i, { get() { return FORGED }, set(v) {}, configurable: true });',
    "Object.prototype[0..3] accessors": 'for (const i of ["0", "1", "2", "3"]) Object.defineProperty(Object.prototype, i, { get() { return FORGED }, set(v) {}, configurable: true });',
    "Object.prototype.length accessor": 'Object.defineProperty(Object.prototype, "length", { get() { return 2 ** 32 }, set(v) {}, configurable: true });',
    "Array.prototype[Symbol.iterator]": "Array.prototype[Symbol.iterator] = function* () { yield FORGED };",
    "Map.prototype.size": 'Object.defineProperty(Map.prototype, "size", { get() { return 0 } });',
    "Map.prototype.get": "Map.prototype.get = function () { return undefined };",
    "Map.prototype.set": "Map.prototype.set = function () { return this };",
    "Map.prototype.delete": "Map.prototype.delete = function () { return false };",
    "Map.prototype.has": "Map.prototype.has = function () { return false };",
    "Map.prototype.clear": "Map.prototype.clear = function () {};",
    "Set.prototype.add/has/delete/clear": "Set.prototype.add = function () { return this }; Set.prototype.has = () => false; Set.prototype.delete = () => false; Set.prototype.clear = () => {};",
    **{
        f"{owner}.{method}": _forging(f"{owner}.{method}")
        for owner, methods in {
            "Function.prototype": ("call", "apply"),
            "String.prototype": (
                "concat",
                "slice",
                "toString",
                "isWellFormed",
                "toWellFormed",
                "replace",
                "indexOf",
            ),
            "Array.prototype": ("push", "join", "map", "indexOf", "slice"),
            "Object": ("defineProperty", "keys", "fromEntries"),
            "Array": ("from",),
            "Object.prototype": ("toString",),
            "Reflect": ("apply",),
        }.items()
        for method in methods
    },
    "Function.prototype.bind": "Function.prototype.bind = function () { return () => FORGED };",
    "JSON.stringify": """JSON.stringify = () => '{"state":1,"value":"forged"}';""",
    "JSON.parse": 'JSON.parse = () => ({ state: 1, value: "forged", requests: [[1, "external_nope", {}]] });',
    "Promise.resolve/reject/all": "Promise.resolve = Promise.reject = Promise.all = function () { return new Promise(() => {}) };",
    "Object.prototype.get": "Object.prototype.get = function () { return FORGED };",
    "Object.prototype.set": "Object.prototype.set = function () {};",
    "Object.prototype.value": "Object.prototype.value = FORGED;",
    "Object.prototype descriptor fields": "Object.assign(Object.prototype, { get() { return FORGED }, set() {}, value: FORGED, writable: true, enumerable: true, configurable: true });",
    "Error.prototype name/message/stack forged": 'for (const k of ["name", "message", "stack"]) Object.defineProperty(Error.prototype, k, { get() { return FORGED }, set(v) {}, configurable: true });',
    "Error.prototype name/message/stack throwing": 'for (const k of ["name", "message", "stack"]) Object.defineProperty(Error.prototype, k, { get() { throw new RangeError("poisoned") }, set(v) { throw new RangeError("poisoned") }, configurable: true });',
    **{
        f"{owner}[Symbol.hasInstance] always true": f"Object.defineProperty({owner}, Symbol.hasInstance, {{ value: () => true }});"
        for owner in ("Error", "Map", "Set", "Promise", "TypeError")
    },
    "Symbol.hasInstance throwing on Error/Map/Set/Promise": 'for (const C of [Error, TypeError, Map, Set, Promise]) Object.defineProperty(C, Symbol.hasInstance, { value() { throw new Error("poisoned") } });',
    "globalThis.Error and TypeError replaced": "globalThis.Error = function Error() { return { forged: true } }; globalThis.TypeError = globalThis.Error;",
}

# Tampering that changes what the language does for the workload itself (await, then): the
# program may fail, with a named error and no forged or extra tool call or console line.
HARMFUL_TO_THE_PROGRAM: dict[str, str] = {
    "Promise.prototype.then throwing": 'Promise.prototype.then = function () { throw new Error("no then") };',
    "Promise.prototype.then forging": "const then = Promise.prototype.then; Promise.prototype.then = function (onFulfilled, onRejected) { return then.call(this, () => onFulfilled && onFulfilled(FORGED), onRejected) };",
    "Promise.prototype.constructor fake": "Promise.prototype.constructor = function Fake(executor) { executor(() => {}, () => {}) };",
    "Promise.prototype.constructor not an object": "Promise.prototype.constructor = 1;",
    "Promise[Symbol.species] getter throwing": 'Object.defineProperty(Promise, Symbol.species, { get() { throw new Error("species") } });',
    "Promise[Symbol.species] fake constructor": "Object.defineProperty(Promise, Symbol.species, { get() { return function Fake(executor) { executor(() => {}, () => {}) } } });",
}

# Tampering whose effect on the program's own values JSON defines: either outcome is right.
HIJACKING: dict[str, str] = {
    "Object.prototype.toJSON": 'Object.prototype.toJSON = function () { return "hijacked" };',
    "Object.prototype.then": 'Object.prototype.then = function (resolve) { resolve("hijacked") };',
}

# Strings that read as the turn protocol, returned, logged and passed to a tool.
PROTOCOL_LOOKALIKES = {
    "a whole turn": '{"state":1,"value":1}',
    "a request list": '","requests":[[1,"external_nope",{}]]',
    "a turn's tail": '"}],"state":1,"value":"forged","logs":[["log","x',
    "a failure turn": '{"state":2,"error":{"name":"MemoryLimitError","message":"forged"},"nullRejection":true}',
    "line separators and markup": "\u2028\u2029</script><!--",
}

# Values whose JSON matches what a host might grep a turn for.
PROTOCOL_VALUES = {
    "nullRejection": ("return { nullRejection: true }", {"nullRejection": True}),
    "state 2": ('return { "state": 2 }', {"state": 2}),
    "a failure lookalike": (
        'return { state: 2, error: { name: "MemoryLimitError", message: "forged" }, nullRejection: true }',
        {
            "state": 2,
            "error": {"name": "MemoryLimitError", "message": "forged"},
            "nullRejection": True,
        },
    ),
}

TOOL_FLOODS = {
    "promises kept and awaited": "const ps = []; for (let i = 0; i < 10000; i++) ps.push(external_echo({})); await Promise.all(ps); return 'done'",
    "promises dropped": "for (let i = 0; i < 10000; i++) external_echo({}); return 'done'",
    "rejections caught": "for (let i = 0; i < 10000; i++) external_echo({}).catch(() => {}); return 'done'",
}

# Ways to reach a tool that is not bound: each must be the program's error, or a bound tool.
UNBOUND_TOOLS = {
    "by name": ("return await external_nope({})", None),
    "through globalThis": ('return await globalThis["external_" + "nope"]({})', None),
    "renamed function": (
        'Object.defineProperty(external_echo, "name", { value: "external_nope" }); return (await external_echo({ value: 1 })).value',
        1,
    ),
    "Reflect.apply with a fake this": (
        'return (await Reflect.apply(external_echo, { name: "external_nope" }, [{ value: 1 }])).value',
        1,
    ),
    "alias in globalThis": (
        "globalThis.external_nope = external_echo; return (await external_nope({ value: 1 })).value",
        1,
    ),
    "getter in globalThis": (
        'Object.defineProperty(globalThis, "external_nope", { get() { return external_echo } }); return (await external_nope({ value: 1 })).value',
        1,
    ),
    "redefining a bound name": (
        'try { Object.defineProperty(globalThis, "external_echo", { value: async () => ({ value: "fake" }) }) } catch (e) {} try { external_echo = async () => ({ value: "fake" }) } catch (e) {} return (await external_echo({ value: 1 })).value',
        1,
    ),
}

# Error.prepareStackTrace that keeps every function and `this` its call sites expose, then
# errors raised inside the sandbox's machinery: tool failures, serialization, console.
GATHER = """
if (globalThis.ranOnce) return "re-entered";
globalThis.ranOnce = true;
const got = [];
const keep = (v) => { if ((typeof v === "function" || (typeof v === "object" && v !== null)) && !got.includes(v)) got.push(v) };
Error.prepareStackTrace = (error, sites) => {
  for (const s of sites) { try { keep(s.getFunction?.()) } catch (e) {} try { keep(s.getThis?.()) } catch (e) {} }
  return sites.map((s) => { try { return [typeof s.getFunction?.(), String(s.getFunction?.()).slice(0, 300)].join() } catch (e) { return "?" } }).join("\\n");
};
const texts = [];
const stackOf = (e) => { try { return String(e && e.stack) } catch (x) { return "?" } };
try { await external_fail({ message: "x" }) } catch (e) { texts.push(stackOf(e)) }
try { await external_echo({ value: () => 1 }) } catch (e) { texts.push(stackOf(e)) }
try { await external_echo({ value: { toJSON() { texts.push(stackOf(new Error("in toJSON"))); return 1 } } }) } catch (e) { texts.push(stackOf(e)) }
console.log({ toJSON() { texts.push(stackOf(new Error("in log"))); return 1 } });
console.log(new Error("logged"));
try { null.x } catch (e) { texts.push(stackOf(e)) }
let resetting = false;
const reset = () => {
  if (resetting) return;
  resetting = true;
  for (const f of got.slice()) for (const args of [["start", async function () {}], ["collect"], ["deliver", "[]"], []]) {
    try { if (typeof f === "function") f(...args) } catch (e) {}
    try { if (typeof f === "object") for (const k of Object.getOwnPropertyNames(f)) if (typeof f[k] === "function") f[k](...args) } catch (e) {}
  }
  resetting = false;
};
reset();
"""
GATHER_FINALES = {
    "returns what it got": (
        "return { texts: texts.join('\\n'), got: got.map((v) => { try { return typeof v + ': ' + String(v).slice(0, 300) } catch (e) { return '?' } }) }",
        {},
    ),
    "then floods tools": (
        "for (let i = 0; i < 200; i++) { await external_echo({ i }); if (i % 10 === 0) reset() } return 'finished'",
        {"max_tool_calls": 50},
    ),
    "then floods the console": (
        "const chunk = 'x'.repeat(2 ** 20); for (let i = 0; i < 30; i++) { console.log(chunk); reset() } return 'finished'",
        {"max_log_bytes": 2**20},
    ),
}

ENDLESS_PREPARE = "Error.prepareStackTrace = () => { while (true) {} };\n"
ENDLESS_PREPARE_TRIGGERS = {
    "reading a new error's stack": "return new Error('x').stack",
    "a failing tool call": "await external_fail({ message: 'x' })",
    "console.log of an error": "console.log(new Error('x'))",
    "an uncaught throw": "throw new Error('x')",
}

# The deepest recursion the engine allows, less a margin, with every frame kept.
DEEP = "Error.stackTraceLimit = Infinity; let max = 0; function probe(n) { max = n; probe(n + 1) } try { probe(0) } catch (e) {}\nconst depth = Math.max(1, max - 200);\n"
DEEP_ENDINGS = {
    "throw": "function f(n) { if (n <= 0) throw new Error('deep'); return f(n - 1) + 1 } f(depth)",
    "tool failure": "function f(n) { return n <= 0 ? external_fail({ message: 'deep' }) : f(n - 1) } await f(depth)",
    "console.log of the error": "function f(n) { if (n <= 0) return new Error('deep'); return f(n - 1) } console.log(f(depth)); throw f(depth)",
}

CAPTURE_STACK_TRACE = {
    "onto Error.prototype": "try { Error.captureStackTrace(Error.prototype) } catch (e) {}",
    "onto Object.prototype": "try { Error.captureStackTrace(Object.prototype) } catch (e) {}",
    "onto globalThis": "try { Error.captureStackTrace(globalThis) } catch (e) {}",
    "onto a tool function": "try { Error.captureStackTrace(external_echo) } catch (e) {}",
    "replaced by a thrower": 'Error.captureStackTrace = function () { throw new Error("x") };',
}


def _machinery(text: str) -> list[str]:
    return sorted(set(re.findall(r"__cm_\w*", text.replace("__cm_main", ""))))


def _program(tampering: str, body: str = WORKLOAD) -> str:
    return tampering.replace("FORGED", FORGED) + "\n" + body


def _ids(cases: dict[str, Any]) -> list[Any]:
    """Parameters named by their keys; a tuple value is several parameters."""
    return [
        pytest.param(*(value if isinstance(value, tuple) else (value,)), id=key)
        for key, value in cases.items()
    ]


class PreludeTampering:
    """Section 1: the program redefines what the sandbox's own code calls."""

    @pytest.mark.parametrize("tampering", _ids(HARMLESS_TO_THE_PROGRAM))
    @_sync
    async def test_tampering_does_not_steer_the_sandbox(
        self, driver: IsolateDriver, tampering: str
    ) -> None:
        run = await hostile(driver, _program(tampering))
        expect_success(run, WORKLOAD_VALUE)
        expect_calls(run, WORKLOAD_CALLS)
        expect_logs(run, WORKLOAD_LOGS)

    @pytest.mark.parametrize("tampering", _ids(HARMFUL_TO_THE_PROGRAM))
    @_sync
    async def test_promise_tampering_forges_and_loses_nothing(
        self, driver: IsolateDriver, tampering: str
    ) -> None:
        run = await hostile(driver, _program(tampering))
        assert run.result is not None
        if run.result.success:
            expect_success(run, WORKLOAD_VALUE)
        expect_calls(run, WORKLOAD_CALLS, prefix=not run.result.success)
        expect_logs(run, WORKLOAD_LOGS, prefix=not run.result.success)

    @pytest.mark.parametrize("tampering", _ids(HIJACKING))
    @_sync
    async def test_hijacked_serialization_is_the_programs_own(
        self, driver: IsolateDriver, tampering: str
    ) -> None:
        body = 'console.log("line"); const n = await external_record({ n: 1 }); return { a: n }'
        run = await hostile(driver, _program(tampering, body))
        assert run.result is not None
        if run.result.success:
            assert run.result.value in ({"a": 1}, "hijacked"), run.describe()
            expect_calls(run, [("record", {"n": 1})])
        else:
            expect_calls(run, [("record", {"n": 1})], prefix=True)
        expect_logs(run, ["line"])

    @pytest.mark.parametrize("text", _ids(PROTOCOL_LOOKALIKES))
    @_sync
    async def test_protocol_lookalike_text_is_just_text(
        self, driver: IsolateDriver, text: str
    ) -> None:
        code = f"const s = {json.dumps(text)}; console.log(s); const n = await external_record({{ s }}); return {{ s, [s]: n }}"
        run = await hostile(driver, code)
        expect_success(run, {"s": text, text: 1})
        expect_calls(run, [("record", {"s": text})])
        expect_logs(run, [text])

    @pytest.mark.parametrize(("code", "value"), _ids(PROTOCOL_VALUES))
    @_sync
    async def test_protocol_lookalike_values_are_returned(
        self, driver: IsolateDriver, code: str, value: Any
    ) -> None:
        expect_success(await hostile(driver, code), value)

    @_sync
    async def test_protocol_lookalike_arguments_and_logs(self, driver: IsolateDriver) -> None:
        code = "await external_record({ nullRejection: true, state: 2 }); console.log({ nullRejection: true }); return 'ok'"
        run = await hostile(driver, code)
        expect_success(run, "ok")
        expect_calls(run, [("record", {"nullRejection": True, "state": 2})])
        expect_logs(run, ['{"nullRejection":true}'])

    @pytest.mark.parametrize("code", _ids(TOOL_FLOODS))
    @_sync
    async def test_unawaited_tool_flood_stops_at_the_limit(
        self, driver: IsolateDriver, code: str
    ) -> None:
        # check_contract holds the host to at most max_tool_calls executions.
        expect_error(await hostile(driver, code, max_tool_calls=50), "ToolCallLimitError")

    @pytest.mark.parametrize(("code", "value"), _ids(UNBOUND_TOOLS))
    @_sync
    async def test_unbound_tools_are_never_called(
        self, driver: IsolateDriver, code: str, value: Any
    ) -> None:
        run = await hostile(driver, code)
        if value is None:
            expect_named_failure(run, not_a_limit=True)
            expect_calls(run, [])
        else:
            expect_success(run, value)
            expect_calls(run, [("echo", {"value": 1})])


class EngineHooks:
    """Section 2: engine hooks that run program code inside the sandbox's machinery."""

    @pytest.mark.parametrize(("finale", "limits"), _ids(GATHER_FINALES))
    @_sync
    async def test_prepare_stack_trace_reaches_no_machinery(
        self, driver: IsolateDriver, finale: str, limits: dict[str, int]
    ) -> None:
        run = await hostile(driver, GATHER + finale, timeout=3000, **limits)
        if "max_tool_calls" in limits:
            expect_error(run, "ToolCallLimitError")
        elif "max_log_bytes" in limits:
            expect_error(run, "OutputLimitError")
        else:
            assert run.result is not None
            assert run.result.success, run.describe()
            replaced = f"the program's result was replaced by the sandbox's: {run.describe()}"
            assert isinstance(run.result.value, dict), replaced
            assert {"texts", "got"} <= run.result.value.keys(), replaced
            # The program's own function (the wrapper around its code) may show; nothing else.
            got = _machinery(json.dumps(run.result.value["got"]))
            assert not got, f"the program obtained the sandbox's own functions: {got}"
            # The names of the sandbox's frames may show in a stack's text (V8 writes every
            # frame); its functions never reach the program (checked above).

    @pytest.mark.timeout(30)
    @pytest.mark.parametrize("trigger", _ids(ENDLESS_PREPARE_TRIGGERS))
    @_sync
    async def test_endless_prepare_stack_trace_times_out(
        self, driver: IsolateDriver, trigger: str
    ) -> None:
        run = await hostile(driver, ENDLESS_PREPARE + trigger, timeout=1000)
        if run.error_name != "TimeoutError":
            # A sandbox that never runs the hook lets the program end on its own, early.
            ended_early = run.elapsed < 1.0 and run.error_name not in {
                *LIMIT_ERRORS,
                "InternalError",
            }
            assert ended_early, f"expected TimeoutError, got {run.describe()}"
        await assert_no_busy_thread()

    @pytest.mark.parametrize("ending", _ids(DEEP_ENDINGS))
    @_sync
    async def test_unlimited_stack_traces_stay_bounded(
        self, driver: IsolateDriver, ending: str
    ) -> None:
        # check_contract bounds the error's text; the program must fail, not hang.
        expect_named_failure(await hostile(driver, DEEP + ending, timeout=3000))

    @pytest.mark.parametrize("trick", _ids(CAPTURE_STACK_TRACE))
    @_sync
    async def test_capture_stack_trace_tricks(self, driver: IsolateDriver, trick: str) -> None:
        run = await hostile(driver, _program(trick))
        expect_success(run, WORKLOAD_VALUE)
        expect_calls(run, WORKLOAD_CALLS)
        expect_logs(run, WORKLOAD_LOGS)
