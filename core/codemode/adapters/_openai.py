"""``openai_text``: a model adapter on the ``openai`` package, for OpenAI and any endpoint that
speaks its chat-completions API (vLLM, Ollama, LM Studio, llama.cpp, a gateway...).

Needs the ``openai`` extra; the package is imported when an adapter is made, not before.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from codemode._extras import require_extra
from codemode.adapters._common import (
    error_class,
    model_error,
    read_stream,
    streaming_request,
    with_cause,
)
from codemode.adapters._protocol import ModelChunk
from codemode.errors import (
    ConfigError,
    ModelAuthError,
    ModelError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from codemode.tools import Tool

if TYPE_CHECKING:
    from types import ModuleType

    from openai import AsyncOpenAI

__all__ = ["OpenAIText", "openai_text"]

_PROVIDER = "openai"
# Set by the adapter on every request, so not accepted as options.
_RESERVED = frozenset({"messages", "tools", "stream"})


def openai_text(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    client: AsyncOpenAI | None = None,
    **options: Any,
) -> OpenAIText:
    """An adapter that streams ``model`` through ``openai.AsyncOpenAI``.

    ``base_url`` and ``api_key`` default as the SDK's do (``OPENAI_BASE_URL``,
    ``OPENAI_API_KEY``, read when the first request is made). Options that ``AsyncOpenAI``
    takes (``timeout``, ``max_retries``, ``organization``, ``default_headers``, ...) configure
    the client; the others (``temperature``, ``max_tokens``, ``stream_options``, ...) go with
    each request, and a name neither takes is a ``ConfigError`` at once. Give ``client`` to use
    an ``AsyncOpenAI`` of your own: then only request options apply, and the adapter never
    closes it.
    """
    openai = require_extra("openai", "openai")
    reserved = sorted(_RESERVED & set(options))
    if reserved:
        raise ConfigError(f"openai_text sets {reserved} itself; they are not options")
    client_params = set(inspect.signature(openai.AsyncOpenAI).parameters)
    request_params = set(
        inspect.signature(openai.resources.chat.AsyncCompletions.create).parameters
    ) - {"self", "messages", "model", *_RESERVED}
    client_options: dict[str, Any] = {}
    request_options: dict[str, Any] = {}
    for name, value in options.items():
        if client is None and name in client_params:
            client_options[name] = value
        elif name in request_params:
            request_options[name] = value
        elif name in client_params:
            raise ConfigError(
                f"openai_text: {name!r} configures a client, so it cannot go with client="
                " (configure that client instead)"
            )
        else:
            raise ConfigError(
                f"openai_text: unknown option {name!r}; it takes the options of"
                " openai.AsyncOpenAI and of chat.completions.create"
            )
    if client is None:
        client_options.update(base_url=base_url, api_key=api_key)
    elif base_url is not None or api_key is not None:
        raise ConfigError(
            "openai_text: base_url and api_key configure a client, so they cannot go with"
            " client= (configure that client instead)"
        )
    return OpenAIText(model, openai, client, client_options, request_options)


class OpenAIText:
    """A ``ModelAdapter`` on ``AsyncOpenAI.chat.completions.create(stream=True)``; made by
    ``openai_text``. ``aclose()`` (or ``async with``) closes the connections it opened."""

    def __init__(
        self,
        model: str,
        openai: ModuleType,
        client: AsyncOpenAI | None,
        client_options: dict[str, Any],
        request_options: dict[str, Any],
    ) -> None:
        self.model = model
        self._openai = openai
        self._given_client = client
        self._client_options = client_options
        self._request_options = request_options
        # One client per event loop: an httpx pool's connections belong to the loop that
        # opened them, and an adapter may outlive a loop (``asyncio.run`` per test or script).
        # Made on first use, so an adapter can be made before its credentials are set (at
        # import time, as a module-level ``model = openai_text(...)``).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI]
        self._clients = weakref.WeakKeyDictionary()
        self._base_url = (
            str(client.base_url) if client is not None else _base_url_of(client_options)
        )

    def __repr__(self) -> str:
        return f"openai_text({self.model!r}, base_url={self._base_url!r})"

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        request = streaming_request(
            self._request_options, self.model, messages, tools, system_prompts
        )

        async def open_stream() -> AsyncIterable[Any]:
            stream: AsyncIterable[Any] = await self._client().chat.completions.create(**request)
            return stream

        return read_stream(open_stream, _close, self._translate)

    async def aclose(self) -> None:
        """Close the connections this adapter opened in the running event loop (a client
        given as ``client=`` stays open: it is yours)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    async def __aenter__(self) -> OpenAIText:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _client(self) -> AsyncOpenAI:
        if self._given_client is not None:
            return self._given_client
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._openai.AsyncOpenAI(**self._client_options)
            self._clients[loop] = client
            self._base_url = str(client.base_url)
        return client

    def _translate(self, exc: BaseException) -> ModelError | None:
        openai = self._openai
        where = {"provider": _PROVIDER, "model": self.model}
        if isinstance(exc, openai.APITimeoutError | TimeoutError):
            return model_error(ModelTimeoutError, "no answer in time", status=None, **where)
        if isinstance(exc, openai.APIConnectionError):
            reason = with_cause(f"{exc.message} (base URL {self._base_url})", exc)
            return model_error(ModelUnavailableError, reason, status=None, **where)
        if isinstance(exc, openai.APIStatusError):
            body = exc.body
            said = body.get("message") if isinstance(body, dict) else None
            detail = str(said or exc.message)
            status = exc.status_code
            return model_error(error_class(status), detail, status=status, **where)
        if isinstance(exc, openai.OpenAIError) and not isinstance(exc, openai.APIError):
            # Raised before any request: no credentials (the SDK's words say where it looked).
            return model_error(ModelAuthError, str(exc), status=None, **where)
        if isinstance(exc, openai.OpenAIError):
            # An error event inside the stream, or the SDK failing to read a chunk.
            return model_error(ModelError, str(exc), status=None, **where)
        return None


async def _close(stream: Any) -> None:
    await stream.close()


def _base_url_of(client_options: Mapping[str, Any]) -> str | None:
    """The base URL a client made with these options will use, as far as is known now."""
    return client_options.get("base_url") or os.environ.get("OPENAI_BASE_URL") or None
