"""The drivers the page can pick from, and one ``CodeMode`` per driver over the demo tools.

Every installed driver is listed once (an alias such as ``v8`` for ``node`` is folded into
its name). A driver whose factory needs options the app cannot guess (a Cloudflare Worker's
URL) is listed as unavailable unless it is the configured driver, whose ``[driver]`` options
then apply. A driver is started when a run first asks for it, and closed with the app.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Any

from codemode import plugins
from codemode.code_mode import CodeMode, ToolRegistry, create_code_mode
from codemode.config import CodeModeConfig
from codemode.errors import PluginNotFoundError


@dataclass(frozen=True, slots=True)
class DriverChoice:
    name: str
    aliases: tuple[str, ...]
    available: bool
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "available": self.available,
            "reason": self.reason,
        }


def _required(factory: Any) -> list[str]:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
    ]


class DriverPool:
    """Code modes by driver name, sharing one tool registry."""

    def __init__(self, config: CodeModeConfig, registry: ToolRegistry, default: str) -> None:
        self.config = config
        self.registry = registry
        self._code_modes: dict[str, CodeMode] = {}
        self._lock = asyncio.Lock()
        self.choices = self._list()
        self.default = self.canonical(default)

    def _list(self) -> list[DriverChoice]:
        by_factory: dict[int, list[str]] = {}
        factories = plugins.factories("driver")
        for name, factory in factories.items():
            by_factory.setdefault(id(factory), []).append(name)
        choices = []
        for names in by_factory.values():
            # The canonical name: the configured one if it is among them, else the first
            # registered (``node`` before its ``v8`` alias).
            configured = self.config.driver.name
            name = configured if configured in names else names[0]
            aliases = tuple(n for n in names if n != name)
            required = _required(factories[name])
            if required and name != configured:
                reason = f"needs {', '.join(required)} in [driver] options of codemode.toml"
                choices.append(DriverChoice(name, aliases, False, reason))
            else:
                choices.append(DriverChoice(name, aliases, True))
        return sorted(choices, key=lambda choice: choice.name)

    def canonical(self, name: str) -> str:
        for choice in self.choices:
            if name == choice.name or name in choice.aliases:
                return choice.name
        raise plugins.not_found("driver", name)

    def choice(self, name: str) -> DriverChoice:
        canonical = self.canonical(name)
        return next(choice for choice in self.choices if choice.name == canonical)

    async def code_mode(self, name: str) -> CodeMode:
        """The code mode running on driver ``name``, started on first use."""
        choice = self.choice(name)
        if not choice.available:
            raise PluginNotFoundError(f"the driver {choice.name!r} {choice.reason}")
        async with self._lock:
            found = self._code_modes.get(choice.name)
            if found is None:
                # Starting an engine can take a while (V8 probes itself in a child process).
                found = await asyncio.to_thread(
                    create_code_mode, driver=choice.name, tools=self.registry, config=self.config
                )
                self._code_modes[choice.name] = found
            return found

    async def aclose(self) -> None:
        code_modes, self._code_modes = list(self._code_modes.values()), {}
        for code_mode in code_modes:
            close = getattr(code_mode.runner.driver, "aclose", None)
            if close is not None:
                await close()
