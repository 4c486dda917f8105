"""The QuickJS isolate driver: quickjs-ng engines run by codemode's host-driven loop.

Each context owns one QuickJS runtime on one engine thread (QuickJS must stay on the thread
that made it). The engine releases the GIL while it evaluates, so sandboxes never block the
event loop, and several contexts run at once. ``external_*`` calls never call into Python:
they queue requests the host collects once per turn, so the engine's time limit stays set.

QuickJS measures its time limit with C ``clock()``, the CPU time of the whole process: under
concurrent CPU load a compute-bound program can be stopped before its wall-clock timeout
(never after). Waiting on tools costs no CPU; the host bounds it with the same deadline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import _quickjs

from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS, IsolateConfig
from codemode.sandbox import (
    PRELUDE,
    EngineStop,
    HostDrivenContext,
    ThreadedEngine,
    check_driver_options,
    pool,
    prelude_config,
)

DEFAULT_MAX_STACK_SIZE = 512 * 1024
_MB = 1024 * 1024
_HEAD = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*): ?(?P<message>.*)$")


def _stop(exc: Exception) -> EngineStop:
    text = str(exc)
    first, _, rest = text.partition("\n")
    if isinstance(exc, _quickjs.StackOverflow):
        return EngineStop("stack", "RangeError", first, rest)
    match = _HEAD.match(first)
    name, message = (match["name"], match["message"]) if match else ("Error", first)
    if name == "InternalError" and message == "interrupted":
        return EngineStop("timeout")
    if "out of memory" in message or "Failed obtaining QuickJS error string" in text:
        return EngineStop("memory")
    return EngineStop("error", name, message, first + "\n" + rest)


class QuickJSSession:
    """One QuickJS runtime with the prelude installed; every method runs on one thread."""

    def __init__(self, config_json: str, memory_limit: int, max_stack_size: int) -> None:
        context = _quickjs.Context()
        context.set_memory_limit(memory_limit)
        context.set_max_stack_size(max_stack_size)
        self._context: Any = context
        self._api: Any = context.eval(PRELUDE)(config_json)

    def _limit(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineStop("timeout")
        self._context.set_time_limit(remaining)

    def _settle(self, deadline: float) -> str:
        context = self._context
        while True:
            self._limit(deadline)
            if not context.execute_pending_job():
                break
        self._limit(deadline)
        result: str = self._api("collect")
        if '"nullRejection":true' in result:
            # QuickJS rejects with null when it has no memory left for an InternalError.
            raise EngineStop("memory")
        return result

    def start(self, program: str, time_limit: float) -> str:
        deadline = time.monotonic() + time_limit
        try:
            self._limit(deadline)
            main = self._context.eval(program)
            self._limit(deadline)
            self._api("start", main)
            return self._settle(deadline)
        except _quickjs.JSException as exc:
            raise _stop(exc) from None

    def resume(self, results_json: str, time_limit: float) -> str:
        deadline = time.monotonic() + time_limit
        try:
            self._limit(deadline)
            self._api("deliver", results_json)
            return self._settle(deadline)
        except _quickjs.JSException as exc:
            raise _stop(exc) from None

    def close(self) -> None:
        # Drop every handle here, on the engine's own thread, so the runtime is freed here.
        self._api = None
        self._context = None


@dataclass(frozen=True)
class QuickJSIsolateDriver:
    """Makes QuickJS contexts. ``timeout`` and ``memory_limit`` are defaults for code mode."""

    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB
    timeout: int = DEFAULT_TIMEOUT_MS
    max_stack_size: int = DEFAULT_MAX_STACK_SIZE

    def __post_init__(self) -> None:
        check_driver_options(
            "QuickJS",
            {name: getattr(self, name) for name in ("memory_limit", "timeout", "max_stack_size")},
        )

    async def create_context(self, config: IsolateConfig) -> HostDrivenContext:
        thread = pool.acquire()
        try:
            session = await thread.call(
                QuickJSSession,
                prelude_config(config),
                config.memory_limit * _MB,
                self.max_stack_size,
            )
        except BaseException:
            pool.release(thread)
            raise
        return HostDrivenContext(config, ThreadedEngine(thread, session, pool.release), "QuickJS")


def create_quickjs_isolate_driver(
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    timeout: int = DEFAULT_TIMEOUT_MS,
    max_stack_size: int = DEFAULT_MAX_STACK_SIZE,
) -> QuickJSIsolateDriver:
    """A QuickJS driver: ``memory_limit`` in MB, ``timeout`` in ms, ``max_stack_size`` in bytes."""
    return QuickJSIsolateDriver(
        memory_limit=memory_limit, timeout=timeout, max_stack_size=max_stack_size
    )
