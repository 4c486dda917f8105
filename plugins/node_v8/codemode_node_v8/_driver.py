"""The V8 isolate driver: mini-racer isolates run by codemode's host-driven loop.

Each context is one V8 isolate (mini-racer runs it on a thread of its own, with the JIT),
with codemode's prelude and this driver's setup installed, driven straight from the event
loop by ``V8Engine`` (no engine thread of the kit's). Before the first context of the
process, a child process runs the driver itself to check that it works on this machine
(``probe_mini_racer``).
"""

from __future__ import annotations

import asyncio
from typing import Final

from codemode.errors import ConfigError, DriverUnavailableError
from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS, IsolateConfig
from codemode.sandbox import (
    DEFAULT_MAX_CONCURRENCY,
    HostDrivenDriver,
    check_driver_options,
    prelude_config,
)
from codemode_node_v8._engine import V8Engine
from codemode_node_v8._probe import ProbeResult, cached_probe, probe_mini_racer

_MB: Final = 1024 * 1024


async def _checked_probe() -> ProbeResult:
    verdict = cached_probe()
    if verdict is None:
        verdict = await asyncio.to_thread(probe_mini_racer)
    return verdict


class NodeIsolateDriver(HostDrivenDriver):
    """Makes V8 contexts. ``timeout`` and ``memory_limit`` are defaults for code mode."""

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
        timeout: int = DEFAULT_TIMEOUT_MS,
        skip_probe: bool = False,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        check_driver_options(
            "V8",
            {"memory_limit": memory_limit, "timeout": timeout, "max_concurrency": max_concurrency},
        )
        if not isinstance(skip_probe, bool):
            raise ConfigError(
                f"V8 driver option skip_probe must be true or false, got {skip_probe!r}"
            )
        super().__init__(max_concurrency=max_concurrency)
        self.memory_limit = memory_limit
        self.timeout = timeout
        self.skip_probe = skip_probe

    async def make_engine(self, config: IsolateConfig) -> V8Engine:
        if not self.skip_probe:
            verdict = await _checked_probe()
            if not verdict.compatible:
                raise DriverUnavailableError(
                    f"the V8 engine (mini-racer) cannot run on this machine: {verdict.error}."
                    " Use the QuickJS driver instead: pip install codemode-quickjs, and"
                    ' driver="quickjs" (or [driver] name = "quickjs" in codemode.toml)'
                )
        return await V8Engine.create(prelude_config(config), config.memory_limit * _MB)

    def __repr__(self) -> str:
        return (
            f"NodeIsolateDriver(memory_limit={self.memory_limit}, timeout={self.timeout},"
            f" skip_probe={self.skip_probe}, max_concurrency={self.max_concurrency})"
        )


def create_node_isolate_driver(
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    timeout: int = DEFAULT_TIMEOUT_MS,
    skip_probe: bool = False,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> NodeIsolateDriver:
    """A V8 driver: ``memory_limit`` in MB and ``timeout`` in ms (code mode's defaults);
    ``skip_probe`` skips the once-per-process trial run in a child process;
    ``max_concurrency`` executions at once (more wait)."""
    return NodeIsolateDriver(
        memory_limit=memory_limit,
        timeout=timeout,
        skip_probe=skip_probe,
        max_concurrency=max_concurrency,
    )
