"""``ScriptedAdapter``: a model adapter that answers from a script, for tests of model loops.

Each reply is a string (streamed as text in a few pieces) or a list of ``ModelChunk`` values
(for tool calls). Every request is recorded, so a test can check what the model was sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codemode.adapters import Finish, ModelChunk, TextDelta
from codemode.tools import Tool


@dataclass(frozen=True, slots=True)
class ScriptedRequest:
    messages: list[dict[str, Any]]
    tools: list[str]
    system_prompts: list[str]


@dataclass
class ScriptedAdapter:
    """Answers turn after turn from ``replies``; raises ``AssertionError`` when they run out."""

    replies: Iterable[str | Sequence[ModelChunk] | BaseException]
    model: str = "scripted"
    requests: list[ScriptedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue = list(self.replies)

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        self.requests.append(
            ScriptedRequest(
                [dict(message) for message in messages],
                [tool.name for tool in tools],
                [str(prompt) for prompt in system_prompts],
            )
        )
        if not self._queue:
            raise AssertionError(f"ScriptedAdapter: no reply left for request {len(self.requests)}")
        return self._play(self._queue.pop(0))

    async def _play(
        self, reply: str | Sequence[ModelChunk] | BaseException
    ) -> AsyncIterator[ModelChunk]:
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, str):
            middle = max(1, len(reply) // 2)
            for piece in (reply[:middle], reply[middle:]):
                if piece:
                    yield TextDelta(piece)
            yield Finish("stop")
            return
        for chunk in reply:
            yield chunk
