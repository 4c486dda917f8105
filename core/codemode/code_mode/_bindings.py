"""Bindings that wrap host tools so every sandbox call emits its events."""

from __future__ import annotations

import time
from typing import Any

from codemode.code_mode import _events as events
from codemode.tools import Tool, ToolExecutionContext


class EventedBinding:
    """A ``ToolBinding`` for one tool that reports calls to the current execution's context."""

    __slots__ = ("_context", "_tool", "function_name")

    def __init__(self, tool: Tool, context: ToolExecutionContext) -> None:
        self._tool = tool
        self._context = context
        self.function_name = f"external_{tool.name}"

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
        emit = self._context.emit_custom_event
        emit(
            events.EXTERNAL_CALL,
            {"function": self.function_name, "args": args, "timestamp": events.timestamp()},
        )
        started = time.perf_counter()
        try:
            result = await self._tool.execute(args, context or self._context)
        except Exception as exc:
            emit(
                events.EXTERNAL_ERROR,
                {
                    "function": self.function_name,
                    "error": str(exc),
                    "duration": events.duration_ms(started),
                },
            )
            raise
        emit(
            events.EXTERNAL_RESULT,
            {
                "function": self.function_name,
                "result": result,
                "duration": events.duration_ms(started),
            },
        )
        return result


def bind_tools(tools: list[Tool], context: ToolExecutionContext) -> dict[str, EventedBinding]:
    return {f"external_{tool.name}": EventedBinding(tool, context) for tool in tools}
