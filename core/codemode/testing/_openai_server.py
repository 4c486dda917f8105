"""``ScriptedOpenAIServer``: a local OpenAI-compatible server that plays a script, over real HTTP.

Tests of model adapters and chat loops talk to it instead of a provider, so they exercise the
real client (its SSE parsing, retries, timeouts, error classes) without reaching the internet.
It is a Starlette app served by uvicorn on ``127.0.0.1`` in a background thread, so sync and
async tests use it alike::

    script = ["Hello!", ToolCallsReply(ScriptedToolCall("add", {"a": 1}))]
    with ScriptedOpenAIServer(script) as server:
        adapter = openai_text("gpt-4o", base_url=server.base_url, api_key="test")
        ...
        assert server.requests[0].body["messages"] == [...]

Each request to ``POST /v1/chat/completions`` takes the next reply of the script: a ``str`` or
``TextReply`` (text, streamed in a few pieces), a ``ToolCallsReply`` (tool calls whose
arguments are streamed in pieces, interleaved by index), or a failure: ``ErrorReply`` (an HTTP
status with an OpenAI-style error body), ``DelayReply`` (no answer for a while, to trip the
client's timeout), ``DropReply`` (the connection dropped mid-stream). A request past the end of
the script is answered with a 500 that says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from codemode._extras import require_extra
from codemode.adapters import Usage

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "DelayReply",
    "DropReply",
    "ErrorReply",
    "RecordedRequest",
    "Reply",
    "ScriptedOpenAIServer",
    "ScriptedToolCall",
    "TextReply",
    "ToolCallsReply",
]


@dataclass(frozen=True, slots=True)
class TextReply:
    """The assistant answers ``text``, streamed in ``pieces`` deltas."""

    text: str
    usage: Usage | None = None
    """Sent as the last chunk (empty ``choices``) when the request asks for usage."""
    pieces: int = 3
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    """One tool call. ``arguments`` as a mapping is sent as its JSON; a string is sent as it
    is, which is how a test scripts arguments that are not valid JSON."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None
    """``call_<n>`` (n counting the server's calls) when not given."""


@dataclass(frozen=True, slots=True)
class ToolCallsReply:
    """The assistant calls one or more tools in one turn. Each call's arguments are streamed in
    ``pieces`` deltas, and the calls' deltas are interleaved (a piece of call 0, a piece of call
    1, ...), so a client must reassemble them by index."""

    calls: tuple[ScriptedToolCall, ...]
    text: str = ""
    """Text streamed before the calls, if any."""
    usage: Usage | None = None
    pieces: int = 3
    finish_reason: str = "tool_calls"

    def __init__(
        self,
        *calls: ScriptedToolCall | Sequence[ScriptedToolCall],
        text: str = "",
        usage: Usage | None = None,
        pieces: int = 3,
        finish_reason: str = "tool_calls",
    ) -> None:
        """``ToolCallsReply(call, call, ...)``, or the calls as one list."""
        flat = tuple(
            item for call in calls for item in (call if isinstance(call, Sequence) else (call,))
        )
        if not flat or not all(isinstance(call, ScriptedToolCall) for call in flat):
            raise ValueError("ToolCallsReply needs one or more ScriptedToolCall")
        object.__setattr__(self, "calls", flat)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "usage", usage)
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "finish_reason", finish_reason)


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An HTTP error with an OpenAI-style body ``{"error": {"message", "type", "code"}}``."""

    status: int
    message: str = "scripted error"
    type: str | None = None
    """Defaults by status: ``invalid_request_error``, ``rate_limit_error`` or ``server_error``."""
    code: str | None = None


@dataclass(frozen=True, slots=True)
class DelayReply:
    """Wait ``seconds`` before answering (with ``then``), to trip a client's timeout. The wait
    ends early when the client hangs up."""

    seconds: float
    then: Reply = "too late"


@dataclass(frozen=True, slots=True)
class DropReply:
    """Start streaming ``text`` and drop the connection before the stream ends."""

    text: str = "Partial ans"


Reply = str | TextReply | ToolCallsReply | ErrorReply | DelayReply | DropReply


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received: its path, headers (lower-case names) and JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class _DroppedOnPurpose(Exception):
    """Raised inside a streamed body to make uvicorn close the connection mid-stream."""


class _HideDrops(logging.Filter):
    """uvicorn logs every exception of an app at ERROR; a scripted drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_drop(record.exc_info[1]))


