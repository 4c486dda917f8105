"""Chat messages as they arrive (AG-UI messages from a TanStack AI client, or OpenAI-style
dicts) turned into the OpenAI-style dicts model adapters take.

AG-UI messages are parsed with the ``ag-ui-protocol`` models (camelCase ``toolCalls`` and
``toolCallId``, an ``id`` on every message); a dict without an ``id`` that uses OpenAI's
snake_case keys is taken as OpenAI's format. Anything else is a ``ChatInputError`` naming the
message and the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
from ag_ui.core import (
    ActivityMessage,
    AssistantMessage,
    DeveloperMessage,
    Message,
    ReasoningMessage,
    SystemMessage,
    ToolMessage,
    UserMessage,
)

from codemode._pydantic_errors import describe_validation_error, dotted_path
from codemode.errors import ConfigError

ChatMessage = dict[str, Any]
"""One OpenAI-style message: ``role``, ``content``, and ``tool_calls`` / ``tool_call_id``."""

_AG_UI: pydantic.TypeAdapter[Message] = pydantic.TypeAdapter(Message)
_MODELS = (
    ActivityMessage,
    AssistantMessage,
    DeveloperMessage,
    ReasoningMessage,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
_OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


class ChatInputError(ConfigError):
    """A message given to ``chat`` is neither an AG-UI message nor an OpenAI-style one."""


def _text(content: Any) -> Any:
    """AG-UI content (a string, or parts) as OpenAI content: a string when it is all text."""
    if content is None or isinstance(content, str):
        return content
    parts = []
    for part in content:
        data = (
            part.model_dump(by_alias=True, exclude_none=True)
            if hasattr(part, "model_dump")
            else part
        )
        parts.append(data)
    if all(isinstance(part, Mapping) and part.get("type") == "text" for part in parts):
        return "".join(str(part.get("text", "")) for part in parts)
    return parts


def _from_ag_ui(message: Any) -> ChatMessage | None:
    if isinstance(message, UserMessage):
        return {"role": "user", "content": _text(message.content)}
    if isinstance(message, SystemMessage | DeveloperMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, AssistantMessage):
        converted: ChatMessage = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            converted["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
                for call in message.tool_calls
            ]
        return converted
    if isinstance(message, ToolMessage):
        content = message.content if message.error is None else f"error: {message.error}"
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": _text(content)}
    return None  # activity and reasoning messages are the UI's, not the model's


def _is_openai(data: Mapping[str, Any]) -> bool:
    return "id" not in data and "toolCalls" not in data and "toolCallId" not in data


def _from_openai(data: Mapping[str, Any], where: str) -> ChatMessage:
    role = data.get("role")
    if role not in _OPENAI_ROLES:
        raise ChatInputError(
            f"{where}.role: must be one of {', '.join(sorted(_OPENAI_ROLES))}, got {role!r}"
        )
    converted: ChatMessage = {"role": "system" if role == "developer" else role}
    converted["content"] = data.get("content")
    if role == "tool":
        if not isinstance(data.get("tool_call_id"), str):
            raise ChatInputError(f"{where}.tool_call_id: a tool message needs the id of its call")
        converted["tool_call_id"] = data["tool_call_id"]
    if role == "assistant" and data.get("tool_calls"):
        converted["tool_calls"] = [dict(call) for call in data["tool_calls"]]
    return converted


def _parse_ag_ui(message: Mapping[str, Any], where: str) -> Any:
    try:
        return _AG_UI.validate_python(dict(message))
    except pydantic.ValidationError as exc:
        # The first part of each location is the union's tag (the role).
        detail = describe_validation_error(exc, lambda loc: dotted_path(loc[1:], where))
        raise ChatInputError(f"not an AG-UI message: {detail}") from None


def to_chat_messages(messages: Sequence[Any]) -> list[ChatMessage]:
    """``messages`` (AG-UI models or dicts, OpenAI-style dicts) as OpenAI-style dicts."""
    if isinstance(messages, str | bytes | Mapping):
        raise ChatInputError(f"messages must be a list of messages, got {type(messages).__name__}")
    converted: list[ChatMessage] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if isinstance(message, _MODELS):
            parsed: Any = message
        elif isinstance(message, Mapping):
            if _is_openai(message):
                converted.append(_from_openai(message, where))
                continue
            parsed = _parse_ag_ui(message, where)
        else:
            raise ChatInputError(f"{where}: a message is a dict, got {type(message).__name__}")
        found = _from_ag_ui(parsed)
        if found is not None:
            converted.append(found)
    return converted


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"
