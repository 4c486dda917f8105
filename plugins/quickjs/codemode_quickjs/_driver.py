"""The QuickJS isolate driver: quickjs-ng engines run by codemode's host-driven loop.

Each context owns one QuickJS runtime on one engine thread (QuickJS must stay on the thread
that made it). The engine releases the GIL while it evaluates, so sandboxes never block the
event loop, and several contexts run at once. ``external_*`` calls never call into Python:
they queue requests the host collects once per turn, so the engine's time limit stays set.

The wall-clock deadline is the host's: at the deadline, on ``dispose()`` or when the run is
cancelled, the host stops the engine from another thread (``Interrupter``). QuickJS's own
time limit, measured with C ``clock()`` (the CPU time of the whole process), stays set as a
backstop, loose enough that concurrent work cannot make it fire before the deadline; where the
interrupter is not available it is the only limit, and then concurrent CPU load can stop a
compute-bound program early (never late).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Final

import quickjs

from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS, IsolateConfig
from codemode.sandbox import (
    DEFAULT_MAX_CONCURRENCY,
    GUARD_FAST,
    GUARD_SORT,
    GUARDS,
    PRELUDE,
    EngineStop,
    EngineThread,
    EngineTraits,
    HostDrivenDriver,
    ProgramFailure,
    StopKind,
    ThreadedEngine,
    check_driver_options,
    load,
    pool,
    prelude_config,
)
from codemode_quickjs._interrupt import interrupter

DEFAULT_MAX_STACK_SIZE: Final = 512 * 1024
_MB: Final = 1024 * 1024
_CPUS: Final = os.cpu_count() or 1
_HEAD: Final = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*): ?(?P<message>.*)$")
SETUP: Final = load(files(__package__).joinpath("setup.js"))
"""The driver's in-sandbox code (run before the prelude): out-of-memory detection, hooks."""


@dataclass(frozen=True)
class QuickJSTraits(EngineTraits):
    """QuickJS reports its limits as ordinary errors a program could even catch."""

    cpu_clock: bool = False
    """The engine's own CPU-time limit is the deadline (no interrupter here)."""

    def classify(self, failure: ProgramFailure) -> StopKind | None:
        if failure.name == "InternalError":
            if "out of memory" in failure.message:
                return "memory"
            if failure.message == "interrupted":
                # The interrupt reached a promise job, which turned it into a rejection.
                return "timeout"
        return super().classify(failure)

    def early_timeout_note(self, elapsed_ms: float, timeout_ms: int) -> str:
        if not self.cpu_clock:
            return ""
        return (
            f" (stopped after {elapsed_ms:.0f} ms: the QuickJS engine counts the CPU time of"
            " the whole process, so concurrent work shortens it)"
        )


class _Runtime:
    """A QuickJS runtime with the driver's setup and the guards run and the prelude compiled:
    everything of a context that does not depend on its config, and most of its cost
    (compiling the scripts is about 2 ms here)."""

    def __init__(self) -> None:
        context = quickjs.Context()
        self.out_of_memory = context.eval(SETUP)()
        context.eval(GUARDS)(GUARD_FAST, GUARD_SORT)
        self.install = context.eval(PRELUDE)
        self.context = context


# One spare runtime per engine thread (a runtime must stay on the thread that made it), made
# while the thread is idle after a context is freed, and taken by the next context there.
_local = threading.local()


def _fresh_runtime() -> _Runtime:
    spare: _Runtime | None = getattr(_local, "spare", None)
    _local.spare = None
    return spare if spare is not None else _Runtime()


def _prepare_spare() -> None:
    if getattr(_local, "spare", None) is None:
        try:
            _local.spare = _Runtime()
        except Exception:  # a spare is an optimization: the next context makes its own
            _local.spare = None


def _release(thread: EngineThread) -> None:
    # On the engine thread, after the session was freed: prepare the next runtime, then let
    # the pool hand the thread out again (a context asked for meanwhile queues behind it).
    thread.post(_prepare_spare)
    pool.release(thread)


