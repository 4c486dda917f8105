"""The V8 driver's ``Engine``: turns posted to the isolate's own thread, no engine thread.

A turn is one round trip between the event loop and V8's thread. The loop posts one task and
returns to its work: the program's start script, or ``step(results)`` to deliver tool
results. V8 runs it, then every microtask (the program's continuations); the task's callback
(on V8's thread, before those microtasks) queues ``step()``, which collects the turn after
them. A failure of the first task is kept and reported in place of the collected turn. A turn
that asks for exactly one inline (sync) tool is served right there, on V8's thread
(``serve_inline``), and the next delivery posted from there too, so a chain of sync tool
calls never touches the loop; any other turn is handed to the loop with
``call_soon_threadsafe``.

``start`` and ``resume`` return the turn's future itself rather than a coroutine: the kit
awaits it through ``asyncio.ensure_future``, which passes a future through where it would wrap
a coroutine in a new Task, a sizeable part of a turn's cost on the loop.

``close`` (the host calls it at the deadline, on dispose and on cancellation) frees the
isolate, which terminates whatever runs, a script or a microtask (``mr_cancel_task`` cannot
stop microtasks); the turn in flight fails with ``EngineStop("closed")``. Out of memory, V8
terminates the program itself and the channel reports it from mini-racer's sticky flag.
Freeing happens on a reaper thread (``_isolates``), never on the loop or on V8's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any, Final

from codemode.sandbox import EngineStop, EngineTraits, RunState, Turn, decode_turn, serve_inline
from codemode_node_v8 import _isolates
from codemode_node_v8._errors import engine_error, plain_prelude_frames
from codemode_node_v8._native import (
    ARRAY,
    FUNCTION,
    OOM_EXCEPTION,
    PARSE_EXCEPTION,
    STRING,
    TERMINATED_EXCEPTION,
    NativeContext,
)
from codemode_node_v8._scripts import Installed, Prepared, install, prepare

# Callback ids: what a result is the result of.
_THEN_COLLECT: Final = 1  # a start script or a delivery: only an error matters
_COLLECT: Final = 2
_PREPARE: Final = 3
_INSTALL: Final = 4

_STOPS_THAT_BREAK: Final = frozenset({"timeout", "memory"})


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _closed() -> EngineStop:
    return EngineStop("closed")


class _Channel:
    """One isolate and the turn in flight: the half of the engine that V8's callback reaches.

    Kept apart from ``V8Engine`` so that the native context, which holds this as its
    receiver, does not keep the engine alive: an engine dropped undisposed is finalized, and
    its isolate freed.
    """

    def __init__(self, config_json: str, memory_limit_bytes: int) -> None:
        self._config = (config_json, memory_limit_bytes)
        self.scripts: Installed | None = None
        self.native: NativeContext | None = None
        self._loop = asyncio.get_running_loop()
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._step = 0
        self._argv = 0
        self._failure: tuple[int, str | None] | None = None
        self._pending: tuple[asyncio.Future[Turn], RunState] | None = None
        self.dead = False

    # Setting up ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Install the prelude into a prepared isolate, from the stock or made for us."""
        ready = self._ready
        fresh = _isolates.take()
        if fresh is not None:
            self._use(fresh)
        else:
            _isolates.urgently(self._make)
        await ready

    def _make(self) -> None:
        # On the home thread.
        if self.dead:
            return
        try:
            fresh = _isolates.take_now()
            if fresh is not None:
                self._use(fresh)
                return
            prepared = prepare()
            # The prepare script's result (the argument list) comes to _on_result.
            self._install(_isolates.make(self._on_result, prepared, _PREPARE), prepared)
        except BaseException as exc:  # handed to open(), whatever it is
            self._hand(self._ready, False, exc)

    def _use(self, fresh: _isolates.Fresh) -> None:
        fresh.native.bind(self._on_result)
        self._argv = fresh.argv
        self._install(fresh.native, fresh.prepared)

    def _install(self, native: NativeContext, prepared: Prepared) -> None:
        self.native = native
        config_json, memory_limit_bytes = self._config
        native.set_memory_limit(memory_limit_bytes)
        self.scripts = install(prepared, config_json, memory_limit_bytes)
        native.eval(self.scripts.script, _INSTALL)
        if self.dead:
            # Shut while this ran on the home thread: the free is ours to do.
            _isolates.release(native)

    # Results, on V8's thread ---------------------------------------------------------------

    def _on_result(self, callback_id: int, kind: int, text: str | None, handle: int) -> None:
        if callback_id == _PREPARE:
            # May come before the home thread has set self.native.
            if kind == ARRAY:
                self._argv = handle
            else:
                self._set_up_failed(kind, text)
            return
        native = self.native
        if native is None:
            return
        if callback_id == _THEN_COLLECT:
            if kind >= 200 and self._failure is None:
                self._failure = (kind, text)
            if not native.call(self._step, self._argv, None, _COLLECT):
                pending = self._pending
                if pending is not None:
                    self._hand(pending[0], False, _closed())
        elif callback_id == _COLLECT:
            self._collected(kind, text)
        elif callback_id == _INSTALL and kind == FUNCTION:
            self._step = handle
            native.let_go()  # idle until the first run
            self._hand(self._ready, True, None)
            return
        elif callback_id == _INSTALL:
            self._set_up_failed(kind, text)
        if handle:
            native.free_value(handle)

    def _set_up_failed(self, kind: int, text: str | None) -> None:
        problem = text or f"it returned a value of type {kind}"
        self._hand(self._ready, False, RuntimeError(f"a V8 context could not be set up: {problem}"))

    def _collected(self, kind: int, text: str | None) -> None:
        pending = self._pending
        if pending is None:
            return
        waiter, run = pending
        native = self.native
        assert native is not None  # a turn is collected from a context set up
        try:
            turn = self._read(kind, text)
            results = serve_inline(turn, run)
            if results is not None:
                run.remaining()  # raises EngineStop("timeout") past the deadline
                if not native.call(self._step, self._argv, results, _THEN_COLLECT):
                    raise _closed()
                return
            if turn.state != "waiting":
                native.let_go()  # the run is over
            self._hand(waiter, True, turn)
        except BaseException as exc:  # handed to the turn's awaiter, whatever it is
            native.let_go()
            self._hand(waiter, False, exc)

    def _read(self, kind: int, text: str | None) -> Turn:
        failure, self._failure = self._failure, None
        if failure is not None:
            kind, text = failure
        native = self.native
        if kind == OOM_EXCEPTION or (native is not None and native.memory_limit_reached()):
            raise EngineStop("memory")
        if kind == STRING and text is not None:
            turn = decode_turn(text)
            # Only the turn that ends a failed program carries a stack.
            return plain_prelude_frames(turn) if turn.state == "failed" else turn
        if kind == TERMINATED_EXCEPTION:
            raise EngineStop("timeout")
        if kind == PARSE_EXCEPTION or text:
            raise engine_error(text or "")
        raise EngineStop("error", "Error", f"the V8 engine returned an unexpected value ({kind})")

    def _hand(self, future: asyncio.Future[Any], ok: bool, value: Any) -> None:
        # RuntimeError: the loop is closed, and nobody waits any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_settle, future, ok, value)

    # Turns, posted from the loop -------------------------------------------------------------

    def turn(self, first: str | None, results: str | None, run: RunState) -> asyncio.Future[Turn]:
        """Post the start script ``first``, or a delivery of ``results``; the future gets the
        turn (after any inline ones)."""
        loop = run.loop
        waiter: asyncio.Future[Turn] = loop.create_future()
        native = self.native
        if self.dead or native is None:
            waiter.set_exception(_closed())
            return waiter
        self._loop = loop
        self._pending = (waiter, run)
        if first is not None:
            posted = native.eval(first, _THEN_COLLECT)
        else:
            posted = native.call(self._step, self._argv, results, _THEN_COLLECT)
        if not posted:
            self._pending = None
            waiter.set_exception(_closed())
            return waiter
        waiter.add_done_callback(self._turn_done)
        return waiter

    def _turn_done(self, waiter: asyncio.Future[Turn]) -> None:
        pending = self._pending
        if pending is not None and pending[0] is waiter:
            self._pending = None
        if waiter.cancelled():
            # Whatever the program is doing, nobody will collect it.
            self.kill()
            return
        stop = waiter.exception()
        if isinstance(stop, EngineStop) and stop.kind in _STOPS_THAT_BREAK:
            # The program unwound mid-turn (or did not): nothing in it can be trusted.
            self.kill()

    # The end ---------------------------------------------------------------------------------

    def kill(self, reason: EngineStop | None = None) -> None:
        """On the loop: free the isolate (on the reaper thread); no turn can run after this.
        A turn in flight fails with ``reason`` (by default, that the context was closed)."""
        pending = self._pending
        if pending is not None and not pending[0].done():
            pending[0].set_exception(reason or _closed())
        self.shut()

    def shut(self) -> None:
        """Free the isolate without touching the loop (finalizers may run on any thread)."""
        if not self.dead:
            self.dead = True
            _isolates.returned()
            if self.native is not None:
                _isolates.release(self.native)


