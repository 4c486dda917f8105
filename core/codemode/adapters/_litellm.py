"""``litellm_text``: a model adapter on LiteLLM, for every provider it speaks
(``"openai/gpt-4o-mini"``, ``"anthropic/claude-..."``, ``"ollama/llama3"``, ...).

Needs the ``litellm`` extra; LiteLLM is imported when an adapter is made, not before. It is
imported with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` unless you set that variable yourself:
otherwise importing LiteLLM fetches its model cost map from GitHub, retrying for seconds when
offline (in CI, behind a firewall), for prices this adapter never reads. The copy LiteLLM
ships is used instead.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
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
from codemode.errors import ConfigError, ModelError, ModelTimeoutError, ModelUnavailableError
from codemode.tools import Tool

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["LiteLLMText", "litellm_text"]

# Set by the adapter on every request, so not accepted as options.
_RESERVED = frozenset({"messages", "tools", "stream"})


def litellm_text(model: str, **options: Any) -> LiteLLMText:
    """An adapter that streams ``model`` (``"provider/name"``) through ``litellm.acompletion``.

    Every option goes with each request as LiteLLM takes it: ``api_base``, ``api_key``,
    ``temperature``, ``max_tokens``, ``timeout``, ``num_retries``, ``stream_options``, ...
    """
    litellm = _import_litellm()
    reserved = sorted(_RESERVED & set(options))
    if reserved:
        raise ConfigError(f"litellm_text sets {reserved} itself; they are not options")
    try:
        _, provider, _, _ = litellm.get_llm_provider(
            model=model,
            custom_llm_provider=options.get("custom_llm_provider"),
            api_base=options.get("api_base"),
        )
    except Exception as exc:  # LiteLLM's words say which providers it knows
        raise ConfigError(f"litellm_text({model!r}): {getattr(exc, 'message', exc)}") from exc
    return LiteLLMText(model, str(provider), litellm, options)


def _import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm: Any = require_extra("litellm", "litellm")
    # Without this LiteLLM prints a "Give Feedback / Get Help" banner on stdout for every
    # failed request, in the middle of a CLI's or a server's output; the adapter raises a
    # ModelError that carries LiteLLM's message instead.
    litellm.suppress_debug_info = True
    return litellm


class LiteLLMText:
    """A ``ModelAdapter`` on ``litellm.acompletion(stream=True)``; made by ``litellm_text``."""

    def __init__(
        self, model: str, provider: str, litellm: ModuleType, options: dict[str, Any]
    ) -> None:
        self.model = model
        self.provider = provider
        self._litellm = litellm
        # LiteLLM's own dependencies, imported by it already.
        self._exceptions = importlib.import_module("litellm.exceptions")
        self._openai = importlib.import_module("openai")
        self._httpx = importlib.import_module("httpx")
        self._options = options

    def __repr__(self) -> str:
        return f"litellm_text({self.model!r})"

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        request = streaming_request(self._options, self.model, messages, tools, system_prompts)

        async def open_stream() -> AsyncIterable[Any]:
            stream: AsyncIterable[Any] = await self._litellm.acompletion(**request)
            return stream

        return read_stream(open_stream, _close, self._translate)

    def _translate(self, exc: BaseException) -> ModelError | None:
        from_sdk = type(exc).__module__.split(".")[0] in ("litellm", "openai", "httpx")
        if not from_sdk and not isinstance(exc, TimeoutError | ConnectionError):
            return None
        provider = str(getattr(exc, "llm_provider", None) or self.provider)
        where = {"provider": provider, "model": self.model}
        detail = str(getattr(exc, "message", None) or exc)
        failure = self._transport_failure(exc)
        if failure is TimeoutError:
            return model_error(ModelTimeoutError, detail, status=None, **where)
        if failure is ConnectionError:
            return model_error(ModelUnavailableError, with_cause(detail, exc), status=None, **where)
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        return model_error(error_class(status), detail, status=status, **where)

    def _transport_failure(self, exc: BaseException) -> type[Exception] | None:
        """``TimeoutError`` or ``ConnectionError`` if no HTTP answer came, else ``None``.

        LiteLLM reports these with a status of its own (408 for a timeout; 500 for a refused
        connection, as an ``InternalServerError``), so the status cannot tell them from a
        provider's answer: the exception it wraps can.
        """
        errors = self._exceptions
        openai = self._openai
        httpx = self._httpx
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(
                current,
                errors.Timeout | openai.APITimeoutError | httpx.TimeoutException | TimeoutError,
            ):
                return TimeoutError
            if isinstance(
                current,
                errors.APIConnectionError
                | openai.APIConnectionError
                | httpx.TransportError
                | ConnectionError,
            ):
                return ConnectionError
            # A failure mid-stream comes wrapped for LiteLLM's router fallbacks.
            inner = getattr(current, "original_exception", None)
            if not isinstance(inner, BaseException):
                inner = current.__cause__ or current.__context__
            current = inner
        return None


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
