"""The README's Python examples run as written (blocks for hypothetical plugins excepted)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def all_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    # These two show a third party's plugin; create_my_driver is theirs.
    return [block for block in blocks if "create_my_driver" not in block]


def python_blocks() -> list[str]:
    # The chat endpoint needs a model server: test_the_chat_endpoint gives it one.
    return [block for block in all_blocks() if "Starlette(" not in block]


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 4


def test_readme_examples_run_in_order() -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    for index, block in enumerate(python_blocks()):
        try:
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README python block {index} failed: {type(exc).__name__}: {exc}")


def test_the_chat_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's endpoint, against a scripted OpenAI-compatible server, over real HTTP."""
    import asyncio
    import json as json_module

    import httpx

    from codemode.testing import ScriptedOpenAIServer, ScriptedToolCall, TextReply, ToolCallsReply

    program = "const w = await external_fetch_weather({ city: 'Oslo' });\nreturn w.temp;"
    replies = [
        ToolCallsReply([ScriptedToolCall("execute_typescript", {"typescriptCode": program})]),
        TextReply("It is 4 degrees in Oslo."),
    ]
    with ScriptedOpenAIServer(replies) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        namespace: dict[str, Any] = {"__name__": "readme"}
        for index, block in enumerate(all_blocks()):
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
        app = namespace["app"]

        async def post() -> list[dict[str, Any]]:
            body = {
                "threadId": "thread-1",
                "runId": "run-1",
                "messages": [{"id": "u1", "role": "user", "content": "How warm is Oslo?"}],
                "tools": [],
                "context": [],
                "forwardedProps": {},
            }
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
                response = await client.post("/api/chat", json=body)
            assert response.headers["content-type"].startswith("text/event-stream")
            return [
                json_module.loads(line[len("data: ") :])
                for line in response.text.splitlines()
                if line.startswith("data: ")
            ]

        events = asyncio.run(post())
        requests = server.requests
    types = [event["type"] for event in events]
    assert types[0] == "RUN_STARTED"
    assert types[-1] == "RUN_FINISHED"
    assert events[0]["threadId"] == "thread-1"
    assert events[-1]["runId"] == "run-1"
    (result,) = [event for event in events if event["type"] == "TOOL_CALL_RESULT"]
    assert json_module.loads(result["content"])["result"] == 4.0
    text = "".join(e["delta"] for e in events if e["type"] == "TEXT_MESSAGE_CONTENT")
    assert text == "It is 4 degrees in Oslo."
    finished = [
        e for e in events if e["type"] == "CUSTOM" and e["name"] == "code_mode:execution_finished"
    ]
    assert finished[0]["value"]["toolCallId"] == result["toolCallId"]
    assert requests[0].body["messages"][0]["role"] == "system"
