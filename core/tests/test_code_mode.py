"""The code-mode tool end to end on a real driver: pipeline, events, prompt, discovery."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from pydantic import BaseModel

from codemode import CodeMode, ToolExecutionContext, create_code_mode, tool
from codemode.code_mode import create_code_mode_system_prompt, create_code_mode_tool
from codemode.errors import ConfigError, SecretParameterWarning, ToolInputError
from codemode.testing import echo, fail, sleep


class Forecast(BaseModel):
    city: str
    high: float


@tool
async def get_forecast(city: str) -> Forecast:
    """Forecast for a city."""
    await asyncio.sleep(0.01)
    return Forecast(city=city, high=20.5)


@tool(lazy=True)
async def get_orders(customer_id: int) -> list[int]:
    """Orders of a customer."""
    return [customer_id * 10]


def make(**kwargs: Any) -> CodeMode:
    kwargs.setdefault("tools", [get_forecast, echo, sleep, fail])
    return create_code_mode(driver="quickjs", **kwargs)


class Events:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, data: Any) -> None:
        self.items.append((name, data))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.items]


async def test_runs_typescript_and_returns_plain_dict() -> None:
    code_mode = make()
    code = "interface F { city: string }\nconst f: F = await external_get_forecast({ city: 'Oslo' });\nreturn f.high"
    result = await code_mode.tool.execute({"typescriptCode": code})
    assert result == {"success": True, "result": 20.5, "logs": [], "error": None}


async def test_line_12_error_with_interfaces_above() -> None:
    code = "\n".join(
        [
            "interface Forecast {",
            "  city: string;",
            "  high: number;",
            "}",
            "interface Options {",
            "  verbose?: boolean;",
            "}",
            "type Pair<T> = [T, T];",
            "const options: Options = { verbose: true };",
            "const pair: Pair<number> = [1, 2];",
            "const value = pair[0] as number;",
            "throw new RangeError(`bad value ${value}`);",
        ]
    )
    result = await make().run(code)
    assert result["success"] is False
    assert result["error"]["name"] == "RangeError"
    assert result["error"]["line"] == 12
    assert "program.ts:12:" in result["error"]["stack"]


async def test_typescript_syntax_error_before_any_sandbox() -> None:
    created = 0

    class CountingDriver:
        async def create_context(self, config: Any) -> Any:
            nonlocal created
            created += 1
            raise AssertionError("no sandbox should be created for a syntax error")

    code_mode = create_code_mode(driver=CountingDriver(), tools=[echo])
    result = await code_mode.run("const a = 1;\nconst b = (a + ;\nreturn b")
    assert result["success"] is False
    assert result["error"]["name"] == "SyntaxError"
    assert result["error"]["line"] == 2
    assert created == 0


async def test_events_in_order_with_payloads() -> None:
    events = Events()
    code = "console.log('before');\nconst r = await external_echo({ i: 3 });\nconsole.warn('after', r.i);\nreturn r.i"
    result = await make().run(code, ToolExecutionContext(events))
    assert result["success"]
    assert events.names == [
        "code_mode:execution_started",
        "code_mode:console",
        "code_mode:external_call",
        "code_mode:external_result",
        "code_mode:console",
        "code_mode:execution_finished",
    ]
    started, console, call, done, warn, finished = (data for _, data in events.items)
    assert started["codeLength"] == len(code)
    assert isinstance(started["timestamp"], int)
    assert console["level"] == "log"
    assert console["message"] == "before"
    assert call["function"] == "external_echo"
    assert call["args"] == {"i": 3}
    assert done["result"] == {"i": 3}
    assert done["duration"] >= 0
    assert warn == {"level": "warn", "message": "after 3", "timestamp": warn["timestamp"]}
    assert finished["success"] is True
    assert finished["logCount"] == 2
    assert finished["error"] is None


async def test_external_error_event_and_result_error() -> None:
    events = Events()
    result = await make().run(
        "await external_fail({ message: 'db down' })", ToolExecutionContext(events)
    )
    assert "code_mode:external_error" in events.names
    error_event = dict(events.items)["code_mode:external_error"]
    assert "db down" in error_event["error"]
    assert result["error"]["message"] == "fail failed: RuntimeError: db down"


async def test_console_events_arrive_while_the_program_runs() -> None:
    arrivals: list[float] = []
    started = time.perf_counter()

    def sink(name: str, data: Any) -> None:
        if name == "code_mode:console":
            arrivals.append(time.perf_counter() - started)

    code = "console.log('one');\nawait external_sleep({ ms: 300 });\nconsole.log('two');"
    await make().run(code, ToolExecutionContext(sink))
    total = time.perf_counter() - started
    assert len(arrivals) == 2
    assert arrivals[0] < total - 0.2, "the first line arrived only after the program ended"


async def test_promise_all_of_ten_200ms_calls_is_concurrent() -> None:
    @tool
    async def slow(n: int) -> int:
        """Sleep 200 ms."""
        await asyncio.sleep(0.2)
        return n

    code_mode = make(tools=[slow])
    started = time.perf_counter()
    result = await code_mode.run(
        "return (await Promise.all(Array.from({ length: 10 }, (_, n) => external_slow({ n })))).length"
    )
    elapsed = time.perf_counter() - started
    assert result["result"] == 10
    assert elapsed < 0.4, f"10 concurrent 200 ms calls took {elapsed * 1000:.0f} ms"


async def test_custom_events_from_tools_reach_the_same_stream() -> None:
    events = Events()

    @tool
    async def step(context: ToolExecutionContext) -> str:
        """Emit a custom event."""
        context.emit_custom_event("my:event", {"ok": True})
        return context.tool_call_id or ""

    code_mode = make(tools=[step])
    result = await code_mode.run(
        "return await external_step({})", ToolExecutionContext(events, "call-9")
    )
    assert ("my:event", {"ok": True}) in events.items
    assert result["result"] == "call-9"


async def test_fresh_context_per_call() -> None:
    code_mode = make()
    await code_mode.run("globalThis.leftover = 1; return 1")
    result = await code_mode.run("return typeof leftover")
    assert result["result"] == "undefined"


async def test_input_validation_of_execute_typescript() -> None:
    with pytest.raises(ToolInputError, match="typescriptCode"):
        await make().tool.execute({"code": "return 1"})


def test_system_prompt_has_stubs_rules_and_limits() -> None:
    code_mode = make(timeout=5000)
    prompt = code_mode.system_prompt
    assert (
        "declare function external_get_forecast(input: GetForecastInput): Promise<GetForecastOutput>;"
        in prompt
    )
    assert "/** Forecast for a city. */" in prompt
    assert "5000 ms" in prompt
    assert "Promise.all" in prompt
    assert (
        create_code_mode_system_prompt(tools=[get_forecast, echo, sleep, fail], timeout=5000)
        == prompt
    )


async def test_lazy_tools_and_discovery() -> None:
    code_mode = make(tools=[get_forecast, get_orders])
    assert "external_get_orders" in code_mode.system_prompt
    assert "declare function external_get_orders" not in code_mode.system_prompt
    assert code_mode.discovery_tool is not None
    assert [t.name for t in code_mode.tools] == ["execute_typescript", "discover_tools"]
    answer = await code_mode.discovery_tool.execute({"names": ["external_get_orders", "nope"]})
    declarations = answer["declarations"]
    assert (
        "declare function external_get_orders(input: GetOrdersInput): Promise<GetOrdersOutput>;"
        in declarations
    )
    assert "type GetOrdersOutput = number[];" in declarations
    assert answer["unknown"] == ["nope"]
    assert "external_get_forecast" in answer["available"]
    # Lazy tools are still callable in the sandbox.
    assert (
        await code_mode.run("return await external_get_orders({ customerId: 1, customer_id: 4 })")
    )["success"] is False
    assert (await code_mode.run("return await external_get_orders({ customer_id: 4 })"))[
        "result"
    ] == [40]


def test_no_discovery_without_lazy_tools() -> None:
    code_mode = make()
    assert code_mode.discovery_tool is None
    assert [t.name for t in code_mode.tools] == ["execute_typescript"]


def test_timeout_zero_and_bad_tools_are_refused() -> None:
    with pytest.raises(ConfigError, match="timeout"):
        make(timeout=0)
    with pytest.raises(ConfigError, match="Tool objects"):
        create_code_mode(driver="quickjs", tools=[lambda: 1])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="unique"):
        make(tools=[echo, echo])


def test_secret_parameter_warns_by_default() -> None:
    @tool
    async def call_api(url: str, api_key: str) -> str:
        """Call an API."""
        return url

    with pytest.warns(SecretParameterWarning, match="api_key"):
        make(tools=[call_api])


async def test_create_code_mode_tool_alone() -> None:
    execute = create_code_mode_tool(driver="quickjs", tools=[echo])
    assert execute.name == "execute_typescript"
    assert (await execute.execute({"typescriptCode": "return (await external_echo({i: 1})).i"}))[
        "result"
    ] == 1


async def test_driver_defaults_flow_into_code_mode() -> None:
    from codemode_quickjs import create_quickjs_isolate_driver

    code_mode = create_code_mode(driver=create_quickjs_isolate_driver(timeout=300), tools=[sleep])
    result = await code_mode.run("await external_sleep({ ms: 5000 })")
    assert result["error"]["name"] == "TimeoutError"
    assert "300 ms" in result["error"]["message"]


async def test_execution_finished_counts_tool_calls_and_bytes() -> None:
    seen: list[tuple[str, Any]] = []
    code_mode = create_code_mode(driver="quickjs", tools=[echo])
    context = ToolExecutionContext(lambda name, data: seen.append((name, data)))
    await code_mode.run(
        "const a = await external_echo({ i: 1 }); const b = await external_echo({ i: 2 });"
        " return [a.i, b.i]",
        context,
    )
    finished = [data for name, data in seen if name == "code_mode:execution_finished"][-1]
    assert finished["toolCalls"] == 2
    assert finished["resultBytes"] == len(b"[1,2]")
    assert finished["toolResultBytes"] > 0


@pytest.mark.parametrize("driver", ["quickjs", "node"])
async def test_tool_result_bytes_count_sync_tools_too(driver: str) -> None:
    # Sync tools are served on the engine's own thread: their results count all the same.
    if driver == "node":
        pytest.importorskip("codemode_node_v8")  # not in the lowest-versions run

    @tool
    def rows_sync(n: int) -> list[dict[str, int]]:
        """Rows."""
        return [{"i": i} for i in range(n)]

    @tool
    async def rows_async(n: int) -> list[dict[str, int]]:
        """Rows."""
        return [{"i": i} for i in range(n)]

    totals = {}
    for name in ("rows_sync", "rows_async"):
        seen: list[tuple[str, Any]] = []
        code_mode = create_code_mode(driver=driver, tools=[rows_sync, rows_async], isolation="none")
        context = ToolExecutionContext(lambda n, data, seen=seen: seen.append((n, data)))
        result = await code_mode.run(
            f"const a = await external_{name}({{ n: 100 }});"
            f" const b = await external_{name}({{ n: 50 }}); return a.length + b.length",
            context,
        )
        assert result["result"] == 150
        finished = [d for n, d in seen if n == "code_mode:execution_finished"][-1]
        totals[name] = finished["toolResultBytes"]
    assert (
        totals["rows_sync"]
        == totals["rows_async"]
        > len(json.dumps([{"i": 0}] * 150, separators=(",", ":")))
    )
