"""The model adapter conformance suite: what the chat loop relies on an adapter for, as tests.

Run it against any adapter that can talk to an OpenAI-compatible endpoint::

    import pytest
    from codemode.testing import AdapterConformance
    from my_adapter import my_text

    class TestMyAdapter(AdapterConformance):
        @pytest.fixture
        def make_adapter(self):
            return lambda base_url: my_text("some-model", base_url=base_url, api_key="test",
                                            timeout=AdapterConformance.timeout, retries=0)

``make_adapter(base_url)`` returns an adapter whose requests go to ``base_url`` (a
``ScriptedOpenAIServer``'s, ``http://127.0.0.1:PORT/v1``), with a request timeout of
``timeout`` seconds and no retries (a retry would play the next reply of the script). If the
adapter has ``aclose()``, each test calls it at its end, in its event loop.

Each test runs its own event loop (no pytest plugin needed) against its own server, and fails
if anything tried to reach a host other than this one.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from codemode.adapters import Finish, ModelAdapter, ModelChunk, TextDelta, ToolCallDelta, Usage
from codemode.errors import (
    ModelAuthError,
    ModelError,
    ModelRateLimitError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from codemode.testing._harness import sync
from codemode.testing._openai_server import (
    DelayReply,
    DropReply,
    ErrorReply,
    Reply,
    ScriptedOpenAIServer,
    ScriptedToolCall,
    TextReply,
    ToolCallsReply,
)
from codemode.tools import Tool, tool

MakeAdapter = Callable[[str], ModelAdapter]

_LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", b"127.0.0.1", b"::1", b"localhost"})


@tool(description="Add two numbers")
def add(a: float, b: float) -> float:
    return a + b


@tool(description="Look up the weather in a city")
def weather(city: str) -> str:
    return f"sunny in {city}"


USER = [{"role": "user", "content": "What is 1 + 2?"}]
HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "Add 1 and 2, and tell me the weather in Paris."},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_add",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
            },
            {
                "id": "call_weather",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Paris"'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_add", "content": "3"},
    {
        "role": "tool",
        "tool_call_id": "call_weather",
        "content": '{"error": "arguments are not valid JSON"}',
    },
    {"role": "assistant", "content": "1 + 2 = 3. Which city did you mean?"},
    {"role": "user", "content": [{"type": "text", "text": "Paris, France."}]},
]


@dataclass
class Turn:
    """What one streamed turn gave: every chunk, and the error that ended it, if one did."""

    chunks: list[ModelChunk]
    error: BaseException | None = None

    @property
    def text(self) -> str:
        return "".join(chunk.text for chunk in self.chunks if isinstance(chunk, TextDelta))

    @property
    def tool_calls(self) -> list[tuple[str | None, str | None, str]]:
        """``(id, name, arguments)`` of each tool call, by index, reassembled from deltas."""
        calls: dict[int, list[Any]] = {}
        for chunk in self.chunks:
            if isinstance(chunk, ToolCallDelta):
                call = calls.setdefault(chunk.index, [None, None, ""])
                call[0] = call[0] or chunk.id
                call[1] = call[1] or chunk.name
                call[2] += chunk.arguments
        return [tuple(calls[index]) for index in sorted(calls)]

    @property
    def usage(self) -> list[Usage]:
        return [chunk for chunk in self.chunks if isinstance(chunk, Usage)]

    @property
    def finishes(self) -> list[Finish]:
        return [chunk for chunk in self.chunks if isinstance(chunk, Finish)]


@asynccontextmanager
async def _adapter(make_adapter: MakeAdapter, base_url: str) -> AsyncIterator[ModelAdapter]:
    adapter = make_adapter(base_url)
    try:
        yield adapter
    finally:
        close = getattr(adapter, "aclose", None)
        if close is not None:
            await close()


@asynccontextmanager
async def _serving(
    make_adapter: MakeAdapter, replies: Sequence[Reply]
) -> AsyncIterator[tuple[ScriptedOpenAIServer, ModelAdapter]]:
    async with (
        ScriptedOpenAIServer(replies) as server,
        _adapter(make_adapter, server.base_url) as adapter,
    ):
        yield server, adapter


async def play(
    adapter: ModelAdapter,
    messages: Sequence[Mapping[str, Any]] = USER,
    *,
    tools: Sequence[Tool] = (),
    system_prompts: Sequence[str] = (),
) -> Turn:
    """Stream one turn to its end, keeping the error that ended it (if any) instead of raising."""
    turn = Turn([])
    try:
        async for chunk in adapter.stream(messages, tools=tools, system_prompts=system_prompts):
            turn.chunks.append(chunk)
    except Exception as exc:
        turn.error = exc
    return turn


def without_nulls(value: Any) -> Any:
    """``value`` with every ``None`` member of a dict left out: a client may send
    ``"content": null`` or leave it out, which mean the same."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


@contextmanager
def _port_nobody_listens_on() -> Iterator[int]:
    # Bound but not listening: connecting is refused, and no one else can take the port.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


