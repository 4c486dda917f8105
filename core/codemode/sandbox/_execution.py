"""One run of one program: the host half of the turn loop.

``Execution.run`` starts the program on an engine and then, turn after turn, checks what the
sandbox sent (the protocol and the host's own bounds), streams console lines, runs the tools
a turn requested concurrently on the event loop, and delivers their results in one crossing,
until the program settles or a limit ends it. The wall-clock deadline counts tool waits: at
the deadline a tool wait ends at once, and an engine still running is closed (``Engine.close``
stops it promptly); an engine that ignores even that is given up on after a grace period.
Every way a run can end becomes an ``ExecutionResult``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, Final

from codemode.errors import ErrorName
from codemode.isolate import ConsoleEntry, ExecutionResult, IsolateConfig, NormalizedError
from codemode.sandbox._eager import Done, start_eagerly
from codemode.sandbox._engine import (
    Engine,
    EngineStop,
    RunState,
    StopKind,
    _tool_error,
    limit_stop,
    not_an_object,
)
from codemode.sandbox._errors import limit_error, normalize
from codemode.sandbox._protocol import (
    ProgramFailure,
    TooDeepError,
    ToolRequest,
    Turn,
    encode_delivery,
    encode_result,
)

# How long past the deadline an engine may take to honour being closed before we give up on it.
ENGINE_GRACE_S: Final = 1.0

ToolTask = asyncio.Task[tuple[bool, Any]]


async def _run_tool(binding: Any, args: Any) -> tuple[bool, Any]:
    try:
        return True, await binding.execute(args)
    except Exception as exc:
        return False, _tool_error(binding, exc)


def _forget(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Execution:
    """The turn loop of one program on one engine (see the module docstring)."""

    def __init__(self, config: IsolateConfig, engine: Engine) -> None:
        self._config = config
        self._engine = engine
        self._traits = engine.traits
        self._in_flight: dict[ToolTask, ToolRequest] = {}
        self._completed: list[ToolTask] = []
        self._waiter: asyncio.Future[None] | None = None
        self._engine_call: asyncio.Future[Turn] | None = None
        self._expired = False
        self._overdue = False
        self._closing: asyncio.Task[None] | None = None
        self.stuck = False
        """The engine ignored being closed: its thread may still be busy."""
        self.stopped: StopKind | None = None
        """Why the run was stopped, if it was."""
        self._ready: list[str] = []
        self._result_bytes = 0
        """Encoded results of the tools this loop ran (the engine counts its inline ones)."""

    async def run(self, program: str) -> ExecutionResult:
        loop = asyncio.get_running_loop()
        config = self._config
        timeout_s = config.timeout / 1000
        self._started = time.monotonic()
        run = self._state = RunState(
            config=config, deadline=self._started + timeout_s, loop=loop, stream=self._stream
        )
        timers = (
            loop.call_later(timeout_s, self._on_deadline),
            loop.call_later(timeout_s + ENGINE_GRACE_S, self._on_overdue),
        )
        try:
            turn = await self._engine_turn(self._engine.start(program, run))
            while (result := self._settle(turn)) is None:
                delivery = await self._next_delivery()
                turn = await self._engine_turn(self._engine.resume(delivery, run))
            return result
        except EngineStop as stop:
            return self._failed(self._stop_error(stop))
        except TooDeepError:
            return self._failed(
                limit_error(
                    ErrorName.SERIALIZATION,
                    "a value leaving the sandbox (the return value or a tool's argument) is"
                    " nested more than 1024 levels deep; flatten it",
                )
            )
        finally:
            for timer in timers:
                timer.cancel()
            self._drop_tools()

    # Turns ---------------------------------------------------------------------------------

    def _settle(self, turn: Turn) -> ExecutionResult | None:
        """The result if the program settled; else start the tools it asked for."""
        self._state.charge(turn)
        self._stream(turn.logs)
        if turn.out_of_memory:
            raise EngineStop("memory")
        if turn.state == "returned":
            return ExecutionResult(
                success=True,
                value=turn.value,
                logs=self._state.logs,
                tool_calls=self._state.calls,
                tool_result_bytes=self._tool_result_bytes(),
            )
        if turn.state == "failed":
            assert turn.failure is not None  # decode_turn gives every failed turn one
            return self._failed(self._program_error(turn.failure))
        self._dispatch(turn)
        return None

    def _dispatch(self, turn: Turn) -> None:
        loop = self._state.loop
        bindings = self._config.bindings
        for request in turn.requests:
            binding = bindings[request.function]
            refused = not_an_object(binding, request.args)
            if refused is not None:
                self._ready.append(self._encode(request, False, refused))
                continue
            started = start_eagerly(loop, _run_tool(binding, request.args))
            if isinstance(started, Done):
                self._ready.append(self._encode(request, *started.value))
            else:
                started.add_done_callback(self._on_tool_done)
                self._in_flight[started] = request

    def _tool_result_bytes(self) -> int:
        return self._result_bytes + self._state.inline_result_bytes

    def _encode(self, request: ToolRequest, ok: bool, value: Any) -> str:
        name = self._config.bindings[request.function].name
        text = encode_result(request.id, ok, value, name)
        self._result_bytes += len(text)
        return text

    async def _next_delivery(self) -> str:
        """The results to resume with: those ready now, else the first to finish."""
        ready, self._ready = self._ready, []
        if ready:
            # Tools that finished at once: resume the program now, with whatever slower
            # tools have finished meanwhile, without waiting for the rest.
            return encode_delivery(ready + self._take_completed())
        if not self._in_flight:
            raise limit_stop(
                "Error",
                "the program is waiting for a promise that nothing will settle: only"
                " external_* calls settle promises here (there are no timers or events in the"
                " sandbox)",
            )
        while not self._completed and not self._expired:
            self._waiter = self._state.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if not self._completed:
            waiting = ", ".join(sorted({r.function for r in self._in_flight.values()}))
            raise EngineStop("timeout", message=f" while waiting on {waiting}")
        return encode_delivery(self._take_completed())

    def _take_completed(self) -> list[str]:
        parts = []
        for task in self._completed:
            request = self._in_flight.pop(task)
            parts.append(self._encode(request, *task.result()))
        self._completed.clear()
        return parts

    async def _engine_turn(self, call: Awaitable[Turn]) -> Turn:
        engine_call: asyncio.Future[Turn] = asyncio.ensure_future(call)
        self._engine_call = engine_call
        try:
            return await engine_call
        except asyncio.CancelledError:
            if not self._overdue:
                raise
            self.stuck = True
            raise EngineStop("timeout") from None
        finally:
            self._engine_call = None

    # Timers and tools, on the loop ------------------------------------------------------------

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _on_tool_done(self, task: ToolTask) -> None:
        self._completed.append(task)
        self._wake()

    def _on_deadline(self) -> None:
        self._expired = True
        self.stopped = "timeout"
        self._wake()
        if self._engine_call is not None and not self._engine_call.done():
            # Still in the engine: stop it (an engine's own time limit may not have fired).
            self._closing = asyncio.ensure_future(self._engine.close())
            self._closing.add_done_callback(_forget)

    def _on_overdue(self) -> None:
        # The engine ignored being closed: give up on it.
        if self._engine_call is not None and not self._engine_call.done():
            self._overdue = True
            self._engine_call.cancel()

    def _drop_tools(self) -> None:
        for task in self._in_flight:
            task.remove_done_callback(self._on_tool_done)
            task.cancel()
            task.add_done_callback(_forget)
        self._in_flight.clear()
        self._completed.clear()

    def _stream(self, entries: tuple[ConsoleEntry, ...]) -> None:
        sink = self._config.on_console
        logs = self._state.logs
        for entry in entries:
            logs.append(entry.format())
            if sink is not None:
                sink(entry)

    # Results ------------------------------------------------------------------------------

    def _failed(self, error: NormalizedError) -> ExecutionResult:
        return ExecutionResult(
            success=False,
            error=error,
            logs=self._state.logs,
            tool_calls=self._state.calls,
            tool_result_bytes=self._tool_result_bytes(),
        )

    def _program_error(self, failure: ProgramFailure) -> NormalizedError:
        kind = self._traits.classify(failure)
        if kind is not None and kind != "error":
            return self._stop_error(EngineStop(kind, failure.name, failure.message, failure.stack))
        if failure.limit:
            return limit_error(failure.name, failure.message)
        message = failure.message
        if failure.name == "ReferenceError" and self._names_a_missing_binding(message):
            available = ", ".join(sorted(self._config.bindings)) or "none"
            message += f" (available functions: {available})"
        return normalize(failure.name, message, failure.stack)

    def _names_a_missing_binding(self, message: str) -> bool:
        """Whether "x is not defined" names something shaped like a binding (``external_x``,
        ``skill_x``: a prefix that some bound function has)."""
        name = message.split(" ", 1)[0]
        prefix = name.split("_", 1)[0] + "_" if "_" in name else None
        return prefix is not None and any(b.startswith(prefix) for b in self._config.bindings)

    def _stop_error(self, stop: EngineStop) -> NormalizedError:
        kind = stop.kind
        if kind == "closed" and self.stopped == "timeout":
            kind = "timeout"
        if kind in ("timeout", "memory"):
            self.stopped = kind
        if kind == "timeout":
            elapsed_ms = (time.monotonic() - self._started) * 1000
            note = stop.message if stop.message.startswith(" while") else ""
            if not note and elapsed_ms < self._config.timeout * 0.9:
                note = self._traits.early_timeout_note(elapsed_ms, self._config.timeout)
            return limit_error(
                ErrorName.TIMEOUT,
                f"the program did not finish within its time limit of {self._config.timeout}"
                f" ms{note}; do less work per execution or run tool calls concurrently with"
                " Promise.all",
            )
        if kind == "memory":
            return limit_error(
                ErrorName.MEMORY_LIMIT,
                f"the program used more than its memory limit of {self._config.memory_limit}"
                " MB; process data in smaller pieces or return less",
            )
        if kind == "stack":
            return normalize(
                ErrorName.STACK_OVERFLOW,
                "maximum call stack size exceeded (unbounded recursion?); use a loop instead",
                stop.stack,
            )
        if kind == "closed":
            self.stopped = "closed"
            return limit_error("Error", "the context was closed while the program ran")
        if stop.limit:
            return limit_error(stop.name, stop.message)
        return normalize(stop.name, stop.message, stop.stack)
