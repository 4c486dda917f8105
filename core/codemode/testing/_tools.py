"""Small real tools for tests and conformance runs: echo, sleep, fail, and a call recorder."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from codemode.isolate import ToolBinding
from codemode.tools import Tool, ToolExecutionContext, tool


@tool
async def echo(value: Any = None, i: int | None = None) -> Any:
    """Return the input object unchanged (``{value}`` or ``{i}``)."""
    return {"value": value} if i is None else {"i": i}


@tool
async def sleep(ms: int) -> dict[str, int]:
    """Wait ``ms`` milliseconds on the host, then return ``{slept: ms}``."""
    await asyncio.sleep(ms / 1000)
    return {"slept": ms}


@tool
async def fail(message: str = "tool failed") -> None:
    """Always raise ``RuntimeError(message)`` on the host."""
    raise RuntimeError(message)


@dataclass
class Recorder:
    """A binding that records the arguments of every call and the events it saw."""

    name: str = "record"
    description: str = "Record the call and return the number of calls so far."
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        self.calls.append(args)
        return len(self.calls)


def bindings(*tools: Tool | ToolBinding) -> dict[str, ToolBinding]:
    """``{"external_<name>": tool}`` for the given tools, as ``IsolateConfig.bindings`` wants."""
    return {f"external_{t.name}": t for t in tools}
