"""``ModelAdapter``: one streamed model turn, as text deltas, tool-call deltas and usage.

Messages are OpenAI-style chat dicts (``role``, ``content``, ``tool_calls``,
``tool_call_id``): the common ground of every provider LiteLLM and the ``openai`` package
speak. System prompts are passed apart from the messages so an adapter can place them as its
provider wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from codemode.tools import Tool


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of tool call ``index`` of this turn: its id and name come first, then the
    arguments' JSON text in pieces."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of the turn, when the provider reports them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class Finish:
    """The turn ended; ``reason`` as the provider gave it (``stop``, ``tool_calls``, ...)."""

    reason: str | None = None


ModelChunk = TextDelta | ToolCallDelta | Usage | Finish


@runtime_checkable
class ModelAdapter(Protocol):
    """A model that streams one turn at a time."""

    model: str

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        """The model's answer to ``messages``, as it arrives."""
        ...


async def complete_text(
    adapter: ModelAdapter,
    messages: Sequence[Mapping[str, Any]],
    *,
    system_prompts: Sequence[str] = (),
) -> str:
    """The whole text of one turn without tools (for short side questions to a cheap model)."""
    parts = [
        chunk.text
        async for chunk in adapter.stream(messages, system_prompts=system_prompts)
        if isinstance(chunk, TextDelta)
    ]
    return "".join(parts)