class QuickJSSession:
    """One QuickJS runtime with the prelude installed; every method but ``interrupt`` runs
    on one thread."""

    def __init__(self, config_json: str, memory_limit: int, max_stack_size: int) -> None:
        runtime = _fresh_runtime()
        context = runtime.context
        context.set_memory_limit(memory_limit)
        context.set_max_stack_size(max_stack_size)
        self._context: Any = context
        self._api: Any = runtime.install(config_json, runtime.out_of_memory)
        self._lock = threading.Lock()
        self._interrupted = False
        self._in_engine = False
        # Checked once per process, here on an engine thread rather than on the event loop.
        self.interruptible = interrupter.available

    def _limit(self, deadline: float) -> None:
        # Under the lock, so that an interrupt cannot land between this check and the
        # evaluation that follows (whose time limit it would otherwise overwrite).
        with self._lock:
            if self._interrupted:
                raise EngineStop("closed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineStop("timeout")
            if self.interruptible:
                # A backstop only: the host stops the engine at the deadline.
                remaining = remaining * _CPUS + 1.0
            self._context.set_time_limit(remaining)

    def _check(self, deadline: float) -> None:
        # Between the engine calls of a turn whose time limit is set: with the interrupter,
        # that limit is only a backstop (the host stops the engine at the deadline), so it is
        # set once per turn rather than before every job, and an interrupt's zeros are never
        # overwritten; without it, the limit is the deadline and is renewed before each call.
        if not self.interruptible:
            self._limit(deadline)
        elif self._interrupted:
            raise EngineStop("closed")
        elif time.monotonic() >= deadline:
            raise EngineStop("timeout")

    def _settle(self, deadline: float) -> str:
        context = self._context
        while True:
            self._check(deadline)
            if not context.execute_pending_job():
                break
        self._check(deadline)
        result: str = self._api("collect")
        return result

    def _running(self) -> bool:
        return self._in_engine

    def _stop(self, exc: Exception) -> EngineStop:
        text = str(exc)
        first, _, rest = text.partition("\n")
        if isinstance(exc, quickjs.StackOverflow):
            return EngineStop("stack", "RangeError", first, rest)
        match = _HEAD.match(first)
        name, message = (match["name"], match["message"]) if match else ("Error", first)
        if name == "InternalError" and message == "interrupted":
            return EngineStop("closed" if self._interrupted else "timeout")
        if "out of memory" in message or "Failed obtaining QuickJS error string" in text:
            return EngineStop("memory")
        return EngineStop("error", name, message, first + "\n" + rest)

    def start(self, program: str, time_limit: float) -> str:
        deadline = time.monotonic() + time_limit
        self._in_engine = True
        try:
            self._limit(deadline)
            main = self._context.eval(program)
            self._limit(deadline)
            self._api("start", main)
            return self._settle(deadline)
        except quickjs.JSException as exc:
            raise self._stop(exc) from None
        finally:
            self._in_engine = False

    def resume(self, delivery: str, time_limit: float) -> str:
        deadline = time.monotonic() + time_limit
        self._in_engine = True
        try:
            self._limit(deadline)
            self._api("deliver", delivery)
            return self._settle(deadline)
        except quickjs.JSException as exc:
            raise self._stop(exc) from None
        finally:
            self._in_engine = False

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            if self._context is not None and self.interruptible:
                interrupter.stop(self._context, self._running)

    def close(self) -> None:
        # Drop every handle here, on the engine's own thread, so the runtime is freed here.
        with self._lock:
            self._api = None
            self._context = None


class QuickJSIsolateDriver(HostDrivenDriver):
    """Makes QuickJS contexts. ``timeout`` and ``memory_limit`` are defaults for code mode."""

    def __init__(
        self,
        *,
        memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
        timeout: int = DEFAULT_TIMEOUT_MS,
        max_stack_size: int = DEFAULT_MAX_STACK_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        check_driver_options(
            "QuickJS",
            {
                "memory_limit": memory_limit,
                "timeout": timeout,
                "max_stack_size": max_stack_size,
                "max_concurrency": max_concurrency,
            },
        )
        super().__init__(max_concurrency=max_concurrency)
        self.memory_limit = memory_limit
        self.timeout = timeout
        self.max_stack_size = max_stack_size

    async def make_engine(self, config: IsolateConfig) -> ThreadedEngine:
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
        traits = QuickJSTraits("QuickJS", cpu_clock=not session.interruptible)
        return ThreadedEngine(thread, session, _release, traits)

    def __repr__(self) -> str:
        return (
            f"QuickJSIsolateDriver(memory_limit={self.memory_limit}, timeout={self.timeout},"
            f" max_stack_size={self.max_stack_size}, max_concurrency={self.max_concurrency})"
        )


def create_quickjs_isolate_driver(
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    timeout: int = DEFAULT_TIMEOUT_MS,
    max_stack_size: int = DEFAULT_MAX_STACK_SIZE,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> QuickJSIsolateDriver:
    """A QuickJS driver: ``memory_limit`` in MB and ``timeout`` in ms (code mode's defaults),
    ``max_stack_size`` in bytes, ``max_concurrency`` executions at once (more wait)."""
    return QuickJSIsolateDriver(
        memory_limit=memory_limit,
        timeout=timeout,
        max_stack_size=max_stack_size,
        max_concurrency=max_concurrency,
    )
