"""The V8 isolate driver: mini-racer isolates run by codemode's host-driven loop.

Each context is one V8 isolate (mini-racer runs it on a thread of its own, with the JIT),
with codemode's prelude and this driver's setup installed, driven straight from the event
loop by ``V8Engine`` (no engine thread of the kit's). Before the first context of the
process, a child process checks that the engine loads at all (``probe_mini_racer``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from codemode.errors import ConfigError, DriverUnavailableError
from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS, IsolateConfig
from codemode.sandbox import HostDrivenContext, check_driver_options, prelude_config
from codemode_node_v8._engine import V8Engine
from codemode_node_v8._probe import ProbeResult, cached_probe, probe_mini_racer

_MB = 1024 * 1024


async def _checked_probe() -> ProbeResult:
    verdict = cached_probe()
    if verdict is None:
        verdict = await asyncio.to_thread(probe_mini_racer)
    return verdict


@dataclass(frozen=True)
class NodeIsolateDriver:
    """Makes V8 contexts. ``timeout`` and ``memory_limit`` are defaults for code mode."""

    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB
    timeout: int = DEFAULT_TIMEOUT_MS
    skip_probe: bool = False

    def __post_init__(self) -> None:
        check_driver_options(
            "V8", {name: getattr(self, name) for name in ("memory_limit", "timeout")}
        )
        if not isinstance(self.skip_probe, bool):
            raise ConfigError(
                f"V8 driver option skip_probe must be true or false, got {self.skip_probe!r}"
            )

    async def create_context(self, config: IsolateConfig) -> HostDrivenContext:
        if not self.skip_probe:
            verdict = await _checked_probe()
            if not verdict.compatible:
                raise DriverUnavailableError(
                    f"the V8 engine (mini-racer) cannot run on this machine: {verdict.error}."
                    " Use the QuickJS driver instead: pip install codemode-quickjs, and"
                    ' driver="quickjs" (or [driver] name = "quickjs" in codemode.toml)'
                )
        engine = await V8Engine.create(prelude_config(config), config.memory_limit * _MB)
        # The kit types Engine.start/resume as coroutines but awaits them through
        # asyncio.ensure_future, which takes V8Engine's futures as they are (no Task each).
        return HostDrivenContext(config, engine, "V8")


def create_node_isolate_driver(
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    timeout: int = DEFAULT_TIMEOUT_MS,
    skip_probe: bool = False,
) -> NodeIsolateDriver:
    """A V8 driver: ``memory_limit`` in MB, ``timeout`` in ms; ``skip_probe`` skips the
    once-per-process check that the engine loads (run in a child process)."""
    return NodeIsolateDriver(memory_limit=memory_limit, timeout=timeout, skip_probe=skip_probe)
