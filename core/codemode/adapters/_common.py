"""What the OpenAI-shaped adapters share: the request they send, reading the chunks they get
back, and turning a provider's failure into a ``ModelError``.

LiteLLM and the ``openai`` package both stream chat-completion chunks of one shape
(``choices[0].delta.content``, ``.tool_calls[i].function.arguments``, a last chunk with empty
``choices`` and ``usage``), so one reader serves both; only their exception classes differ.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any

from codemode.adapters._protocol import Finish, ModelChunk, TextDelta, ToolCallDelta, Usage
from codemode.errors import (
    ModelAuthError,
    ModelError,
    ModelRateLimitError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from codemode.tools import Tool

Translate = Callable[[BaseException], ModelError | None]
"""A provider exception as a ``ModelError``, or ``None`` for one that is not the provider's
(a bug of ours or the caller's, which stays as it is)."""


def request_messages(
    messages: Sequence[Mapping[str, Any]], system_prompts: Sequence[Any]
) -> list[dict[str, Any]]:
    """System prompts as leading ``system`` messages, then the conversation as given."""
    system = [{"role": "system", "content": str(prompt)} for prompt in system_prompts]
    return [*system, *(dict(message) for message in messages)]


def request_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    return [tool.to_openai() for tool in tools]


def streaming_request(
    options: Mapping[str, Any],
    model: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Tool],
    system_prompts: Sequence[Any],
) -> dict[str, Any]:
    """The keyword arguments of one streamed chat completion, in OpenAI's shape (which
    LiteLLM takes too), asking for usage at the end."""
    request: dict[str, Any] = {
        **options,
        "model": model,
        "messages": request_messages(messages, system_prompts),
        "stream": True,
        "stream_options": {"include_usage": True, **(options.get("stream_options") or {})},
    }
    if tools:
        request["tools"] = request_tools(tools)
    return request


async def read_stream(
    open_stream: Callable[[], Awaitable[AsyncIterable[Any]]],
    close_stream: Callable[[Any], Awaitable[None]],
    translate: Translate,
) -> AsyncIterator[ModelChunk]:
    """The ``ModelChunk`` values of one streamed completion, failures translated on the way:
    both the ones of the request and the ones in the middle of the stream."""
    reader = ChunkReader()
    try:
        stream = await open_stream()
        try:
            async for chunk in stream:
                for model_chunk in reader.read(chunk):
                    yield model_chunk
        finally:
            # Also when the consumer stops early: the connection goes back, not astray.
            await close_stream(stream)
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc
    for model_chunk in reader.end():
        yield model_chunk


class ChunkReader:
    """Turns chat-completion chunks (objects with ``choices`` and ``usage`` attributes, as both
    SDKs give them) into ``ModelChunk`` values.

    Only the first choice is read (an adapter asks for one). A tool call's id and name are
    passed on once, with its first delta, even if a provider repeats them. Usage is kept
    until the stream ends and is passed on once, just before ``Finish``: providers send it
    after the finish reason, and some (through LiteLLM) on more than one chunk.
    """

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._named: dict[int, tuple[bool, bool]] = {}

    def read(self, chunk: Any) -> Iterator[ModelChunk]:
        for choice in getattr(chunk, "choices", None) or ():
            if (getattr(choice, "index", 0) or 0) != 0:
                continue
            delta = getattr(choice, "delta", None)
            if delta is not None:
                content = getattr(delta, "content", None)
                if content:
                    yield TextDelta(content)
                for call in getattr(delta, "tool_calls", None) or ():
                    tool_call = self._tool_call(call)
                    if tool_call is not None:
                        yield tool_call
            reason = getattr(choice, "finish_reason", None)
            if reason:
                self.finish_reason = str(reason)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = Usage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                total_tokens=int(getattr(usage, "total_tokens", 0) or 0),
            )

    def end(self) -> Iterator[ModelChunk]:
        if self.usage is not None:
            yield self.usage
        yield Finish(self.finish_reason)

    def _tool_call(self, call: Any) -> ToolCallDelta | None:
        index = int(getattr(call, "index", 0) or 0)
        function = getattr(call, "function", None)
        call_id = getattr(call, "id", None) or None
        name = getattr(function, "name", None) or None
        arguments = getattr(function, "arguments", None) or ""
        had_id, had_name = self._named.get(index, (False, False))
        call_id = None if had_id else call_id
        name = None if had_name else name
        self._named[index] = (had_id or call_id is not None, had_name or name is not None)
        if call_id is None and name is None and not arguments:
            return None
        return ToolCallDelta(index=index, id=call_id, name=name, arguments=arguments)


def error_class(status: int | None) -> type[ModelError]:
    """The ``ModelError`` subclass for an HTTP status."""
    if status in (401, 403):
        return ModelAuthError
    if status == 429:
        return ModelRateLimitError
    if status == 408:
        return ModelTimeoutError
    if status is not None and status >= 500:
        return ModelUnavailableError
    return ModelError


def model_error(
    kind: type[ModelError],
    detail: str,
    *,
    status: int | None,
    provider: str,
    model: str,
) -> ModelError:
    """A ``ModelError`` whose message says which model, which status, and the provider's words."""
    if status is not None:
        message = f"{provider} answered HTTP {status} for model {model!r}: {detail}"
    else:
        message = f"{provider} request for model {model!r} failed: {detail}"
    return kind(message, status=status, provider=provider, model=model)


def with_cause(detail: str, exc: BaseException) -> str:
    """``detail`` plus the low-level reason behind it (``Connection error.`` says little;
    ``ConnectError: [Errno 111] Connection refused`` says what happened)."""
    cause = exc.__cause__ or exc.__context__
    while cause is not None and not str(cause) and (cause.__cause__ or cause.__context__):
        cause = cause.__cause__ or cause.__context__
    if cause is None or str(cause) in detail:
        return detail
    return f"{detail} ({type(cause).__name__}: {cause})"