TRAITS: Final = EngineTraits("V8")


class V8Engine:
    """One V8 context, driven as the kit's ``Engine`` (``start`` and ``resume`` return an
    awaitable future; see the module docstring)."""

    traits: Final = TRAITS

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        # Frees the isolate if the engine is dropped undisposed.
        self._finalizer = weakref.finalize(self, channel.shut)

    @classmethod
    async def create(cls, config_json: str, memory_limit_bytes: int) -> V8Engine:
        """A new context: a prepared isolate with the prelude installed."""
        if not _isolates.started():
            # Once per process: V8 is initialized on the driver's home thread.
            await asyncio.to_thread(_isolates.start)
        channel = _Channel(config_json, memory_limit_bytes)
        try:
            await channel.open()
        except BaseException:
            # On the home thread, after any creation queued for this channel.
            _isolates.urgently(channel.shut)
            raise
        return cls(channel)

    def start(self, program: str, run: RunState) -> asyncio.Future[Turn]:
        scripts = self._channel.scripts
        assert scripts is not None  # set before create() returns
        return self._channel.turn(scripts.start(program), None, run)

    def resume(self, delivery: str, run: RunState) -> asyncio.Future[Turn]:
        return self._channel.turn(None, delivery, run)

    async def close(self) -> None:
        if self._finalizer.alive:
            self._finalizer.detach()
            self._channel.kill()
