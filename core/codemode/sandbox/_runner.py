"""The host half of the host-driven event loop, shared by engine drivers.

An engine driver supplies an ``EngineSession`` (start a program, resume it with tool results,
close), whose every call runs on the context's own ``EngineThread``. ``HostDrivenContext``
does the rest: it runs the tools a turn requested concurrently on the event loop, delivers
their results in one crossing, streams console lines, enforces the wall-clock deadline
(tool waits included), and turns every way a run can end into an ``ExecutionResult``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
# orjson's nesting limit, and so the deepest value that can leave the sandbox.
_MAX_DEPTH = 1024


def parse_turn(text: str) -> Turn:
    """The prelude's ``collect()`` output as a dict (a broken protocol is the program's doing)."""
    try:
        turn: Turn = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise EngineStop(
                "error",
                ErrorName.SERIALIZATION,
                "a value leaving the sandbox (the return value or a tool's argument) is nested"
                f" more than {_MAX_DEPTH} levels deep; flatten it",
            ) from None
        message = "the program broke the sandbox's internal protocol"
        raise EngineStop("error", "Error", message) from None
    return turn


@dataclass(frozen=True, slots=True)
class RunState:
    """What an engine needs to know about the execution it is running a turn for."""

    deadline: float
    """``time.monotonic()`` by which the program must be done."""
    bindings: dict[str, ToolBinding]
    loop: asyncio.AbstractEventLoop
    stream: Callable[[list[list[str]]], None]
    """Takes console entries of a turn the engine served itself; call it on the loop."""

    def remaining(self) -> float:
        """Seconds left; ``EngineStop("timeout")`` when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise EngineStop("timeout")
        return left


def serve_inline(turn: Turn, run: RunState) -> str | None:
    """For an engine thread: serve a turn that asks for one inline (sync) tool, right here.

    Returns the results JSON to resume the program with, or None when the turn must go to
    the host (it finished, failed, or asks for several or async tools). The turn's console
    lines are handed to the loop first, so they keep their order with the tool's events.
    """
    if turn["state"] != 0 or len(turn["requests"]) != 1:
        return None
    call_id, name, args = turn["requests"][0]
    binding = run.bindings[name]
    if not getattr(binding, "inline", False):
        return None
    if turn["logs"]:
        run.loop.call_soon_threadsafe(run.stream, turn["logs"])
    try:
        ok, value = True, binding.execute_inline(args, run.loop)  # type: ignore[attr-defined]  # inline bindings have it
    except Exception as exc:
        ok, value = False, _tool_error(binding, exc)
    return "[" + _encode_result(call_id, ok, value, name) + "]"


class Engine(Protocol):
    """One context's engine, as the host loop drives it.

    ``start`` compiles and starts the program, ``resume`` delivers tool results; both run the
    program until it waits on the host or settles, and return the prelude's turn. An engine
    may serve inline tool calls itself (``serve_inline``) before returning.
    """

    def start(self, program: str, run: RunState) -> Awaitable[Turn]: ...

    def resume(self, results: str, run: RunState) -> Awaitable[Turn]: ...

    async def close(self) -> None: ...


class ThreadedEngine:
    """An ``Engine`` for a synchronous ``EngineSession``, run on its own ``EngineThread``."""

    def __init__(
        self,
        thread: EngineThread,
        session: EngineSession,
        release: Callable[[EngineThread], None],
    ) -> None:
        self._thread = thread
        self._session = session
        self._release = release
        self._closed = False

    async def start(self, program: str, run: RunState) -> Turn:
        return await self._thread.submit(self._step, self._session.start, program, run)

    async def resume(self, results: str, run: RunState) -> Turn:
        return await self._thread.submit(self._step, self._session.resume, results, run)

    def _step(self, call: Callable[[str, float], str], text: str, run: RunState) -> Turn:
        # On the engine thread: one engine call, then as many inline tool turns as come.
        turn = parse_turn(call(text, run.remaining()))
        while (results := serve_inline(turn, run)) is not None:
            turn = parse_turn(self._session.resume(results, run.remaining()))
        return turn

    async def close(self) -> None:
        """Free the engine. The thread does it after any queued work, then returns to the
        pool; nothing here waits for that round trip."""
        if not self._closed:
            self._closed = True
            self._thread.post(self._retire)

    def _retire(self) -> None:
        try:
            self._session.close()
        finally:
            self._release(self._thread)


class HostDrivenContext:
    """An ``IsolateContext`` for any engine that can run the prelude's turn protocol."""

    def __init__(self, config: IsolateConfig, engine: Engine, engine_name: str) -> None:
        self._config = config
        self._engine: Engine | None = engine
        self._engine_name = engine_name
        self._lock = asyncio.Lock()
        self._broken: str | None = None

    async def execute(self, code: str) -> ExecutionResult:
        async with self._lock:
            if self._engine is None:
                raise RuntimeError("this context was disposed")
            if self._broken is not None:
                return ExecutionResult(
                    success=False,
                    error=limit_error(
                        "Error", f"this context can no longer run code: {self._broken}"
                    ),
                )
            return await self._run(self._engine, code)

    async def _run(self, engine: Engine, code: str) -> ExecutionResult:
        config = self._config
        loop = asyncio.get_running_loop()
        timeout_s = config.timeout / 1000
        started = time.monotonic()
        logs: list[str] = []
        run = RunState(
            deadline=started + timeout_s,
            bindings=config.bindings,
            loop=loop,
            stream=lambda entries: self._emit_logs(entries, logs),
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

        async def engine_turn(call: Awaitable[Turn]) -> Turn:
            nonlocal engine_call
            engine_call = asyncio.ensure_future(call)
            try:
                return await engine_call
            except asyncio.CancelledError:
                if not overdue:
                    raise
                self._broken = "the engine did not stop at its time limit"
                raise EngineStop("timeout") from None
            finally:
                engine_call = None

        timers = (
            loop.call_later(timeout_s, on_deadline),
            loop.call_later(timeout_s + _ENGINE_GRACE_S, on_overdue),
        )
        try:
            turn = await engine_turn(engine.start(wrap_program(code), run))
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
                    # Tools that finished at once: resume the program now, with whatever
                    # slower tools have finished meanwhile, without waiting for the rest.
                    ready.extend(self._take(completed, in_flight))
                    turn = await engine_turn(engine.resume("[" + ",".join(ready) + "]", run))
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
                parts = self._take(completed, in_flight)
                turn = await engine_turn(engine.resume("[" + ",".join(parts) + "]", run))
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

    @staticmethod
    def _take(
        completed: list[asyncio.Task[tuple[bool, Any]]],
        in_flight: dict[asyncio.Task[tuple[bool, Any]], tuple[int, str]],
    ) -> list[str]:
        """Encoded results of the finished tool tasks, which leave ``in_flight``."""
        parts = []
        for task in completed:
            call_id, name = in_flight.pop(task)
            ok, value = task.result()
            parts.append(_encode_result(call_id, ok, value, name))
        completed.clear()
        return parts

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
                    f" (stopped after {elapsed * 1000:.0f} ms: the {self._engine_name} engine"
                    " counts CPU time of the whole process, so concurrent work shortens it)"
                )
            return self._timeout_error(detail)
        if stop.kind == "memory":
            return limit_error(ErrorName.MEMORY_LIMIT, self._memory_message())
        if stop.kind == "stack":
            return normalize(ErrorName.STACK_OVERFLOW, self._stack_message(), stop.stack)
        return normalize(stop.name, stop.message, stop.stack)

    async def dispose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.close()

    async def __aenter__(self) -> HostDrivenContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()
