"""``ScriptedOpenAIServer``: what it sends on the wire, as any OpenAI-compatible client sees it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest

from codemode.adapters import Usage
from codemode.testing import (
    DelayReply,
    DropReply,
    ErrorReply,
    ScriptedOpenAIServer,
    ScriptedToolCall,
    TextReply,
    ToolCallsReply,
)

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**REQUEST, "stream": True, "stream_options": {"include_usage": True}}


def post(
    server: ScriptedOpenAIServer, body: Any, *, timeout: float = 10, **kwargs: Any
) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=timeout, **kwargs)


def events(response: httpx.Response) -> list[Any]:
    """The ``data:`` payloads of an SSE body, JSON-decoded but for ``[DONE]``."""
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("\n\n")
    payloads = []
    for event in response.text.split("\n\n")[:-1]:
        assert event.startswith("data: "), event
        data = event.removeprefix("data: ")
        payloads.append(data if data == "[DONE]" else json.loads(data))
    return payloads


def deltas(payloads: list[Any]) -> list[dict[str, Any]]:
    return [p["choices"][0]["delta"] for p in payloads if p != "[DONE]" and p["choices"]]


def test_streamed_text_comes_in_pieces_then_usage_then_done() -> None:
    usage = Usage(prompt_tokens=7, completion_tokens=2, total_tokens=9)
    with ScriptedOpenAIServer([TextReply("Hello there, friend.", usage=usage)]) as server:
        payloads = events(post(server, STREAM))
    assert payloads[-1] == "[DONE]"
    chunks = payloads[:-1]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk["model"] for chunk in chunks} == {"m"}
    assert deltas(chunks)[0] == {"role": "assistant", "content": ""}
    pieces = [delta["content"] for delta in deltas(chunks) if delta.get("content")]
    assert len(pieces) == 3
    assert "".join(pieces) == "Hello there, friend."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    # As OpenAI: the usage chunk has no choices, and every other chunk has usage null.
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_usage_only_when_asked_for() -> None:
    usage = Usage(1, 1, 2)
    with ScriptedOpenAIServer([TextReply("Hi.", usage=usage)]) as server:
        payloads = events(post(server, {**REQUEST, "stream": True}))
    assert all("usage" not in p for p in payloads[:-1])
    assert payloads[-2]["choices"][0]["finish_reason"] == "stop"


def test_tool_calls_are_interleaved_by_index_with_arguments_in_pieces() -> None:
    reply = ToolCallsReply(
        ScriptedToolCall("add", {"a": 1, "b": 2}, id="call_a"),
        ScriptedToolCall("mul", '{"x": 3', id="call_b"),
        ScriptedToolCall("now"),
        text="Checking.",
        pieces=2,
    )
    with ScriptedOpenAIServer([reply]) as server:
        payloads = events(post(server, STREAM))
    calls = [call for delta in deltas(payloads) for call in delta.get("tool_calls", [])]
    assert [call["index"] for call in calls] == [0, 1, 2, 0, 1, 2]
    assert calls[0] == {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "add", "arguments": '{"a": 1,'},
    }
    assert calls[3] == {"index": 0, "function": {"arguments": ' "b": 2}'}}
    arguments = [
        "".join(c["function"]["arguments"] for c in calls if c["index"] == i) for i in range(3)
    ]
    assert arguments == ['{"a": 1, "b": 2}', '{"x": 3', "{}"]
    assert calls[2]["function"]["name"] == "now"
    assert calls[2]["id"].startswith("call_")
    assert payloads[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert "".join(d.get("content") or "" for d in deltas(payloads)) == "Checking."


def test_a_tool_calls_reply_takes_calls_or_a_list_of_them() -> None:
    one, two = ScriptedToolCall("a"), ScriptedToolCall("b")
    assert ToolCallsReply(one, two) == ToolCallsReply([one, two])
    assert ToolCallsReply([one, two]).calls == (one, two)
    with pytest.raises(ValueError, match="one or more ScriptedToolCall"):
        ToolCallsReply()
    with pytest.raises(ValueError, match="one or more ScriptedToolCall"):
        ToolCallsReply([])
    with pytest.raises(ValueError, match="one or more ScriptedToolCall"):
        ToolCallsReply("add")  # type: ignore[arg-type]


def test_non_streaming_answers_a_completion() -> None:
    reply = ToolCallsReply(ScriptedToolCall("add", {"a": 1}, id="call_1"), usage=Usage(3, 4, 7))
    with ScriptedOpenAIServer(["Plain text.", reply]) as server:
        text = post(server, REQUEST).json()
        calls = post(server, REQUEST).json()
    assert text["object"] == "chat.completion"
    assert text["choices"][0]["message"] == {"role": "assistant", "content": "Plain text."}
    assert text["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in text
    assert calls["choices"][0]["message"]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
    ]
    assert calls["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


@pytest.mark.parametrize(
    ("status", "type_"),
    [(401, "invalid_request_error"), (429, "rate_limit_error"), (500, "server_error")],
)
def test_error_replies_have_an_openai_style_body(status: int, type_: str) -> None:
    with ScriptedOpenAIServer([ErrorReply(status, "nope", code="some_code")]) as server:
        response = post(server, STREAM)
    assert response.status_code == status
    assert response.json() == {
        "error": {"message": "nope", "type": type_, "param": None, "code": "some_code"}
    }


def test_running_out_of_script_is_a_500_that_says_so() -> None:
    with ScriptedOpenAIServer(["only one"]) as server:
        assert post(server, REQUEST).status_code == 200
        response = post(server, REQUEST)
    assert response.status_code == 500
    assert response.json()["error"]["message"] == (
        "ScriptedOpenAIServer: no reply left in the script for request 2"
    )


def test_a_body_that_is_not_a_json_object_is_a_400() -> None:
    with ScriptedOpenAIServer(["unused"]) as server:
        response = httpx.post(f"{server.base_url}/chat/completions", content=b"[1, 2]")
        assert response.status_code == 400
        assert list(server.replies) == ["unused"]


def test_requests_are_recorded_with_headers() -> None:
    with ScriptedOpenAIServer(["a", "b"]) as server:
        post(server, STREAM, headers={"Authorization": "Bearer sk-test"})
        post(server, REQUEST)
    assert [request.body for request in server.requests] == [STREAM, REQUEST]
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"


def test_replies_can_be_added_while_running() -> None:
    with ScriptedOpenAIServer() as server:
        server.replies.append("added later")
        response = post(server, REQUEST)
    assert response.json()["choices"][0]["message"]["content"] == "added later"


def test_connections_close_after_each_response_unless_keep_alive() -> None:
    with ScriptedOpenAIServer(["a"]) as server:
        assert post(server, REQUEST).headers["connection"] == "close"
    with ScriptedOpenAIServer(["a"], keep_alive=True) as server:
        assert "connection" not in post(server, REQUEST).headers


def test_a_delay_outlasts_the_client_timeout_and_ends_when_it_hangs_up() -> None:
    with ScriptedOpenAIServer([DelayReply(30), DelayReply(0.01, then="on time")]) as server:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            post(server, REQUEST, timeout=0.3)
        on_time = post(server, REQUEST).json()
    # Closing did not wait out the 30 s: the delay ended when the client hung up.
    assert time.monotonic() - started < 10
    assert on_time["choices"][0]["message"]["content"] == "on time"


def test_a_drop_cuts_the_stream_before_done() -> None:
    with ScriptedOpenAIServer([DropReply("Half an ans"), "next"]) as server:
        received: list[bytes] = []
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream("POST", f"{server.base_url}/chat/completions", json=STREAM) as response,
        ):
            received.extend(response.iter_bytes())
        assert b"Half" in b"".join(received)
        assert b"[DONE]" not in b"".join(received)
        # The server goes on serving.
        assert post(server, STREAM).status_code == 200


def test_a_drop_needs_a_stream() -> None:
    with ScriptedOpenAIServer([DropReply()]) as server:
        response = post(server, REQUEST)
    assert response.status_code == 500
    assert "streaming" in response.json()["error"]["message"]


def test_a_drop_is_not_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    with ScriptedOpenAIServer([DropReply()]) as server:
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream("POST", f"{server.base_url}/chat/completions", json=STREAM) as r,
        ):
            r.read()
        post(server, REQUEST)  # the server has finished with the dropped request by now
    assert [record for record in caplog.records if record.levelname == "ERROR"] == []


def test_base_url_needs_a_running_server() -> None:
    server = ScriptedOpenAIServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/v1")
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_close_stops_the_thread_and_is_idempotent() -> None:
    server = ScriptedOpenAIServer(["a"])
    server.start()
    name = f"ScriptedOpenAIServer:{server.base_url.split(':')[2].split('/')[0]}"
    assert name in {thread.name for thread in threading.enumerate()}
    server.close()
    server.close()
    assert name not in {thread.name for thread in threading.enumerate()}


async def test_async_context_manager() -> None:
    async with ScriptedOpenAIServer(["async hello"]) as server, httpx.AsyncClient() as client:
        response = await client.post(f"{server.base_url}/chat/completions", json=REQUEST)
    assert response.json()["choices"][0]["message"]["content"] == "async hello"


def test_unknown_paths_are_404() -> None:
    with ScriptedOpenAIServer() as server:
        assert httpx.get(f"{server.base_url}/models").status_code == 404
