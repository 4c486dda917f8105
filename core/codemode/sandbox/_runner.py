"""The host half of the host-driven event loop, shared by engine drivers.

An engine driver supplies an ``EngineSession`` (start a program, resume it with tool results,
close), whose every call runs on the context's own ``EngineThread``. ``HostDrivenContext``
does the rest: it runs the tools a turn requested concurrently on the event loop, delivers
their results in one crossing, streams console lines, enforces the wall-clock deadline
(tool waits included), and turns every way a run can end into an ``ExecutionResult``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import orjson

from codemode.errors import ErrorName, ToolError
from codemode.isolate import (
    ConsoleEntry,
    ExecutionResult,
    IsolateConfig,
    NormalizedError,
    ToolBinding,
)
from codemode.sandbox._eager import Done, start_eagerly
from codemode.sandbox._errors import limit_error, normalize, wrap_program
from codemode.sandbox._thread import EngineThread

StopKind = Literal["timeout", "memory", "stack", "error"]

# How long past the deadline we wait for an engine to honour its own interrupt before we
# give up on the thread.
_ENGINE_GRACE_S = 1.0


class EngineStop(Exception):
    """Raised by an engine session when the engine itself stopped the program."""

    def __init__(
        self, kind: StopKind, name: str = "Error", message: str = "", stack: str | None = None
    ):
        super().__init__(f"{kind}: {name}: {message}")
        self.kind = kind
        self.name = name
        self.message = message
        self.stack = stack


class EngineSession(Protocol):
    """Engine operations of one context; all are called on the same thread, in order."""

    def start(self, program: str, time_limit: float) -> str:
        """Compile ``program`` (an async function expression), start it, run pending jobs,
        and return the prelude's ``collect()`` JSON."""

    def resume(self, results_json: str, time_limit: float) -> str:
        """Deliver tool results, run pending jobs, and return ``collect()`` JSON."""

    def close(self) -> None:
        """Free the engine."""


def prelude_config(config: IsolateConfig) -> str:
    """The JSON the prelude's install function takes."""
    return json.dumps(
        {
            "bindings": sorted(config.bindings),
            "maxToolCalls": config.max_tool_calls,
            "maxLogChars": config.max_log_bytes,
            "maxResultChars": config.max_result_bytes,
        }
    )


def _encode_result(call_id: int, ok: bool, value: Any, name: str) -> str:
    try:
        return orjson.dumps([call_id, ok, value], option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError) as exc:
        error = {
            "name": ErrorName.SERIALIZATION,
            "message": f"the result of {name} cannot be sent into the sandbox as JSON: {exc}",
        }
        return orjson.dumps([call_id, False, error]).decode()


def _tool_error(binding: ToolBinding, exc: Exception) -> dict[str, str]:
    if isinstance(exc, ToolError):
        return {"name": exc.name, "message": str(exc)}
    return {"name": "Error", "message": f"{binding.name} failed: {type(exc).__name__}: {exc}"}


async def _run_tool(binding: ToolBinding, args: dict[str, Any]) -> tuple[bool, Any]:
    try:
        return True, await binding.execute(args)
    except Exception as exc:
        return False, _tool_error(binding, exc)


