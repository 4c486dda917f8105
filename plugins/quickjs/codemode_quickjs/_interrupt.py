"""Stopping a running QuickJS evaluation from another thread, which quickjs-ng's binding has
no call for.

The binding (``module.c`` of quickjs-ng 0.17) installs an interrupt handler for every
evaluation that has a time limit; QuickJS calls it every few thousand operations, and it stops
the program (with the uncatchable ``InternalError: interrupted``) once
``clock() - interrupt_data.start >= interrupt_data.limit``. Both fields live in the context
object's C struct (``RuntimeData``), and ``limit`` is copied there from ``time_limit`` when an
evaluation starts. Writing 0 into ``interrupt_data.limit`` *and* ``time_limit`` therefore stops
the evaluation that runs now and every later one, within microseconds. Aligned 8-byte stores
are atomic on the platforms this supports; the engine thread only reads the fields.

There is one race: an evaluation that starts just then may read the old ``time_limit`` before
our write and store it into ``interrupt_data.limit`` after it. So while the evaluation still
runs, the writes are repeated a few times over the next 50 ms (on one small thread of this
module's, started on first need; it holds the context object, so the memory stays valid).

This depends on the struct layout, so it is verified before use: through the binding's public
``set_time_limit`` (which writes ``has_time_limit`` and ``time_limit``), and by interrupting a
real busy loop on another thread. Where the check fails (another binding version, another
platform), ``Interrupter.available`` is False and a program stops only at its own time limit.
"""

from __future__ import annotations

import atexit
import collections
import ctypes
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import quickjs

# Offsets in RuntimeData on 64-bit platforms: PyObject_HEAD (16 bytes), JSRuntime *runtime,
# JSContext *context, int has_time_limit (+4 padding), clock_t time_limit,
# PyThreadState *thread_state, InterruptData {clock_t start; clock_t limit;}.
_RUNTIME: Final = 16
_CONTEXT: Final = 24
_HAS_TIME_LIMIT: Final = 32
_TIME_LIMIT: Final = 40
_INTERRUPT_LIMIT: Final = 64
_CLOCKS_PER_SEC: Final = 1_000_000  # POSIX (XSI) fixes it; checked below through the binding
_CHECK_WAIT_S: Final = 2.0
_AGAIN_AFTER_S: Final = (0.001, 0.002, 0.005, 0.01, 0.03)


def _read_long(address: int) -> int:
    return int(ctypes.c_int64.from_address(address).value)


def _layout_matches() -> bool:
    """Whether the binding's struct is laid out as this module assumes."""
    if sys.platform == "win32" or struct.calcsize("P") != 8 or ctypes.sizeof(ctypes.c_long) != 8:
        return False
    context = quickjs.Context()
    base = id(context)
    try:
        if not (_read_long(base + _RUNTIME) and _read_long(base + _CONTEXT)):
            return False
        context.set_time_limit(1.25)
        on = ctypes.c_int.from_address(base + _HAS_TIME_LIMIT).value
        limit = _read_long(base + _TIME_LIMIT)
        context.set_time_limit(-1)
        off = ctypes.c_int.from_address(base + _HAS_TIME_LIMIT).value
        return (on, off, limit) == (1, 0, int(1.25 * _CLOCKS_PER_SEC))
    finally:
        del context


def _stop(context: Any) -> None:
    base = id(context)
    ctypes.c_int64.from_address(base + _TIME_LIMIT).value = 0
    ctypes.c_int64.from_address(base + _INTERRUPT_LIMIT).value = 0


def _interrupts_a_busy_loop() -> bool:
    """Run ``while (true) {}`` on a thread and stop it from here."""
    context = quickjs.Context()
    context.set_time_limit(_CHECK_WAIT_S * 4)
    outcome: list[str] = []
    started = threading.Event()

    def busy() -> None:
        started.set()
        try:
            context.eval("while (true) {}")
        except quickjs.JSException as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=busy, name="codemode-quickjs-check", daemon=True)
    thread.start()
    started.wait()
    time.sleep(0.02)
    _stop(context)
    thread.join(_CHECK_WAIT_S)
    return not thread.is_alive() and bool(outcome) and "interrupted" in outcome[0]


class _Again:
    """Writes the zeros again, a few times, while an interrupted evaluation still runs."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: collections.deque[tuple[float, int, Any, Callable[[], bool]]] = (
            collections.deque()
        )
        self._thread: threading.Thread | None = None
        self._stopping = False

    def schedule(self, context: Any, running: Callable[[], bool]) -> None:
        with self._lock:
            if self._stopping:
                return
            self._queue.append((time.monotonic() + _AGAIN_AFTER_S[0], 0, context, running))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="codemode-quickjs-interrupt", daemon=True
                )
                self._thread.start()
            self._lock.notify()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                due, attempt, context, running = self._queue[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._lock.wait(delay)
                    continue
                self._queue.popleft()
            if not running():
                continue
            _stop(context)
            if attempt + 1 < len(_AGAIN_AFTER_S):
                with self._lock:
                    again = time.monotonic() + _AGAIN_AFTER_S[attempt + 1]
                    self._queue.append((again, attempt + 1, context, running))

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._queue.clear()
            self._lock.notify()
            thread = self._thread
        if thread is not None:
            thread.join(1.0)


class Interrupter:
    """Stops a QuickJS context's running and later evaluations, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._available: bool | None = None
        self._again = _Again()
        atexit.register(self._again.stop)

    @property
    def available(self) -> bool:
        """Whether the struct layout was verified (checked once, on first use)."""
        with self._lock:
            if self._available is None:
                try:
                    self._available = _layout_matches() and _interrupts_a_busy_loop()
                except Exception:
                    self._available = False
            return self._available

    def stop(self, context: Any, running: Callable[[], bool] | None = None) -> bool:
        """Make ``context`` stop at its next interrupt check; False if that cannot be done.
        ``running`` says whether an evaluation still runs (the writes are then repeated)."""
        if not self.available:
            return False
        _stop(context)
        if running is not None and running():
            self._again.schedule(context, running)
        return True


interrupter = Interrupter()
"""The process's one interrupter (the check runs once)."""
