"""The chat stream as Server-Sent Events: ``data: <event JSON>`` per AG-UI event.

The wire format is AG-UI's own (``ag_ui.encoder.EventEncoder``): camelCase JSON, one event per
``data:`` line, a blank line after each. ``to_server_sent_events_response`` wraps it in a
Starlette ``StreamingResponse`` (extra ``codemode[server]``); when the client disconnects,
Starlette cancels the iteration, and ``chat`` then cancels its tool calls and their
sandboxes before the response ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ag_ui.core import BaseEvent
from ag_ui.encoder import EventEncoder

from codemode._extras import require_extra

if TYPE_CHECKING:
    from starlette.responses import StreamingResponse

MEDIA_TYPE = "text/event-stream"
_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    # Proxies such as nginx would otherwise hold the stream back in a buffer.
    "X-Accel-Buffering": "no",
}


async def to_server_sent_events(stream: AsyncIterator[BaseEvent]) -> AsyncIterator[bytes]:
    """Each event of ``stream`` as one SSE message, UTF-8 encoded."""
    encoder = EventEncoder()
    try:
        async for event in stream:
            yield encoder.encode(event).encode("utf-8")
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def to_server_sent_events_response(
    stream: AsyncIterator[BaseEvent], *, headers: dict[str, str] | None = None, **options: Any
) -> StreamingResponse:
    """A Starlette ``StreamingResponse`` of the chat stream, as a TanStack AI client
    (``fetchServerSentEvents``) reads it."""
    require_extra("starlette", "server")
    from starlette.responses import StreamingResponse

    return StreamingResponse(
        to_server_sent_events(stream),
        media_type=MEDIA_TYPE,
        headers={**_HEADERS, **(headers or {})},
        **options,
    )
