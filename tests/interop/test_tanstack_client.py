"""The real ``@tanstack/ai-client`` (npm) talking to a chat endpoint over loopback HTTP.

``tanstack_client.mjs`` runs the client in Node the way a browser front end does
(``ChatClient`` + ``fetchServerSentEvents``) and reports the client's messages, its
``onCustomEvent`` calls and its errors. The wire format both sides must agree on is written
down in ``docs/tanstack-client.md``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ag_ui.core import Event, RunAgentInput
from pydantic import TypeAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from codemode import chat, create_code_mode, to_server_sent_events_response, tool
from codemode.adapters import Finish, ModelChunk, TextDelta, ToolCallDelta
from codemode.errors import ModelRateLimitError
from codemode.testing import ScriptedAdapter, serve_asgi

TESTS = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "tanstack_client.mjs"
CLIENT_PACKAGE = TESTS / "node_modules" / "@tanstack" / "ai-client" / "package.json"
CLIENT_TIMEOUT = 90  # seconds; the driver gives up on its own after 60
THREAD_ID = "thread-interop"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs Node.js and npm to run @tanstack/ai-client (install Node 20 or later)",
)


# -- the client side ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRun:
    """What the client ended with, as ``tanstack_client.mjs`` reports it."""

    status: str
    messages: list[dict[str, Any]]
    custom_events: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    chunks: list[str]


def run_client(url: str, *messages: str) -> ClientRun:
    """Send ``messages`` one after the other from one client; report where it ended."""
    if not CLIENT_PACKAGE.exists():
        pytest.fail(f"@tanstack/ai-client is not installed: run `npm ci` in {TESTS}")
    done = subprocess.run(
        ["node", str(DRIVER), url, THREAD_ID, *messages],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"driver failed ({done.returncode}):\n{done.stderr}"
    report = json.loads(done.stdout)
    return ClientRun(
        report["status"],
        report["messages"],
        report["customEvents"],
        report["errors"],
        report["chunks"],
    )


# -- the server side ------------------------------------------------------------------------


@dataclass
class Received:
    """One request the endpoint got: its headers and its parsed JSON body."""

    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Endpoint:
    """``POST /api/chat``: records each request, answers with ``respond(body)``."""

    respond: Callable[[dict[str, Any]], Awaitable[Response]]
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.json()
        self.received.append(Received(dict(request.headers), body))
        return await self.respond(body)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/chat", self.handle, methods=["POST"])])


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yield the chat URL."""
    with serve_asgi(app) as base_url:
        yield f"{base_url}/api/chat"


def check_request(received: Received, message: str) -> RunAgentInput:
    """The client POSTs an AG-UI ``RunAgentInput`` that ``ag-ui-protocol`` parses as is."""
    assert received.headers["content-type"] == "application/json"
    assert received.headers["x-run-id"] == received.body["runId"]
    run_input = RunAgentInput.model_validate(received.body)
    assert run_input.thread_id == THREAD_ID
    assert run_input.tools == []
    assert run_input.context == []
    last = run_input.messages[-1]
    assert (last.role, last.content) == ("user", message)
    return run_input


# -- the harness and our reading of the wire, against hand-written streams -----------------
# Scaffolding that pins down what docs/tanstack-client.md says, independent of codemode.chat.

PROGRAM = "const r = await external_add({ a: 20, b: 22 });\nconsole.log(r);\nreturn { sum: r };"
RESULT = {"success": True, "result": {"sum": 42}, "logs": ["42"], "error": None}


