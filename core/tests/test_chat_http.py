"""``chat`` over real HTTP on both sides: a real adapter talking to the scripted
OpenAI-compatible server, and a client that hangs up mid-run on a Starlette endpoint."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from codemode import (
    chat,
    create_code_mode,
    litellm_text,
    openai_text,
    to_server_sent_events_response,
    tool,
)
from codemode.adapters import ModelAdapter
from codemode.testing import (
    DelayReply,
    ErrorReply,
    ScriptedAdapter,
    ScriptedOpenAIServer,
    ScriptedToolCall,
    TextReply,
    ToolCallsReply,
    serve_asgi,
)

from .test_chat import CountingDriver, program  # type: ignore[import-not-found]


@tool(description="Temperatures of a city, one per day")
async def temperatures(city: str) -> list[float]:
    return [4.0, 6.5, 3.0, 8.0] if city == "Oslo" else [20.0]


def adapters(base_url: str) -> dict[str, ModelAdapter]:
    return {
        "openai": openai_text("gpt-4o-mini", base_url=base_url, api_key="sk-test", max_retries=0),
        "litellm": litellm_text(
            "openai/gpt-4o-mini", api_base=base_url, api_key="sk-test", num_retries=0
        ),
    }


async def run(adapter: ModelAdapter, **kwargs: Any) -> list[Any]:
    return [event async for event in chat(adapter=adapter, **kwargs)]


@pytest.mark.parametrize("which", ["openai", "litellm"])
async def test_a_bad_program_call_is_fixed_on_the_next_turn(which: str) -> None:
    code_mode = create_code_mode(driver="quickjs", tools=[temperatures])
    good = "const t = await external_temperatures({ city: 'Oslo' });\nreturn Math.max(...t);"
    replies = [
        # Arguments that are not JSON, then a program with a type error, then a good one.
        ToolCallsReply(ScriptedToolCall("execute_typescript", '{"typescriptCode": "return 1')),
        ToolCallsReply(
            ScriptedToolCall("execute_typescript", {"typescriptCode": "return undefinedThing.x;"})
        ),
        ToolCallsReply(ScriptedToolCall("execute_typescript", {"typescriptCode": good})),
        TextReply("The warmest day in Oslo is 8 degrees."),
    ]
    with ScriptedOpenAIServer(replies) as server:
        events = await run(
            adapters(server.base_url)[which],
            messages=[{"id": "u1", "role": "user", "content": "warmest day in Oslo?"}],
            tools=code_mode.tools,
            system_prompts=[code_mode.system_prompt],
        )
        requests = server.requests
    results = [json.loads(e.content) for e in events if e.type == "TOOL_CALL_RESULT"]
    assert "are not valid JSON" in results[0]["error"]
    assert results[1]["error"]["name"] == "ReferenceError"
    assert results[2]["result"] == 8.0
    text = "".join(e.delta for e in events if e.type == "TEXT_MESSAGE_CONTENT")
    assert text == "The warmest day in Oslo is 8 degrees."
    assert events[-1].type == "RUN_FINISHED"
    assert events[-1].result["executions"] == 2
    # The model saw each error: the tool messages it was sent.
    last = requests[-1].body["messages"]
    tool_messages = [m for m in last if m["role"] == "tool"]
    assert len(tool_messages) == 3
    assert "ReferenceError" in tool_messages[1]["content"]
    assert last[0] == {"role": "system", "content": code_mode.system_prompt}


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (ErrorReply(401, "bad key"), "ModelAuthError"),
        (ErrorReply(429, "slow down"), "ModelRateLimitError"),
        (ErrorReply(500, "it broke"), "ModelUnavailableError"),
        (DelayReply(5.0), "ModelTimeoutError"),
    ],
)
async def test_provider_failures_end_the_run_with_run_error(reply: Any, code: str) -> None:
    with ScriptedOpenAIServer([reply]) as server:
        adapter = openai_text(
            "gpt-4o-mini", base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=0.5
        )
        events = await run(adapter, messages=[{"role": "user", "content": "hi"}])
    assert [e.type for e in events] == ["RUN_STARTED", "RUN_ERROR"]
    assert events[-1].code == code


async def test_a_provider_that_is_down_ends_the_run_with_run_error() -> None:
    with ScriptedOpenAIServer([]) as server:
        base_url = server.base_url
    adapter = openai_text("gpt-4o-mini", base_url=base_url, api_key="sk-test", max_retries=0)
    events = await run(adapter, messages=[{"role": "user", "content": "hi"}])
    assert events[-1].type == "RUN_ERROR"
    assert events[-1].code == "ModelUnavailableError"


CANCELLED: list[str] = []


@tool(description="Wait until cancelled")
async def hold(label: str) -> str:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        CANCELLED.append(label)
        raise
    return "never"


async def test_a_client_that_hangs_up_stops_the_run_its_tools_and_sandboxes() -> None:
    CANCELLED.clear()
    driver = CountingDriver()
    code_mode = create_code_mode(driver=driver, tools=[hold], timeout=60_000)  # type: ignore[arg-type]

    async def endpoint(request: Request) -> Any:
        body = await request.json()
        adapter = ScriptedAdapter([program("return await external_hold({ label: 'sandbox' });")])
        return to_server_sent_events_response(
            chat(adapter=adapter, messages=body["messages"], tools=code_mode.tools)
        )

    app = Starlette(routes=[Route("/api/chat", endpoint, methods=["POST"])])
    with serve_asgi(app) as base_url:
        body = {"messages": [{"id": "u1", "role": "user", "content": "wait"}]}
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=10) as client,
            client.stream("POST", "/api/chat", json=body) as response,
        ):
            async for line in response.aiter_lines():
                if '"code_mode:external_call"' in line:
                    break  # the program is waiting on its tool: hang up now
        # The server runs on its own loop in another thread: poll what it records.
        deadline = time.monotonic() + 10
        while (not CANCELLED or driver.disposed < driver.created) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert CANCELLED == ["sandbox"]
    assert driver.created == driver.disposed == 1