def _is_drop(exc: BaseException | None, depth: int = 0) -> bool:
    """Whether ``exc`` is, or wraps, a scripted drop (Starlette may wrap it in a group)."""
    if exc is None or depth > 20:
        return False
    if isinstance(exc, _DroppedOnPurpose):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_drop(inner, depth + 1) for inner in exc.exceptions)
    return _is_drop(exc.__cause__ or exc.__context__, depth + 1)


class ScriptedOpenAIServer:
    """An OpenAI-compatible chat-completions server on ``127.0.0.1`` that answers from
    ``replies``; use it as a (sync or async) context manager, or ``start()`` / ``close()``.

    ``base_url`` (``http://127.0.0.1:PORT/v1``) is what a client takes as its base URL;
    ``requests`` records every request; ``replies`` is the rest of the script (a deque, so a
    test may append to it). Needs the ``server`` extra (Starlette, uvicorn).

    Each response closes its connection unless ``keep_alive``: a test's event loop ends with
    the test, and a pooled connection left open in it (LiteLLM keeps its clients per loop, in
    a process-wide cache) warns about an unclosed transport whenever it is collected, in
    whatever test runs then.
    """

    def __init__(self, replies: Iterable[Reply] = (), *, keep_alive: bool = False) -> None:
        self.replies: deque[Reply] = deque(replies)
        self.keep_alive = keep_alive
        self.requests: list[RecordedRequest] = []
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._filter = _HideDrops()
        self._calls = 0

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("ScriptedOpenAIServer is not running: use it in a with block")
        return f"http://127.0.0.1:{self._port}/v1"

    def start(self) -> None:
        """Serve in a background thread; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("ScriptedOpenAIServer is already running")
        uvicorn = require_extra("uvicorn", "server")
        config = uvicorn.Config(
            self._app(),
            http="h11",
            lifespan="off",
            log_config=None,
            access_log=False,
            # A client that hangs up mid-delay ends its request at once; this bounds the rest.
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        sock = self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        logging.getLogger("uvicorn.error").addFilter(self._filter)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"ScriptedOpenAIServer:{self._port}",
            # Daemon, so a test that forgets close() cannot hang interpreter exit.
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("ScriptedOpenAIServer did not start")
            time.sleep(0.005)

    def close(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._server.should_exit = True
            thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()  # uvicorn closes it too, unless it failed to start
            self._socket = None
        logging.getLogger("uvicorn.error").removeFilter(self._filter)
        self._port = None

    def __enter__(self) -> ScriptedOpenAIServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> ScriptedOpenAIServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)

    # The app, run in the server's thread and event loop.

    def _app(self) -> Any:
        require_extra("starlette", "server")
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])

    async def _chat(self, request: Request) -> Response:
        response = await self._answer(request)
        if not self.keep_alive:
            response.headers["connection"] = "close"
        return response

    async def _answer(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "the request body is not a JSON object", "invalid_request_error")
        self.requests.append(RecordedRequest(request.url.path, dict(request.headers.items()), body))
        if not self.replies:
            return _error(
                500,
                f"ScriptedOpenAIServer: no reply left in the script for request"
                f" {len(self.requests)}",
                "server_error",
            )
        reply = self.replies.popleft()
        while isinstance(reply, DelayReply):
            if await _client_left(request, reply.seconds):
                return JSONResponse({})  # nobody reads it
            reply = reply.then
        if isinstance(reply, ErrorReply):
            return _error(reply.status, reply.message, reply.type, reply.code)
        if isinstance(reply, str):
            reply = TextReply(reply)
        model = str(body.get("model", "scripted"))
        if body.get("stream"):
            options = body.get("stream_options") or {}
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            return _sse(self._chunks(reply, model, include_usage))
        if isinstance(reply, DropReply):
            return _error(500, "DropReply needs a streaming request", "server_error")
        return JSONResponse(self._completion(reply, model))

    def _call_ids(self, reply: ToolCallsReply) -> list[str]:
        ids = []
        for call in reply.calls:
            self._calls += 1
            ids.append(call.id or f"call_{self._calls}")
        return ids

    def _chunks(
        self, reply: TextReply | ToolCallsReply | DropReply, model: str, include_usage: bool
    ) -> Iterator[dict[str, Any]]:
        frame = _Frame(model, include_usage)
        yield frame.choice({"role": "assistant", "content": ""})
        if isinstance(reply, DropReply):
            for piece in _split(reply.text, 2):
                yield frame.choice({"content": piece})
            raise _DroppedOnPurpose
        for piece in _split(reply.text, reply.pieces):
            yield frame.choice({"content": piece})
        if isinstance(reply, ToolCallsReply):
            ids = self._call_ids(reply)
            # A call with no argument text still needs its first delta (id and name).
            pieces = [_split(_arguments(call), reply.pieces) or [""] for call in reply.calls]
            for round_ in range(max(len(p) for p in pieces)):
                for index, call in enumerate(reply.calls):
                    if round_ >= len(pieces[index]):
                        continue
                    delta: dict[str, Any] = {
                        "index": index,
                        "function": {"arguments": pieces[index][round_]},
                    }
                    if round_ == 0:
                        delta["id"] = ids[index]
                        delta["type"] = "function"
                        delta["function"]["name"] = call.name
                    yield frame.choice({"tool_calls": [delta]})
        yield frame.choice({}, finish_reason=reply.finish_reason)
        if include_usage and reply.usage is not None:
            yield frame.usage(reply.usage)

    def _completion(self, reply: TextReply | ToolCallsReply, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if isinstance(reply, ToolCallsReply):
            message["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": _arguments(call)},
                }
                for call_id, call in zip(self._call_ids(reply), reply.calls, strict=True)
            ]
        completion: dict[str, Any] = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if reply.usage is not None:
            completion["usage"] = _usage(reply.usage)
        return completion


@dataclass
class _Frame:
    """The envelope every chunk of one streamed completion shares."""

    model: str
    include_usage: bool
    created: int = field(default_factory=lambda: int(time.time()))

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = None  # as OpenAI: null on every chunk but the last
        return chunk

    def choice(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self._chunk(
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )

    def usage(self, usage: Usage) -> dict[str, Any]:
        chunk = self._chunk([])
        chunk["usage"] = _usage(usage)
        return chunk


def _sse(chunks: Iterator[dict[str, Any]]) -> Response:
    from starlette.responses import StreamingResponse

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n".encode()
            # A real provider's pieces arrive apart; let each go out as its own write.
            await asyncio.sleep(0)
        yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


def _error(status: int, message: str, type_: str | None, code: str | None = None) -> Response:
    from starlette.responses import JSONResponse

    if type_ is None:
        type_ = (
            "rate_limit_error"
            if status == 429
            else "server_error"
            if status >= 500
            else "invalid_request_error"
        )
    error = {"message": message, "type": type_, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status)


async def _client_left(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; True if the client hung up first (the body is read already, so the
    next ASGI message is the disconnect)."""
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


def _split(text: str, pieces: int) -> list[str]:
    """``text`` in up to ``pieces`` non-empty parts (none for empty text)."""
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments(call: ScriptedToolCall) -> str:
    if isinstance(call.arguments, str):
        return call.arguments
    return json.dumps(dict(call.arguments))


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
