"""What an engine driver provides to the host loop: ``Engine``, its ``EngineTraits``, and
``ThreadedEngine`` for engines that must run on a thread of their own.

An engine runs turns of the prelude's protocol (``start`` a program, ``resume`` it with tool
results) and says how its own errors map to the contract's limits (``EngineTraits``). The
host loop (``Execution``) does everything else. ``RunState`` is what an engine may read and
charge while it runs a turn: the deadline, the bindings, and the host's own bounds, which an
engine that serves sync tools itself (``serve_inline``) must count too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from codemode.errors import ErrorName, ToolError
from codemode.isolate import ConsoleEntry, IsolateConfig, ToolBinding
from codemode.sandbox._protocol import (
    ProgramFailure,
    ProtocolError,
    Turn,
    decode_turn,
    encode_delivery,
    encode_result,
    install_message,
)
from codemode.sandbox._thread import EngineThread

StopKind = Literal["timeout", "memory", "stack", "closed", "error"]


class EngineStop(Exception):
    """Raised for a turn that ended without a turn message: the engine stopped the program
    (a limit), was closed, or reported an error of its own (``kind="error"``)."""

    def __init__(
        self,
        kind: StopKind,
        name: str = "Error",
        message: str = "",
        stack: str | None = None,
        *,
        limit: bool = False,
    ) -> None:
        super().__init__(f"{kind}: {name}: {message}")
        self.kind = kind
        self.name = name
        self.message = message
        self.stack = stack
        self.limit = limit


@dataclass(frozen=True)
class EngineTraits:
    """Engine-specific readings of what a program's failure means.

    ``name`` appears in messages ("the QuickJS engine ..."). ``classify`` says whether a
    failure the program reported is really one of the contract's limits (an engine that
    reports out-of-memory as a catchable error, say); subclass it for an engine's own texts.
    """

    name: str

    def classify(self, failure: ProgramFailure) -> StopKind | None:
        if failure.name == "RangeError" and "call stack" in failure.message:
            return "stack"
        return None

    def early_timeout_note(self, elapsed_ms: float, timeout_ms: int) -> str:
        """Text to add to a ``TimeoutError`` that came before the wall-clock limit."""
        return ""


def prelude_config(config: IsolateConfig) -> str:
    """The JSON the prelude's install function takes, for one context's config."""
    return install_message(
        list(config.bindings), config.max_tool_calls, config.max_log_bytes, config.max_result_bytes
    )


def _tool_error(binding: ToolBinding, exc: Exception) -> dict[str, str]:
    if isinstance(exc, ToolError):
        return {"name": exc.name, "message": str(exc)}
    return {"name": "Error", "message": f"{binding.name} failed: {type(exc).__name__}: {exc}"}


def not_an_object(binding: ToolBinding, args: Any) -> dict[str, str] | None:
    """The failure to deliver, without calling the tool, when its argument is not an object
    (a binding receives a dict, whatever the program sent)."""
    if isinstance(args, dict):
        return None
    kind = "an array" if isinstance(args, list) else f"a {type(args).__name__}"
    if args is None:
        kind = "null"
    return {
        "name": ErrorName.TOOL_INPUT,
        "message": f"{binding.name}: input must be an object like {{...}}, got {kind}",
    }


def limit_stop(name: str, message: str) -> EngineStop:
    """A bound the host enforces itself was passed (the run ends with this named error)."""
    return EngineStop("error", name, message, limit=True)


@dataclass
class RunState:
    """One execution as an engine sees it while running its turns."""

    config: IsolateConfig
    deadline: float
    """``time.monotonic()`` by which the program must be done."""
    loop: asyncio.AbstractEventLoop
    stream: Callable[[tuple[ConsoleEntry, ...]], None]
    """Takes console lines of a turn the engine served itself; call it on the loop."""
    calls: int = 0
    log_chars: int = 0
    logs: list[str] = field(default_factory=list)
    inline_result_bytes: int = 0
    """Encoded results of the tools the engine served itself (written on its thread only)."""

    @property
    def bindings(self) -> dict[str, ToolBinding]:
        return self.config.bindings

    def remaining(self) -> float:
        """Seconds left; ``EngineStop("timeout")`` when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise EngineStop("timeout")
        return left

    def charge(self, turn: Turn) -> None:
        """Count the turn's tool requests and console text against the execution's bounds
        (the prelude counts them too; this holds even if the sandbox was tampered with)."""
        config = self.config
        if turn.logs:
            self.log_chars += sum(len(entry.message) + 1 for entry in turn.logs)
            if self.log_chars > config.max_log_bytes:
                raise limit_stop(
                    ErrorName.OUTPUT_LIMIT,
                    f"console output exceeded the limit of {config.max_log_bytes} characters;"
                    " log less, or return the data instead",
                )
        if turn.requests:
            self.calls += len(turn.requests)
            if self.calls > config.max_tool_calls:
                raise limit_stop(
                    ErrorName.TOOL_CALL_LIMIT,
                    f"the program made more than {config.max_tool_calls} tool calls in one"
                    " execution; batch work into fewer calls",
                )
            for request in turn.requests:
                if request.function not in config.bindings:
                    raise ProtocolError(
                        f"the sandbox asked for {request.function!r}, which is not a bound"
                        " function (a tampered or broken sandbox)"
                    )
        if turn.state == "returned" and turn.size > self._room_for_value(turn):
            raise limit_stop(
                ErrorName.OUTPUT_LIMIT,
                f"the return value is over the size limit of {config.max_result_bytes}"
                " characters of JSON; return a summary or a slice",
            )

    def _room_for_value(self, turn: Turn) -> int:
        # The value's JSON (at most the limit, as the prelude checks) plus the turn's own
        # fields and its console lines, each character of which JSON may write as \uXXXX.
        lines = sum(6 * len(entry.message) + 16 for entry in turn.logs)
        return self.config.max_result_bytes + 4096 + lines


