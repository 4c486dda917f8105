"""The playground's stand-in for a model: its one turn calls ``execute_typescript`` with
the person's program, and after the result it says nothing more.

So a playground run goes through ``chat()`` like any chat turn, and the page reads the
same AG-UI stream (RUN_STARTED, TOOL_CALL_*, CUSTOM ``code_mode:*``, TOOL_CALL_RESULT,
``code_mode:run_summary``, RUN_FINISHED) the library gives every client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from codemode.adapters import Finish, ModelChunk, ToolCallDelta
from codemode.tools import Tool

EXECUTE = "execute_typescript"


class ProgramAdapter:
    """A ``ModelAdapter`` whose only answer is to run ``code``."""

    model = "playground"

    def __init__(self, code: str) -> None:
        self.code = code

    async def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        if any(message.get("role") == "tool" for message in messages):
            yield Finish("stop")
            return
        arguments = json.dumps({"typescriptCode": self.code})
        yield ToolCallDelta(
            index=0, id=f"call_{uuid.uuid4().hex[:16]}", name=EXECUTE, arguments=arguments
        )
        yield Finish("tool_calls")


def program_messages() -> list[dict[str, Any]]:
    """The conversation a playground run stands for."""
    return [{"role": "user", "content": "Run my program."}]
