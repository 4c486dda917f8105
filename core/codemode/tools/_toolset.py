"""``ToolSet``: the live list of tools a model is given, which may grow during a conversation.

A chat loop reads it again before every model turn, so a tool added mid-run (a skill the
model just registered) is offered on the next turn. ``version`` goes up on every change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from codemode.errors import ConfigError
from codemode.tools._tool import Tool


class ToolSet:
    """Model-facing tools by name, in the order added."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.version = 0
        for item in tools:
            self.add(item)

    def add(self, tool: Tool, *, replace: bool = False) -> None:
        """Add ``tool``; a name already present is a ``ConfigError`` unless ``replace``."""
        if not isinstance(tool, Tool):
            raise ConfigError(f"a ToolSet holds Tool objects, got {tool!r}")
        if tool.name in self._tools and not replace:
            raise ConfigError(f"two tools are named {tool.name!r}; tool names must be unique")
        self._tools[tool.name] = tool
        self.version += 1

    def remove(self, name: str) -> bool:
        removed = self._tools.pop(name, None) is not None
        if removed:
            self.version += 1
        return removed

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __repr__(self) -> str:
        return f"ToolSet({self.names()})"