def serve_inline(turn: Turn, run: RunState) -> str | None:
    """For an engine thread: serve a turn that asks for one inline (sync) tool, right here.

    Returns the delivery to resume the program with, or None when the turn must go to the
    host (it settled, or asks for several or async tools). The turn is charged against the
    execution's bounds, and its console lines are handed to the loop first, so they keep
    their order with the tool's events.
    """
    if turn.state != "waiting" or len(turn.requests) != 1:
        return None
    request = turn.requests[0]
    binding = run.bindings.get(request.function)
    if binding is None or not getattr(binding, "inline", False):
        return None
    run.charge(turn)
    if turn.logs:
        run.loop.call_soon_threadsafe(run.stream, turn.logs)
    refused = not_an_object(binding, request.args)
    if refused is not None:
        ok, value = False, refused
    else:
        try:
            ok, value = True, binding.execute_inline(request.args, run.loop)  # type: ignore[attr-defined]  # inline bindings have it
        except Exception as exc:
            ok, value = False, _tool_error(binding, exc)
    result = encode_result(request.id, ok, value, binding.name)
    run.inline_result_bytes += len(result)
    return encode_delivery([result])


class Engine(Protocol):
    """One context's engine, as the host loop drives it.

    ``start`` compiles and starts the program, ``resume`` delivers tool results; both run the
    program until it waits on the host or settles, and return the turn. An engine may serve
    inline tool calls itself (``serve_inline``) before returning. ``close`` may be called at
    any time, a turn in flight included: it stops whatever the engine runs, promptly (the turn
    then fails with ``EngineStop("closed")`` or the engine's own interrupt error), and frees
    the engine; it must not wait for the program.
    """

    @property
    def traits(self) -> EngineTraits: ...

    def start(self, program: str, run: RunState) -> Awaitable[Turn]: ...

    def resume(self, delivery: str, run: RunState) -> Awaitable[Turn]: ...

    async def close(self) -> None: ...


class EngineSession(Protocol):
    """Engine operations of one context; all are called on the same thread, in order, except
    ``interrupt``, which is called from another thread while a call runs."""

    def start(self, program: str, time_limit: float) -> str:
        """Compile ``program`` (an async function expression), start it, run pending jobs,
        and return the prelude's ``collect()`` JSON."""

    def resume(self, delivery: str, time_limit: float) -> str:
        """Deliver tool results, run pending jobs, and return ``collect()`` JSON."""

    def interrupt(self) -> None:
        """From any thread: make the running call, and every later one, stop promptly."""

    def close(self) -> None:
        """Free the engine."""


class ThreadedEngine:
    """An ``Engine`` for a synchronous ``EngineSession``, run on its own ``EngineThread``."""

    def __init__(
        self,
        thread: EngineThread,
        session: EngineSession,
        release: Callable[[EngineThread], None],
        traits: EngineTraits,
    ) -> None:
        self._thread = thread
        self._session = session
        self._release = release
        self._traits = traits
        self._closed = False

    @property
    def traits(self) -> EngineTraits:
        return self._traits

    def start(self, program: str, run: RunState) -> Awaitable[Turn]:
        return self._thread.submit(self._step, self._session.start, program, run)

    def resume(self, delivery: str, run: RunState) -> Awaitable[Turn]:
        return self._thread.submit(self._step, self._session.resume, delivery, run)

    def _step(self, call: Callable[[str, float], str], text: str, run: RunState) -> Turn:
        # On the engine thread: one engine call, then as many inline tool turns as come.
        if self._closed:
            raise EngineStop("closed")
        turn = decode_turn(call(text, run.remaining()))
        while (delivery := serve_inline(turn, run)) is not None:
            if self._closed:
                raise EngineStop("closed")
            turn = decode_turn(self._session.resume(delivery, run.remaining()))
        return turn

    async def close(self) -> None:
        """Interrupt whatever runs, then free the engine on its thread after it (nothing here
        waits for that)."""
        if not self._closed:
            self._closed = True
            self._session.interrupt()
            self._thread.post(self._retire)

    def _retire(self) -> None:
        try:
            self._session.close()
        finally:
            self._release(self._thread)