class AdapterConformance:
    """Subclass in a ``Test*`` class and provide a ``make_adapter`` fixture."""

    timeout: ClassVar[float] = 1.0
    """The request timeout ``make_adapter`` must give its adapters, in seconds."""

    @pytest.fixture
    def make_adapter(self) -> MakeAdapter:
        raise NotImplementedError(
            "provide a `make_adapter` fixture: base_url -> your ModelAdapter, with"
            f" timeout={self.timeout} and no retries"
        )

    @pytest.fixture(autouse=True)
    def no_internet(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """Refuse, and afterwards report, any connection or name lookup beyond this host (an
        SDK's telemetry, a price list fetched on first use...)."""
        attempts: list[str] = []
        connect = socket.socket.connect
        getaddrinfo = socket.getaddrinfo

        def guarded_connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL_HOSTS:
                attempts.append(f"connect {address}")
                raise OSError(f"AdapterConformance: no connection beyond this host: {address}")
            return connect(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and host not in _LOCAL_HOSTS:
                attempts.append(f"name lookup {host!r}")
                raise OSError(f"AdapterConformance: no name lookup beyond this host: {host!r}")
            return getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", guarded_connect)
        monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
        yield
        assert attempts == [], f"the adapter tried to reach beyond this host: {attempts}"

    # Streaming.

    @sync
    async def test_streamed_text_reassembles(self, make_adapter: MakeAdapter) -> None:
        text = "The answer is 3, as it was yesterday and will be tomorrow."
        async with _serving(make_adapter, [TextReply(text, pieces=5)]) as (_, adapter):
            turn = await play(adapter)
        assert turn.error is None, repr(turn.error)
        assert turn.text == text
        assert sum(isinstance(chunk, TextDelta) for chunk in turn.chunks) > 1, "not streamed"
        assert turn.finishes == [Finish("stop")]
        assert turn.chunks[-1] == Finish("stop"), "Finish must be the last chunk"
        assert turn.tool_calls == []

    @sync
    async def test_one_tool_call_with_arguments_in_pieces(self, make_adapter: MakeAdapter) -> None:
        call = ScriptedToolCall("add", {"a": 1, "b": 2}, id="call_add")
        async with _serving(make_adapter, [ToolCallsReply(call, pieces=4)]) as (_, adapter):
            turn = await play(adapter, tools=[add])
        assert turn.error is None, repr(turn.error)
        assert turn.tool_calls == [("call_add", "add", '{"a": 1, "b": 2}')]
        deltas = [chunk for chunk in turn.chunks if isinstance(chunk, ToolCallDelta)]
        assert len(deltas) > 1, "the arguments came in pieces; so should the deltas"
        assert deltas[0].id == "call_add"
        assert deltas[0].name == "add"
        assert all(delta.id is None and delta.name is None for delta in deltas[1:])
        assert turn.chunks[-1] == Finish("tool_calls")

    @sync
    async def test_several_tool_calls_in_one_turn(self, make_adapter: MakeAdapter) -> None:
        reply = ToolCallsReply(
            ScriptedToolCall("add", {"a": 1, "b": 2}, id="call_1"),
            ScriptedToolCall("weather", {"city": "Paris"}, id="call_2"),
            ScriptedToolCall("weather", {"city": "Lima"}, id="call_3"),
            text="Let me check.",
        )
        async with _serving(make_adapter, [reply]) as (_, adapter):
            turn = await play(adapter, tools=[add, weather])
        assert turn.error is None, repr(turn.error)
        assert turn.text == "Let me check."
        assert turn.tool_calls == [
            ("call_1", "add", '{"a": 1, "b": 2}'),
            ("call_2", "weather", '{"city": "Paris"}'),
            ("call_3", "weather", '{"city": "Lima"}'),
        ]
        indexes = [chunk.index for chunk in turn.chunks if isinstance(chunk, ToolCallDelta)]
        assert indexes != sorted(indexes), "the server interleaves the calls' deltas"
        assert turn.chunks[-1] == Finish("tool_calls")

    @sync
    async def test_malformed_tool_arguments_pass_through_as_text(
        self, make_adapter: MakeAdapter
    ) -> None:
        # The chat loop tells the model its arguments were not JSON; the adapter must not
        # parse them, fix them or fail on them.
        broken = '{"a": 1, "b": '
        reply = ToolCallsReply(ScriptedToolCall("add", broken, id="call_bad"))
        async with _serving(make_adapter, [reply]) as (_, adapter):
            turn = await play(adapter, tools=[add])
        assert turn.error is None, repr(turn.error)
        assert turn.tool_calls == [("call_bad", "add", broken)]
        with pytest.raises(json.JSONDecodeError):
            json.loads(turn.tool_calls[0][2])
        assert turn.chunks[-1] == Finish("tool_calls")

    @sync
    async def test_usage_is_reported_once_before_finish(self, make_adapter: MakeAdapter) -> None:
        usage = Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15)
        async with _serving(make_adapter, [TextReply("Three.", usage=usage)]) as (server, adapter):
            turn = await play(adapter)
        assert turn.error is None, repr(turn.error)
        assert server.requests[0].body.get("stream_options", {}).get("include_usage") is True
        assert turn.usage == [usage]
        assert turn.chunks[-2:] == [usage, Finish("stop")]

    @sync
    async def test_consumer_may_stop_early(self, make_adapter: MakeAdapter) -> None:
        # The chat loop stops reading when it is cancelled; the adapter must stay usable.
        async with _serving(make_adapter, ["A long answer, cut short.", "Next."]) as (_, adapter):
            stream = adapter.stream(USER)
            first = await anext(stream)
            assert isinstance(first, TextDelta)
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
            turn = await play(adapter)
        assert turn.error is None, repr(turn.error)
        assert turn.text == "Next."

    # What the adapter sends.

    @sync
    async def test_system_prompts_and_tools_are_sent(self, make_adapter: MakeAdapter) -> None:
        class Prompt:
            """A prompt object, such as a live skills prompt: it is sent as ``str(prompt)``."""

            def __str__(self) -> str:
                return "Skills: none yet."

        async with _serving(make_adapter, ["Three."]) as (server, adapter):
            prompts: list[Any] = ["You are terse.", Prompt()]
            turn = await play(adapter, tools=[add, weather], system_prompts=prompts)
        assert turn.error is None, repr(turn.error)
        body = server.requests[0].body
        assert body["stream"] is True
        assert adapter.model.endswith(body["model"])
        assert body["messages"] == [
            {"role": "system", "content": "You are terse."},
            {"role": "system", "content": "Skills: none yet."},
            *USER,
        ]
        assert body["tools"] == [add.to_openai(), weather.to_openai()]

    @sync
    async def test_no_tools_sends_no_tools_field(self, make_adapter: MakeAdapter) -> None:
        async with _serving(make_adapter, ["Three."]) as (server, adapter):
            turn = await play(adapter)
        assert turn.error is None, repr(turn.error)
        body = server.requests[0].body
        assert "tools" not in body
        assert body["messages"] == USER

    @sync
    async def test_tool_calls_and_results_round_trip(self, make_adapter: MakeAdapter) -> None:
        async with _serving(make_adapter, ["Sunny."]) as (server, adapter):
            turn = await play(adapter, HISTORY, tools=[add, weather])
        assert turn.error is None, repr(turn.error)
        assert without_nulls(server.requests[0].body["messages"]) == without_nulls(HISTORY)

    # Failures: each a ModelError subclass, raised from the stream, with status and message.

    @pytest.mark.parametrize(
        ("status", "kind"),
        [
            (401, ModelAuthError),
            (403, ModelAuthError),
            (429, ModelRateLimitError),
            (500, ModelUnavailableError),
            (503, ModelUnavailableError),
            (400, ModelError),
        ],
    )
    @sync
    async def test_http_errors_map_to_model_errors(
        self, make_adapter: MakeAdapter, status: int, kind: type[ModelError]
    ) -> None:
        message = f"scripted failure {status}: do not retry"
        async with _serving(make_adapter, [ErrorReply(status, message)]) as (server, adapter):
            turn = await play(adapter)
        error = turn.error
        assert type(error) is kind, f"{type(error).__name__}: {error}"
        assert isinstance(error, ModelError)
        assert error.status == status
        assert error.model == adapter.model
        assert error.provider
        assert message in str(error), "the provider's own words must reach the user"
        assert len(server.requests) == 1, "no retries: a retry plays the next reply"

    @sync
    async def test_timeout(self, make_adapter: MakeAdapter) -> None:
        async with _serving(make_adapter, [DelayReply(self.timeout * 10)]) as (_, adapter):
            started = time.monotonic()
            turn = await play(adapter)
            elapsed = time.monotonic() - started
        assert isinstance(turn.error, ModelTimeoutError), repr(turn.error)
        assert turn.error.model == adapter.model
        assert elapsed < self.timeout * 5, f"took {elapsed:.1f}s with timeout={self.timeout}"

    @sync
    async def test_server_down(self, make_adapter: MakeAdapter) -> None:
        with _port_nobody_listens_on() as port:
            async with _adapter(make_adapter, f"http://127.0.0.1:{port}/v1") as adapter:
                turn = await play(adapter)
        assert isinstance(turn.error, ModelUnavailableError), repr(turn.error)
        assert turn.error.status is None
        assert turn.error.model == adapter.model

    @sync
    async def test_connection_dropped_mid_stream(self, make_adapter: MakeAdapter) -> None:
        async with _serving(make_adapter, [DropReply("Partial ans")]) as (_, adapter):
            turn = await play(adapter)
        assert isinstance(turn.error, ModelError), repr(turn.error)
        assert turn.finishes == [], "a dropped stream did not finish"

    @sync
    async def test_errors_leave_the_adapter_usable(self, make_adapter: MakeAdapter) -> None:
        replies: list[Reply] = [ErrorReply(500), DropReply(), "Back again."]
        async with _serving(make_adapter, replies) as (_, adapter):
            turns = [await play(adapter) for _ in replies]
        assert all(isinstance(turn.error, ModelError) for turn in turns[:2])
        assert turns[2].error is None, repr(turns[2].error)
        assert turns[2].text == "Back again."