def standin_events(thread_id: str, run_id: str) -> list[dict[str, Any]]:
    """The events of a run with one ``execute_typescript`` call, written out by hand.

    Message and tool call ids must be new in every run: the client merges a run's events into
    any earlier message that has the same id.
    """
    text_1, text_2, call = f"{run_id}-msg-1", f"{run_id}-msg-2", f"{run_id}-call-1"
    arguments = json.dumps({"typescriptCode": PROGRAM})
    middle = len(arguments) // 2
    return [
        {"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id},
        {"type": "TEXT_MESSAGE_START", "messageId": text_1, "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": text_1, "delta": "Let me "},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": text_1, "delta": "add them."},
        {"type": "TEXT_MESSAGE_END", "messageId": text_1},
        {
            "type": "TOOL_CALL_START",
            "toolCallId": call,
            "toolCallName": "execute_typescript",
            "parentMessageId": text_1,
        },
        {"type": "TOOL_CALL_ARGS", "toolCallId": call, "delta": arguments[:middle]},
        {"type": "TOOL_CALL_ARGS", "toolCallId": call, "delta": arguments[middle:]},
        {"type": "TOOL_CALL_END", "toolCallId": call},
        {
            "type": "CUSTOM",
            "name": "code_mode:execution_started",
            "value": {"toolCallId": call, "timestamp": 1, "codeLength": len(PROGRAM)},
        },
        {
            "type": "CUSTOM",
            "name": "code_mode:console",
            "value": {"toolCallId": call, "level": "log", "message": "42", "timestamp": 2},
        },
        {
            "type": "CUSTOM",
            "name": "code_mode:execution_finished",
            "value": {
                "toolCallId": call,
                "timestamp": 3,
                "durationMs": 2,
                "success": True,
                "logCount": 1,
                "error": None,
                "toolCalls": 1,
                "toolResultBytes": 2,
                "resultBytes": 10,
            },
        },
        {
            "type": "TOOL_CALL_RESULT",
            "messageId": f"{run_id}-tool-1",
            "toolCallId": call,
            "content": json.dumps(RESULT),
            "role": "tool",
        },
        {"type": "TEXT_MESSAGE_START", "messageId": text_2, "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": text_2, "delta": "The sum is 42."},
        {"type": "TEXT_MESSAGE_END", "messageId": text_2},
        {
            "type": "RUN_FINISHED",
            "threadId": thread_id,
            "runId": run_id,
            "result": {"toolResultBytes": 2, "resultBytes": 10},
            "usage": [{"model": "scripted", "inputTokens": 30, "outputTokens": 12}],
        },
    ]


def short_answer_events(thread_id: str, run_id: str) -> list[dict[str, Any]]:
    text = f"{run_id}-msg-1"
    return [
        {"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id},
        {"type": "TEXT_MESSAGE_START", "messageId": text, "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": text, "delta": "You're welcome."},
        {"type": "TEXT_MESSAGE_END", "messageId": text},
        {"type": "RUN_FINISHED", "threadId": thread_id, "runId": run_id},
    ]


def failing_events(thread_id: str, run_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "RUN_STARTED", "threadId": thread_id, "runId": run_id},
        {"type": "RUN_ERROR", "message": "the model provider is down", "code": "provider_error"},
    ]


def sse(events: list[dict[str, Any]]) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for event in events:
            yield f"data: {json.dumps(event)}\n\n".encode()

    return StreamingResponse(lines(), media_type="text/event-stream")


def test_standin_events_are_ag_ui_events() -> None:
    """Every hand-written event is one ``ag-ui-protocol`` can produce, field for field."""
    events = TypeAdapter(Event)
    written = [
        *standin_events("t", "r"),
        *short_answer_events("t", "r"),
        *failing_events("t", "r"),
    ]
    for event in written:
        parsed = events.validate_python(event)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == {
            key: value for key, value in event.items() if value is not None
        }


@needs_node
def test_standin_run_with_a_code_mode_call() -> None:
    """Scaffolding: what the client makes of a hand-written code-mode run and sends next."""
    replies = [standin_events, short_answer_events]

    async def respond(body: dict[str, Any]) -> Response:
        return sse(replies.pop(0)(body["threadId"], body["runId"]))

    endpoint = Endpoint(respond)
    with serve(endpoint.app()) as url:
        run = run_client(url, "Add 20 and 22.", "Thanks!")

    assert run.errors == []
    assert run.status == "ready"
    first, second = endpoint.received
    check_request(first, "Add 20 and 22.")
    run_id = first.body["runId"]
    call_id = f"{run_id}-call-1"

    assert [message["role"] for message in run.messages] == [
        "user",
        "assistant",
        "assistant",
        "user",
        "assistant",
    ]
    assert run.messages[0]["parts"] == [{"type": "text", "content": "Add 20 and 22."}]
    [text_1, call, result] = run.messages[1]["parts"]
    assert text_1 == {"type": "text", "content": "Let me add them."}
    assert (call["type"], call["id"], call["name"], call["state"]) == (
        "tool-call",
        call_id,
        "execute_typescript",
        "complete",
    )
    assert call["input"] == {"typescriptCode": PROGRAM}
    assert json.loads(call["arguments"]) == {"typescriptCode": PROGRAM}
    assert call["output"] == RESULT
    assert result == {
        "type": "tool-result",
        "toolCallId": call_id,
        "content": json.dumps(RESULT),
        "state": "complete",
    }
    assert run.messages[2]["parts"] == [{"type": "text", "content": "The sum is 42."}]
    assert run.messages[4]["parts"] == [{"type": "text", "content": "You're welcome."}]

    assert [(event["name"], event["toolCallId"]) for event in run.custom_events] == [
        ("code_mode:execution_started", call_id),
        ("code_mode:console", call_id),
        ("code_mode:execution_finished", call_id),
    ]
    assert run.custom_events[-1]["data"]["success"] is True

    # The follow-up carries the history as AG-UI messages: the tool call on the assistant
    # message, its result as a ``role: "tool"`` message.
    history = check_request(second, "Thanks!").messages
    assert [message.role for message in history] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    [sent_call] = history[1].tool_calls
    assert (sent_call.id, sent_call.function.name) == (call_id, "execute_typescript")
    assert json.loads(sent_call.function.arguments) == {"typescriptCode": PROGRAM}
    assert history[1].content == "Let me add them."
    assert (history[2].tool_call_id, json.loads(history[2].content)) == (call_id, RESULT)
    assert history[3].content == "The sum is 42."


@needs_node
def test_standin_run_error() -> None:
    """Scaffolding: a RUN_ERROR reaches ``onError`` and leaves the client in ``error``."""

    async def respond(body: dict[str, Any]) -> Response:
        return sse(failing_events(body["threadId"], body["runId"]))

    with serve(Endpoint(respond).app()) as url:
        run = run_client(url, "Hello")

    assert run.status == "error"
    assert run.errors == [{"name": "Error", "message": "the model provider is down"}]


# -- the real backend: codemode.chat on a real driver, a scripted model --------------------


@tool(description="The price of each item of a category in stock")
async def get_prices(category: str) -> list[dict[str, Any]]:
    return [{"item": f"{category}-{i}", "price": i * 5} for i in range(1, 21)]


TEA_PROGRAM = """\
const rows: { item: string; price: number }[] = await external_get_prices({ category: "tea" });
console.log(`${rows.length} rows`);
return { count: rows.length, total: rows.reduce((sum, row) => sum + row.price, 0) };"""
TEA_RESULT = {"count": 20, "total": 1050}


def code_mode_turn(program: str, call_id: str) -> list[ModelChunk]:
    """A model turn that says a few words, then calls ``execute_typescript``, streamed."""
    arguments = json.dumps({"typescriptCode": program})
    return [
        TextDelta("Let me add "),
        TextDelta("up the prices."),
        ToolCallDelta(0, id=call_id, name="execute_typescript", arguments=arguments[:15]),
        ToolCallDelta(0, arguments=arguments[15:]),
        Finish("tool_calls"),
    ]


def chat_endpoint(adapter: ScriptedAdapter) -> Endpoint:
    """The endpoint an application writes: the client's body straight into ``chat``."""
    code_mode = create_code_mode(driver="quickjs", tools=[get_prices], timeout=10_000)

    async def respond(body: dict[str, Any]) -> Response:
        return to_server_sent_events_response(
            chat(
                adapter=adapter,
                messages=body["messages"],
                tools=code_mode.tools,
                system_prompts=[code_mode.system_prompt],
                thread_id=body.get("threadId"),
                run_id=body.get("runId"),
            )
        )

    return Endpoint(respond)


@needs_node
def test_code_mode_chat_with_the_tanstack_client() -> None:
    adapter = ScriptedAdapter(
        [
            code_mode_turn(TEA_PROGRAM, "call_tea"),
            "The 20 teas cost 1050 in all.",
            "You're welcome.",
        ]
    )
    endpoint = chat_endpoint(adapter)
    with serve(endpoint.app()) as url:
        run = run_client(url, "What do the teas cost in all?", "Thanks!")

    assert run.errors == []
    assert run.status == "ready"
    first, second = endpoint.received
    check_request(first, "What do the teas cost in all?")
    check_request(second, "Thanks!")

    # What a TanStack AI front end renders: the text, the call with its parsed output, the answer.
    assert [message["role"] for message in run.messages] == [
        "user",
        "assistant",
        "assistant",
        "user",
        "assistant",
    ]
    [text, call, result] = run.messages[1]["parts"]
    assert text == {"type": "text", "content": "Let me add up the prices."}
    assert (call["type"], call["id"], call["name"], call["state"]) == (
        "tool-call",
        "call_tea",
        "execute_typescript",
        "complete",
    )
    assert call["input"] == {"typescriptCode": TEA_PROGRAM}
    assert call["output"] == {
        "success": True,
        "result": TEA_RESULT,
        "logs": ["20 rows"],
        "error": None,
    }
    assert (result["type"], result["toolCallId"], result["state"]) == (
        "tool-result",
        "call_tea",
        "complete",
    )
    assert json.loads(result["content"]) == call["output"]
    assert run.messages[2]["parts"] == [
        {"type": "text", "content": "The 20 teas cost 1050 in all."}
    ]
    assert run.messages[4]["parts"] == [{"type": "text", "content": "You're welcome."}]

    # onCustomEvent: the program's events, tied to its tool call; the run summary to none.
    by_call = [
        (event["name"], event["toolCallId"])
        for event in run.custom_events
        if event["name"].startswith("code_mode:") and event["name"] != "code_mode:run_summary"
    ]
    assert by_call == [
        ("code_mode:execution_started", "call_tea"),
        ("code_mode:external_call", "call_tea"),
        ("code_mode:external_result", "call_tea"),
        ("code_mode:console", "call_tea"),
        ("code_mode:execution_finished", "call_tea"),
    ]
    finished = next(e for e in run.custom_events if e["name"] == "code_mode:execution_finished")
    assert finished["data"]["success"] is True
    assert finished["data"]["toolCalls"] == 1
    assert finished["data"]["resultBytes"] < finished["data"]["toolResultBytes"]
    summaries = [e for e in run.custom_events if e["name"] == "code_mode:run_summary"]
    assert [summary["toolCallId"] for summary in summaries] == [None, None]
    assert summaries[0]["data"]["executions"] == 1

    # The follow-up's history, as the client sent it, reached the model whole.
    assert len(adapter.requests) == 3
    history = adapter.requests[2].messages
    assert [message["role"] for message in history] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert history[1]["content"] == "Let me add up the prices."
    assert history[1]["tool_calls"][0]["id"] == "call_tea"
    assert json.loads(history[1]["tool_calls"][0]["function"]["arguments"]) == {
        "typescriptCode": TEA_PROGRAM
    }
    assert history[2]["tool_call_id"] == "call_tea"
    assert json.loads(history[2]["content"])["result"] == TEA_RESULT
    assert history[3] == {"role": "assistant", "content": "The 20 teas cost 1050 in all."}
    assert "external_get_prices" in adapter.requests[0].system_prompts[0]


@needs_node
def test_a_provider_failure_reaches_the_client_as_an_error() -> None:
    adapter = ScriptedAdapter([ModelRateLimitError("slow down", status=429, provider="scripted")])
    with serve(chat_endpoint(adapter).app()) as url:
        run = run_client(url, "Hello")

    assert run.status == "error"
    assert run.errors == [{"name": "Error", "message": "slow down"}]
    assert run.chunks == ["RUN_STARTED", "RUN_ERROR"]


@needs_node
def test_the_web_apps_chat_endpoint_with_the_tanstack_client(tmp_path: Path) -> None:
    # The real client against `codemode serve`'s own /api/chat: demo tools, skills, a model
    # behind an OpenAI-compatible server.
    from codemode.config import CodeModeConfig
    from codemode.testing import ScriptedOpenAIServer, ScriptedToolCall, TextReply, ToolCallsReply
    from codemode.web import create_app

    program = (
        'const t = await external_list_tables({});\nconsole.log("tables", t.length);\n'
        "return t.map((x) => x.rows);"
    )
    with ScriptedOpenAIServer(
        [
            ToolCallsReply(ScriptedToolCall("execute_typescript", {"typescriptCode": program})),
            TextReply("The shop has four tables."),
        ]
    ) as model:
        config = CodeModeConfig.model_validate(
            {"model": {"adapter": "openai", "model": "scripted", "base_url": model.base_url}}
        )
        app = create_app(config, data_dir=tmp_path, driver="quickjs")
        with serve(app) as url:
            run = run_client(url, "How big is the shop?")

    assert run.errors == []
    assert run.status == "ready"
    # A turn with no text before its call: the client shows call and answer as one message.
    assert [message["role"] for message in run.messages] == ["user", "assistant"]
    parts = run.messages[1]["parts"]
    assert [part["type"] for part in parts] == ["tool-call", "tool-result", "text"]
    call = parts[0]
    assert (call["name"], call["state"]) == ("execute_typescript", "complete")
    assert call["output"]["success"] is True
    assert call["output"]["result"] == [240, 60, 1500, call["output"]["result"][3]]
    assert call["output"]["logs"] == ["tables 4"]
    assert parts[2] == {"type": "text", "content": "The shop has four tables."}
    names = [e["name"] for e in run.custom_events if e["toolCallId"] == call["id"]]
    assert names[0] == "code_mode:execution_started"
    assert names[-1] == "code_mode:execution_finished"
    assert len(model.requests) == 2
    # The model saw the program's result, not the tables the program read.
    tool_message = next(m for m in model.requests[1].body["messages"] if m["role"] == "tool")
    assert json.loads(tool_message["content"])["result"] == call["output"]["result"]
