"""Bindings that wrap host tools so every sandbox call emits its events."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from codemode.code_mode import _events as events
from codemode.code_mode._registry import EXTERNAL, Bindable, BindingKind
from codemode.tools import EventSink, Tool, ToolExecutionContext

# One sequence for the process (``next`` on a count is atomic under the GIL): ``callId`` pairs
# an external_call with its external_result or external_error when calls overlap.
_CALL_IDS = itertools.count(1)


class EventedBinding:
    """A ``ToolBinding`` for one tool that reports calls to the current execution's context
    (``external_*`` calls; a ``skill_*`` function emits skill events of its own).

    ``inline`` is true for sync tools: a driver may then run the tool on its engine thread
    with ``execute_inline`` (see ``codemode.isolate.InlineToolBinding``).
    """

    __slots__ = ("_context", "_tool", "function_name", "inline", "kind")

    def __init__(
        self, tool: Tool, context: ToolExecutionContext, kind: BindingKind = EXTERNAL
    ) -> None:
        self._tool = tool
        self._context = context
        self.kind = kind
        self.function_name = kind.function_name(tool.name)
        self.inline = tool.is_sync

    @property
    def name(self) -> str:
        return self._tool.name

    @property
    def description(self) -> str:
        return self._tool.description

    @property
    def input_schema(self) -> dict[str, Any]:
        return self._tool.input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self._tool.output_schema

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        if self.kind is not EXTERNAL:
            # A skill reports itself (code_mode:skill_call / skill_result / skill_error).
            return await self._tool.execute(args, context or self._context)
        emit = self._context.emit_custom_event
        call_id, started = self._called(emit, args)
        try:
            result = await self._tool.execute(args, context or self._context)
        except Exception as exc:
            self._failed(emit, exc, call_id, started)
            raise
        self._succeeded(emit, result, call_id, started)
        return result

    def execute_inline(self, args: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Any:
        """Run the (sync) tool on this thread; its events are handed to ``loop`` in order."""
        context = self._context.for_worker_thread(loop)
        emit = context.emit_custom_event
        call_id, started = self._called(emit, args)
        try:
            result = self._tool.execute_sync(args, context)
        except Exception as exc:
            self._failed(emit, exc, call_id, started)
            raise
        self._succeeded(emit, result, call_id, started)
        return result

    def _called(self, emit: EventSink, args: dict[str, Any]) -> tuple[int, float]:
        call_id = next(_CALL_IDS)
        emit(
            events.EXTERNAL_CALL,
            {
                "function": self.function_name,
                "args": args,
                "timestamp": events.timestamp(),
                "callId": call_id,
            },
        )
        return call_id, time.perf_counter()

    def _failed(self, emit: EventSink, exc: Exception, call_id: int, started: float) -> None:
        duration = events.duration_ms(started)
        emit(
            events.EXTERNAL_ERROR,
            {
                "function": self.function_name,
                "error": str(exc),
                "duration": duration,
                "callId": call_id,
            },
        )

    def _succeeded(self, emit: EventSink, result: Any, call_id: int, started: float) -> None:
        duration = events.duration_ms(started)
        emit(
            events.EXTERNAL_RESULT,
            {
                "function": self.function_name,
                "result": result,
                "duration": duration,
                "callId": call_id,
            },
        )


def bind_tools(registry: Bindable, context: ToolExecutionContext) -> dict[str, EventedBinding]:
    """One binding per registry entry, as the registry is now (for one execution)."""
    return {
        entry.function_name: EventedBinding(entry.tool, context, entry.kind)
        for entry in registry.entries()
    }
