"""``chat``: the agent loop as AG-UI events, with real tools on a real driver and a scripted
model."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from ag_ui.core import EventType

import codemode
import codemode.agent
from codemode import (
    SkillsConfig,
    chat,
    code_mode_with_skills,
    create_code_mode,
    max_iterations,
    to_server_sent_events,
    tool,
)
from codemode.adapters import TextDelta, ToolCallDelta, Usage
from codemode.agent import RUN_SUMMARY, ChatInputError
from codemode.errors import ConfigError, ModelRateLimitError
from codemode.testing import ScriptedAdapter
from codemode_storage_memory import create_memory_skill_storage


@tool(description="Rows of a table")
async def get_rows(count: int) -> list[dict[str, int]]:
    return [{"id": i, "value": i * 10} for i in range(count)]


@tool(description="Wait a while")
async def pause(ms: int) -> str:
    await asyncio.sleep(ms / 1000)
    return f"waited {ms}"


CANCELLED: list[str] = []


@tool(description="Wait until cancelled")
async def wait_forever(label: str) -> str:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        CANCELLED.append(label)
        raise
    return "never"


def call(index: int, name: str, arguments: Any, call_id: str | None = None) -> ToolCallDelta:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCallDelta(index, id=call_id or f"call_{name}_{index}", name=name, arguments=text)


def program(code: str, call_id: str = "call_run") -> list[Any]:
    # Arguments in two pieces, as providers stream them.
    text = json.dumps({"typescriptCode": code})
    return [
        ToolCallDelta(0, id=call_id, name="execute_typescript", arguments=text[:10]),
        ToolCallDelta(0, arguments=text[10:]),
    ]


async def collect(stream: Any) -> list[Any]:
    return [event async for event in stream]


def of(events: list[Any], kind: EventType) -> list[Any]:
    return [event for event in events if event.type == kind]


@pytest.fixture
def code_mode() -> codemode.CodeMode:
    return create_code_mode(driver="quickjs", tools=[get_rows, pause, wait_forever], timeout=10_000)


def test_chat_is_the_function_even_after_its_package_is_imported() -> None:
    assert codemode.chat is codemode.agent.chat
    assert callable(codemode.chat)


async def test_a_text_answer(code_mode: codemode.CodeMode) -> None:
    adapter = ScriptedAdapter(["Hello there."])
    events = await collect(
        chat(
            adapter=adapter,
            messages=[{"id": "m1", "role": "user", "content": "hi"}],
            thread_id="t-1",
            run_id="r-1",
        )
    )
    assert [event.type for event in events] == [
        EventType.RUN_STARTED,
        EventType.TEXT_MESSAGE_START,
        EventType.TEXT_MESSAGE_CONTENT,
        EventType.TEXT_MESSAGE_CONTENT,
        EventType.TEXT_MESSAGE_END,
        EventType.CUSTOM,
        EventType.RUN_FINISHED,
    ]
    assert (events[0].thread_id, events[0].run_id) == ("t-1", "r-1")
    assert (events[-1].thread_id, events[-1].run_id) == ("t-1", "r-1")
    assert "".join(e.delta for e in of(events, EventType.TEXT_MESSAGE_CONTENT)) == "Hello there."
    assert events[-1].result["stopReason"] == "stop"
    assert adapter.requests[0].messages == [{"role": "user", "content": "hi"}]


async def test_a_program_runs_and_its_events_carry_the_tool_call_id(
    code_mode: codemode.CodeMode,
) -> None:
    code = "const rows = await external_get_rows({ count: 100 });\nreturn rows.filter((r) => r.value > 950).length;"
    # A program turn, then the answer; the provider reports usage at the end of each.
    adapter = ScriptedAdapter(
        [[*program(code), Usage(100, 20, 120)], [TextDelta("There are 4."), Usage(150, 5, 155)]]
    )
    events = await collect(
        chat(
            adapter=adapter,
            messages=[{"role": "user", "content": "how many rows are over 950?"}],
            tools=code_mode.tools,
            system_prompts=[code_mode.system_prompt],
        )
    )
    (start,) = of(events, EventType.TOOL_CALL_START)
    assert (start.tool_call_id, start.tool_call_name) == ("call_run", "execute_typescript")
    args = "".join(e.delta for e in of(events, EventType.TOOL_CALL_ARGS))
    assert json.loads(args) == {"typescriptCode": code}
    (result,) = of(events, EventType.TOOL_CALL_RESULT)
    assert result.tool_call_id == "call_run"
    assert json.loads(result.content) == {"success": True, "result": 4, "logs": [], "error": None}
    custom = [
        e
        for e in of(events, EventType.CUSTOM)
        if e.name.startswith("code_mode:") and e.name != RUN_SUMMARY
    ]
    assert [e.name for e in custom] == [
        "code_mode:execution_started",
        "code_mode:external_call",
        "code_mode:external_result",
        "code_mode:execution_finished",
    ]
    assert {e.value["toolCallId"] for e in custom} == {"call_run"}
    finished = custom[-1].value
    summary = of(events, EventType.RUN_FINISHED)[0].result
    assert summary["executions"] == 1
    assert summary["toolResultBytes"] == finished["toolResultBytes"] > 2000
    assert summary["resultBytes"] == finished["resultBytes"] == 1
    assert summary["usage"] == {"inputTokens": 250, "outputTokens": 25, "totalTokens": 275}
    usage = of(events, EventType.RUN_FINISHED)[0].usage
    assert usage[0].total_tokens == 275
    second = adapter.requests[1]
    assert second.messages[-2]["tool_calls"][0]["id"] == "call_run"
    assert second.messages[-1]["role"] == "tool"
    assert json.loads(second.messages[-1]["content"])["result"] == 4
    assert second.system_prompts == [code_mode.system_prompt]
    assert second.tools == ["execute_typescript"]


async def test_tool_calls_of_one_turn_run_concurrently(code_mode: codemode.CodeMode) -> None:
    direct = [pause, get_rows]
    adapter = ScriptedAdapter(
        [
            [
                call(0, "pause", {"ms": 400}),
                call(1, "pause", {"ms": 400}),
                call(2, "get_rows", {"count": 2}),
            ],
            "done",
        ]
    )
    started = time.perf_counter()
    events = await collect(
        chat(adapter=adapter, messages=[{"role": "user", "content": "go"}], tools=direct)
    )
    assert time.perf_counter() - started < 0.75
    results = {e.tool_call_id: e.content for e in of(events, EventType.TOOL_CALL_RESULT)}
    assert results["call_pause_0"] == "waited 400"
    tool_messages = [m for m in adapter.requests[1].messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == [
        "call_pause_0",
        "call_pause_1",
        "call_get_rows_2",
    ]


async def test_unknown_tools_and_bad_arguments_are_results_the_model_can_fix(
    code_mode: codemode.CodeMode,
) -> None:
    adapter = ScriptedAdapter(
        [
            [
                call(0, "get_rowz", {"count": 1}),
                call(1, "get_rows", '{"count": 2'),
                call(2, "get_rows", {"count": "many"}),
                call(3, "get_rows", "[1]"),
            ],
            "sorry",
        ]
    )
    events = await collect(
        chat(adapter=adapter, messages=[{"role": "user", "content": "x"}], tools=[get_rows])
    )
    errors = {
        e.tool_call_id: json.loads(e.content)["error"]
        for e in of(events, EventType.TOOL_CALL_RESULT)
    }
    assert "there is no tool named 'get_rowz'; the tools are: get_rows" in errors["call_get_rowz_0"]
    assert "are not valid JSON" in errors["call_get_rows_1"]
    assert "input.count" in errors["call_get_rows_2"]
    assert "must be a JSON object, got list" in errors["call_get_rows_3"]
    assert of(events, EventType.RUN_FINISHED)[0].result["stopReason"] == "stop"
    assert len(adapter.requests) == 2


async def test_the_iteration_limit_finishes_the_run_with_its_reason() -> None:
    adapter = ScriptedAdapter([[call(0, "get_rows", {"count": 1}, f"c{i}")] for i in range(5)])
    events = await collect(
        chat(
            adapter=adapter,
            messages=[{"role": "user", "content": "loop"}],
            tools=[get_rows],
            agent_loop_strategy=max_iterations(2),
        )
    )
    finished = of(events, EventType.RUN_FINISHED)[0]
    assert finished.result["stopReason"] == "max_iterations"
    assert finished.result["iterations"] == 2
    assert len(adapter.requests) == 2


async def test_a_model_error_ends_the_run_with_run_error() -> None:
    adapter = ScriptedAdapter([ModelRateLimitError("slow down", status=429, provider="openai")])
    events = await collect(chat(adapter=adapter, messages=[{"role": "user", "content": "x"}]))
    assert [e.type for e in events] == [EventType.RUN_STARTED, EventType.RUN_ERROR]
    assert events[-1].code == "ModelRateLimitError"
    assert "slow down" in events[-1].message


async def test_tools_and_prompts_are_read_again_each_turn(code_mode: codemode.CodeMode) -> None:
    storage = create_memory_skill_storage()
    tools, prompt, _ = await code_mode_with_skills(code_mode, skills=SkillsConfig(storage=storage))
    register = {
        "name": "count_big",
        "description": "Count rows over a value",
        "code": "const rows = await external_get_rows({ count: input.count });\nreturn rows.filter((r) => r.value > input.over).length;",
        "inputSchema": {
            "type": "object",
            "properties": {"count": {"type": "number"}, "over": {"type": "number"}},
        },
        "outputSchema": {"type": "number"},
    }
    adapter = ScriptedAdapter(
        [
            [call(0, "register_skill", register)],
            [call(0, "count_big", {"count": 50, "over": 100})],
            program("return await skill_count_big({ count: 10, over: 50 });", "call_p"),
            "done",
        ]
    )
    events = await collect(
        chat(
            adapter=adapter,
            messages=[{"role": "user", "content": "x"}],
            tools=tools,
            system_prompts=["Be brief.", prompt],
        )
    )
    assert "count_big" not in adapter.requests[0].tools
    assert "count_big" in adapter.requests[1].tools
    assert "skill_count_big" not in adapter.requests[0].system_prompts[1]
    assert "declare function skill_count_big(" in adapter.requests[1].system_prompts[1]
    results = {
        e.tool_call_id: json.loads(e.content) for e in of(events, EventType.TOOL_CALL_RESULT)
    }
    assert results["call_count_big_0"] == 39
    assert results["call_p"]["result"] == 4
    names = [e.name for e in of(events, EventType.CUSTOM)]
    assert "skill:registered" in names
    assert names.count("code_mode:skill_call") == 2


class CountingDriver:
    """A real QuickJS driver whose contexts count their disposals."""

    def __init__(self) -> None:
        from codemode_quickjs import create_quickjs_isolate_driver

        self.inner = create_quickjs_isolate_driver()
        self.created = 0
        self.disposed = 0

    async def create_context(self, config: Any) -> Any:
        context = await self.inner.create_context(config)
        self.created += 1
        outer = self

        class Counted:
            async def execute(self, code: str) -> Any:
                return await context.execute(code)

            async def dispose(self) -> None:
                outer.disposed += 1
                await context.dispose()

        return Counted()


async def test_a_client_that_goes_away_stops_the_tools_and_sandboxes() -> None:
    driver = CountingDriver()
    code_mode = create_code_mode(driver=driver, tools=[wait_forever], timeout=30_000)  # type: ignore[arg-type]
    CANCELLED.clear()
    adapter = ScriptedAdapter(
        [
            [
                *program("return await external_wait_forever({ label: 'in-sandbox' });", "c1"),
                call(1, "wait_forever", {"label": "direct"}, "c2"),
            ]
        ]
    )
    stream = chat(
        adapter=adapter,
        messages=[{"role": "user", "content": "x"}],
        tools=[*code_mode.tools, wait_forever],
    )

    async def consume() -> None:
        async for event in stream:
            if event.type == EventType.CUSTOM and event.name == "code_mode:external_call":
                started.set()

    started = asyncio.Event()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(CANCELLED) == ["direct", "in-sandbox"]
    assert driver.created == driver.disposed == 1


async def test_messages_from_a_tanstack_client_are_read(code_mode: codemode.CodeMode) -> None:
    adapter = ScriptedAdapter(["ok"])
    body_messages = [
        {"id": "u1", "role": "user", "content": "sum the rows"},
        {
            "id": "a1",
            "role": "assistant",
            "content": "",
            "toolCalls": [
                {
                    "id": "tc1",
                    "type": "function",
                    "function": {
                        "name": "execute_typescript",
                        "arguments": '{"typescriptCode":"return 1"}',
                    },
                }
            ],
        },
        {"id": "t1", "role": "tool", "toolCallId": "tc1", "content": '{"success":true,"result":1}'},
        {"id": "u2", "role": "user", "content": [{"type": "text", "text": "and again"}]},
    ]
    await collect(chat(adapter=adapter, messages=body_messages, tools=code_mode.tools))
    sent = adapter.requests[0].messages
    assert sent[1]["tool_calls"][0]["function"]["name"] == "execute_typescript"
    assert sent[2] == {
        "role": "tool",
        "tool_call_id": "tc1",
        "content": '{"success":true,"result":1}',
    }
    assert sent[3] == {"role": "user", "content": "and again"}


def test_bad_messages_raise_before_anything_streams() -> None:
    adapter = ScriptedAdapter([])
    with pytest.raises(ChatInputError, match=r"messages\[0\]\.toolCallId: Field required"):
        chat(adapter=adapter, messages=[{"id": "t", "role": "tool", "content": "x"}])
    with pytest.raises(ChatInputError, match=r"messages\[0\]\.role: must be one of"):
        chat(adapter=adapter, messages=[{"role": "robot", "content": "x"}])
    with pytest.raises(ChatInputError, match="a list of messages"):
        chat(adapter=adapter, messages="hello")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_iterations"):
        max_iterations(0)


async def test_server_sent_events_are_ag_ui_json_lines() -> None:
    adapter = ScriptedAdapter(["Hi"])
    chunks = [
        chunk
        async for chunk in to_server_sent_events(
            chat(
                adapter=adapter,
                messages=[{"role": "user", "content": "x"}],
                thread_id="t",
                run_id="r",
            )
        )
    ]
    assert all(chunk.startswith(b"data: ") and chunk.endswith(b"\n\n") for chunk in chunks)
    first = json.loads(chunks[0][len(b"data: ") :])
    assert first == {"type": "RUN_STARTED", "threadId": "t", "runId": "r"}
    content = json.loads(chunks[2][len(b"data: ") :])
    assert content["type"] == "TEXT_MESSAGE_CONTENT"
    assert set(content) == {"type", "messageId", "delta"}


async def test_failed_results_are_marked_and_reused_call_ids_are_replaced() -> None:
    history = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_rows", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "[]"},
    ]
    adapter = ScriptedAdapter(
        [[call(0, "get_rows", {"count": 1}, "call_0"), call(1, "nope", {}, "call_1")], "ok"]
    )
    events = await collect(chat(adapter=adapter, messages=history, tools=[get_rows]))
    first, second = of(events, EventType.TOOL_CALL_START)
    assert first.tool_call_id != "call_0"
    assert second.tool_call_id == "call_1"
    results = {e.tool_call_id: e for e in of(events, EventType.TOOL_CALL_RESULT)}
    assert results[first.tool_call_id].metadata is None
    assert results["call_1"].metadata == {"tanstack": {"state": "output-error"}}
    sent = adapter.requests[1].messages
    assert sent[-3]["tool_calls"][0]["id"] == first.tool_call_id
    assert sent[-2]["tool_call_id"] == first.tool_call_id


async def test_an_answer_that_breaks_off_ends_its_message_before_run_error() -> None:
    from codemode.errors import ModelUnavailableError

    async def broken() -> Any:
        yield TextDelta("The answer is")
        raise ModelUnavailableError("connection dropped", provider="openai")

    class Dropping:
        model = "dropping"

        def stream(self, messages: Any, *, tools: Any = (), system_prompts: Any = ()) -> Any:
            return broken()

    events = await collect(chat(adapter=Dropping(), messages=[{"role": "user", "content": "x"}]))
    assert [e.type for e in events] == [
        EventType.RUN_STARTED,
        EventType.TEXT_MESSAGE_START,
        EventType.TEXT_MESSAGE_CONTENT,
        EventType.TEXT_MESSAGE_END,
        EventType.RUN_ERROR,
    ]
    assert events[-1].code == "ModelUnavailableError"