def _forget(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


Turn = dict[str, Any]


class _Turns:
    """The engine-thread side of one execution: engine calls, and inline tool calls.

    A turn that requests exactly one tool whose binding is ``inline`` (a sync tool) is served
    right here, on the engine's thread, and the program resumed at once: no hop to the event
    loop and back. Turns with several requests go to the host, which runs them concurrently.
    """

    def __init__(
        self,
        session: EngineSession,
        bindings: dict[str, ToolBinding],
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        stream: Callable[[list[list[str]]], None],
    ) -> None:
        self._session = session
        self._bindings = bindings
        self._loop = loop
        self._deadline = deadline
        self._stream = stream

    def _remaining(self) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise EngineStop("timeout")
        return remaining

    def step(self, first: Callable[[float], str]) -> Turn:
        turn = self._parse(first(self._remaining()))
        while turn["state"] == 0 and len(turn["requests"]) == 1:
            call_id, name, args = turn["requests"][0]
            binding = self._bindings[name]
            if not getattr(binding, "inline", False):
                break
            if turn["logs"]:
                self._loop.call_soon_threadsafe(self._stream, turn["logs"])
            try:
                ok, value = True, binding.execute_inline(args, self._loop)  # type: ignore[attr-defined]  # inline bindings have it
            except Exception as exc:
                ok, value = False, _tool_error(binding, exc)
            results = "[" + _encode_result(call_id, ok, value, name) + "]"
            turn = self._parse(self._session.resume(results, self._remaining()))
        return turn

    @staticmethod
    def _parse(text: str) -> Turn:
        try:
            turn: Turn = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise EngineStop(
                "error", "Error", "the program broke the sandbox's internal protocol"
            ) from None
        return turn


class HostDrivenContext:
    """An ``IsolateContext`` for any engine that can run the prelude's turn protocol."""

    def __init__(
        self,
        config: IsolateConfig,
        thread: EngineThread,
        session: EngineSession,
        release: Callable[[EngineThread], None],
        engine: str,
    ) -> None:
        self._config = config
        self._thread: EngineThread | None = thread
        self._session = session
        self._release = release
        self._engine = engine
        self._lock = asyncio.Lock()
        self._broken: str | None = None

    async def execute(self, code: str) -> ExecutionResult:
        async with self._lock:
            if self._thread is None:
                raise RuntimeError("this context was disposed")
            if self._broken is not None:
                return ExecutionResult(
                    success=False,
                    error=limit_error(
                        "Error", f"this context can no longer run code: {self._broken}"
                    ),
                )
            return await self._run(self._thread, code)

    async def _run(self, thread: EngineThread, code: str) -> ExecutionResult:
        config = self._config
        session = self._session
        loop = asyncio.get_running_loop()
        timeout_s = config.timeout / 1000
        started = time.monotonic()
        logs: list[str] = []
        turns = _Turns(
            session,
            config.bindings,
            loop,
            started + timeout_s,
            lambda entries: self._emit_logs(entries, logs),
        )
        in_flight: dict[asyncio.Task[tuple[bool, Any]], tuple[int, str]] = {}
        completed: list[asyncio.Task[tuple[bool, Any]]] = []
        waiter: asyncio.Future[None] | None = None
        engine_call: asyncio.Future[Turn] | None = None
        expired = overdue = False

        def wake() -> None:
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        def on_deadline() -> None:
            nonlocal expired
            expired = True
            wake()

        def on_overdue() -> None:
            # The engine ignored its own interrupt: give up on it.
            nonlocal overdue
            if engine_call is not None and not engine_call.done():
                overdue = True
                engine_call.cancel()

        def on_tool_done(task: asyncio.Task[tuple[bool, Any]]) -> None:
            completed.append(task)
            wake()

        async def engine(first: Callable[[float], str]) -> Turn:
            nonlocal engine_call
            engine_call = thread.submit(turns.step, first)
            try:
                return await engine_call
            except asyncio.CancelledError:
                if not overdue:
                    raise
                self._broken = "the engine did not stop at its time limit"
                self._thread = None
                raise EngineStop("timeout") from None
            finally:
                engine_call = None

        timers = (
            loop.call_later(timeout_s, on_deadline),
            loop.call_later(timeout_s + _ENGINE_GRACE_S, on_overdue),
        )
        program = wrap_program(code)
        try:
            turn = await engine(functools.partial(session.start, program))
            while True:
                self._emit_logs(turn["logs"], logs)
                if turn["state"] == 1:
                    return ExecutionResult(success=True, value=turn.get("value"), logs=logs)
                if turn["state"] == 2:
                    return self._failed(self._program_error(turn["error"]), logs)
                ready: list[str] = []
                for call_id, name, args in turn["requests"]:
                    started_tool = start_eagerly(loop, _run_tool(config.bindings[name], args))
                    if isinstance(started_tool, Done):
                        ok, value = started_tool.value
                        ready.append(_encode_result(call_id, ok, value, name))
                    else:
                        started_tool.add_done_callback(on_tool_done)
                        in_flight[started_tool] = (call_id, name)
                if ready:
                    # Tools that finished at once: resume the program now, without waiting
                    # for slower ones (their results go in a later turn).
                    results = "[" + ",".join(ready) + "]"
                    turn = await engine(functools.partial(session.resume, results))
                    continue
                if not in_flight:
                    return self._failed(
                        limit_error(
                            "Error",
                            "the program is waiting for a promise that nothing will settle: "
                            "only external_* calls settle promises here (there are no "
                            "timers or events in the sandbox)",
                        ),
                        logs,
                    )
                while not completed and not expired:
                    waiter = loop.create_future()
                    await waiter
                    waiter = None
                if not completed:
                    waiting = ", ".join(sorted({name for _, name in in_flight.values()}))
                    return self._failed(self._timeout_error(f" while waiting on {waiting}"), logs)
                parts = []
                for task in completed:
                    call_id, name = in_flight.pop(task)
                    ok, value = task.result()
                    parts.append(_encode_result(call_id, ok, value, name))
                completed.clear()
                results = "[" + ",".join(parts) + "]"
                turn = await engine(functools.partial(session.resume, results))
        except EngineStop as stop:
            if stop.kind in ("timeout", "memory"):
                # The engine unwound mid-program; its state is not trustworthy any more.
                self._broken = self._broken or f"an earlier program hit the {stop.kind} limit"
            return self._failed(self._stop_error(stop, time.monotonic() - started), logs)
        finally:
            for timer in timers:
                timer.cancel()
            for task in in_flight:
                task.remove_done_callback(on_tool_done)
                task.cancel()
                task.add_done_callback(_forget)

    def _emit_logs(self, entries: list[list[str]], logs: list[str]) -> None:
        sink = self._config.on_console
        for level, message in entries:
            entry = ConsoleEntry(level, message)  # type: ignore[arg-type]  # levels come from the prelude
            logs.append(entry.format())
            if sink is not None:
                sink(entry)

    def _failed(self, error: NormalizedError, logs: list[str]) -> ExecutionResult:
        return ExecutionResult(success=False, error=error, logs=logs)

    def _program_error(self, error: dict[str, Any]) -> NormalizedError:
        name, message = error["name"], error["message"]
        if name == "RangeError" and "call stack" in message:
            return normalize(ErrorName.STACK_OVERFLOW, self._stack_message(), error.get("stack"))
        if name == "InternalError" and "out of memory" in message:
            return limit_error(ErrorName.MEMORY_LIMIT, self._memory_message())
        if name == "ReferenceError" and message.startswith("external_"):
            available = ", ".join(sorted(self._config.bindings)) or "none"
            message += f" (available functions: {available})"
        return normalize(name, message, error.get("stack"))

    def _timeout_error(self, detail: str = "") -> NormalizedError:
        return limit_error(
            ErrorName.TIMEOUT,
            f"the program did not finish within its time limit of {self._config.timeout} ms"
            f"{detail}; do less work per execution or run tool calls concurrently with "
            "Promise.all",
        )

    def _memory_message(self) -> str:
        return (
            f"the program used more than its memory limit of {self._config.memory_limit} MB; "
            "process data in smaller pieces or return less"
        )

    def _stack_message(self) -> str:
        return "maximum call stack size exceeded (unbounded recursion?); use a loop instead"

    def _stop_error(self, stop: EngineStop, elapsed: float) -> NormalizedError:
        if stop.kind == "timeout":
            detail = ""
            if elapsed * 1000 < self._config.timeout * 0.9:
                detail = (
                    f" (stopped after {elapsed * 1000:.0f} ms: the {self._engine} engine counts"
                    " CPU time of the whole process, so concurrent work shortens the budget)"
                )
            return self._timeout_error(detail)
        if stop.kind == "memory":
            return limit_error(ErrorName.MEMORY_LIMIT, self._memory_message())
        if stop.kind == "stack":
            return normalize(ErrorName.STACK_OVERFLOW, self._stack_message(), stop.stack)
        return normalize(stop.name, stop.message, stop.stack)

    async def dispose(self) -> None:
        """Free the engine. The thread does it after any queued work, then returns to the
        pool; nothing here waits for that round trip."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.post(self._retire, thread)

    def _retire(self, thread: EngineThread) -> None:
        try:
            self._session.close()
        finally:
            self._release(thread)

    async def __aenter__(self) -> HostDrivenContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()
