"""The registry of host functions a program can call, looked up at every execution.

Each entry is a ``Tool`` bound under a *kind*: ``external_<name>`` for the user's tools, and
``skill_<name>`` for saved skills (next). A tool added to the registry is callable from the
next execution on, and the system prompt, rendered from the same registry, describes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from codemode.errors import ConfigError
from codemode.tools import SecretPolicy, Tool, check_secret_parameters


@dataclass(frozen=True, slots=True)
class BindingKind:
    """How one kind of host function is named in the sandbox."""

    prefix: str
    """``external_`` or ``skill_``: the function is ``<prefix><tool name>``."""
    label: str
    """What the prompt and messages call one of them ("tool", "skill")."""

    def function_name(self, name: str) -> str:
        return self.prefix + name


EXTERNAL = BindingKind("external_", "tool")
SKILL = BindingKind("skill_", "skill")
KINDS: tuple[BindingKind, ...] = (EXTERNAL, SKILL)


@dataclass(frozen=True, slots=True)
class Entry:
    kind: BindingKind
    tool: Tool

    @property
    def function_name(self) -> str:
        return self.kind.function_name(self.tool.name)


class Bindable(Protocol):
    """What a run binds its sandbox functions from: a ``ToolRegistry``, or a view of one."""

    def entries(self) -> list[Entry]: ...


class ToolRegistry:
    """Host functions by their sandbox name; every tool's input schema is checked for
    secret-looking parameters (``on_secret_parameter``) when it is added."""

    def __init__(self, tools: Iterable[Tool] = (), *, on_secret_parameter: SecretPolicy = "warn"):
        # Checks the policy itself, even when there is no tool to apply it to.
        check_secret_parameters("", {}, on_secret_parameter)
        self._policy: SecretPolicy = on_secret_parameter
        self._entries: dict[str, Entry] = {}
        self.version = 0
        """Goes up on every change, for caches of what is rendered from the registry."""
        for item in tools:
            self.add(item)

    def add(self, tool: Tool, kind: BindingKind = EXTERNAL, *, replace: bool = False) -> None:
        """Bind ``tool`` as ``<kind.prefix><tool.name>``; a name already bound is a
        ``ConfigError`` unless ``replace``."""
        if not isinstance(tool, Tool):
            raise ConfigError(
                "tools must be Tool objects (use @tool or tool_definition(...).server(fn)),"
                f" got {tool!r}"
            )
        entry = Entry(kind, tool)
        if entry.function_name in self._entries and not replace:
            raise ConfigError(
                f"two {kind.label}s are named {tool.name!r}; {kind.label} names must be unique"
            )
        check_secret_parameters(tool.name, tool.input_schema, self._policy)
        self._entries[entry.function_name] = entry
        self.version += 1

    def copy(self) -> ToolRegistry:
        """A new registry with the same entries and secret policy (changes stay apart)."""
        other = ToolRegistry(on_secret_parameter=self._policy)
        other._entries = dict(self._entries)
        return other

    def remove(self, name: str, kind: BindingKind = EXTERNAL) -> bool:
        """Unbind a tool by its name; whether it was bound."""
        removed = self._entries.pop(kind.function_name(name), None) is not None
        if removed:
            self.version += 1
        return removed

    def get(self, name: str, kind: BindingKind = EXTERNAL) -> Tool | None:
        entry = self._entries.get(kind.function_name(name))
        return entry.tool if entry else None

    def find(self, function_name: str) -> Entry | None:
        """The entry bound as ``function_name`` (e.g. ``external_get_orders``)."""
        return self._entries.get(function_name)

    def tools(self, kind: BindingKind = EXTERNAL) -> list[Tool]:
        return [entry.tool for entry in self._entries.values() if entry.kind == kind]

    def entries(self) -> list[Entry]:
        """Every entry, in the order added (a snapshot: the registry may change later)."""
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Tool]:
        return (entry.tool for entry in self.entries())

    def __contains__(self, function_name: object) -> bool:
        return function_name in self._entries

    def __repr__(self) -> str:
        return f"ToolRegistry({sorted(self._entries)})"
