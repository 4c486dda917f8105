"""The context a tool receives: where it sends custom events, and which call it serves.

Part of the contract layer (with ``codemode.isolate`` and ``codemode.errors``): tools, drivers
and the code-mode tool all use it, and it depends on nothing else in codemode.
"""

from __future__ import annotations

# asyncio for annotations only, imported for real so that typing.get_type_hints works on
# every public class (it costs about as much as the rest of codemode.isolate).
import asyncio
from collections.abc import Callable
from typing import Any

EventSink = Callable[[str, Any], None]


def _discard(name: str, data: Any) -> None:
    return None


class ToolExecutionContext:
    """Passed to a tool that declares a ``context: ToolExecutionContext`` parameter.

    Created without arguments it is a usable no-op context, so tools can be called directly
    in tests and scripts.
    """

    __slots__ = ("_sink", "tool_call_id")

    def __init__(
        self, emit_custom_event: EventSink | None = None, tool_call_id: str | None = None
    ) -> None:
        self._sink: EventSink = emit_custom_event or _discard
        self.tool_call_id = tool_call_id

    def emit_custom_event(self, name: str, data: Any) -> None:
        """Send a custom event (an AG-UI ``CUSTOM`` event in a chat stream)."""
        self._sink(name, data)

    def for_worker_thread(self, loop: asyncio.AbstractEventLoop) -> ToolExecutionContext:
        """A copy whose events are handed to ``loop`` (sinks need not be thread-safe)."""
        sink = self._sink
        if sink is _discard:
            return self

        def emit(name: str, data: Any) -> None:
            loop.call_soon_threadsafe(sink, name, data)

        return ToolExecutionContext(emit, self.tool_call_id)

    def __repr__(self) -> str:
        return f"ToolExecutionContext(tool_call_id={self.tool_call_id!r})"
