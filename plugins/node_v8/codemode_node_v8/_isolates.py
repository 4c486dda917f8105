"""Making and freeing isolates off the event loop: a keeper thread, a reaper thread, a stock.

Making an isolate blocks until its thread runs, and freeing one blocks until its thread is
joined; neither may run on the event loop, and freeing must not run on the isolate's own
thread. The keeper thread makes them, one at a time as V8 needs (creating the first isolates
of a process concurrently aborts it); the reaper thread frees them, in parallel with the
keeper (checked under stress: 20,000 creations and frees from 8 threads at once).

Making an isolate and compiling the setup into it (``_scripts.prepare``) is most of what a
new context costs, and none of it depends on the context's config, so the keeper keeps a
stock of prepared isolates, as many as the most contexts that were ever alive at once plus
one, up to ``MAX_STOCK``; a context asked for when the stock is empty is made first. An idle
prepared isolate costs about 1 MB and a sleeping thread.

Every isolate not yet freed is held here, so that its ctypes callback cannot be collected
while V8 may call it. At interpreter exit both threads finish what is queued and every
isolate still alive is freed, before Python finalizes: when a process exits while V8
threads still run (an isolate being freed, or never freed), a V8 thread can call back into a
finalized interpreter, or trip over a static object that exit already destroyed, and kill the
process (seen: SIGSEGV in ``PyGILState_Ensure``; SIGTRAP from a V8 ``CHECK``).
"""

from __future__ import annotations

import atexit
import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from codemode_node_v8._native import ARRAY, NativeContext, Receiver
from codemode_node_v8._scripts import Prepared, prepare

MAX_STOCK: Final = 32
_EXIT_WAIT_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Fresh:
    """A new isolate with the setup compiled in, never used."""

    native: NativeContext
    prepared: Prepared
    argv: int
    """The handle of an empty array, the argument list of every call."""


_lock = threading.Lock()
_wake = threading.Condition(_lock)
_urgent: collections.deque[Callable[[], None]] = collections.deque()
_doomed: collections.deque[NativeContext] = collections.deque()
_alive: set[NativeContext] = set()
_stock: list[Fresh] = []
_preparing = 0
_live = 0
_peak = 0
_stocking = True
_exiting = False
_threads: list[threading.Thread] = []


def _target() -> int:
    return min(MAX_STOCK, _peak + 1)


def _wants_spare() -> bool:
    return _stocking and not _exiting and len(_stock) + _preparing < _target()


def _set_stocking(on: bool) -> None:
    global _stocking
    with _lock:
        _stocking = on


def _keeper() -> None:
    global _preparing
    while True:
        with _lock:
            while not (_urgent or _wants_spare() or _exiting):
                _wake.wait()
            if _urgent:
                job = _urgent.popleft()
            elif _wants_spare():
                _preparing += 1
                job = _make_spare
            else:
                return
        try:
            job()
        except Exception:
            # An urgent job reports its own failures. A spare that cannot be made stops the
            # stock (rather than failing again and again) until a context is made again.
            if job is _make_spare:
                _set_stocking(False)


def _reaper() -> None:
    while True:
        with _lock:
            while not (_doomed or _exiting):
                _wake.wait()
            if not _doomed:
                return
            native = _doomed.popleft()
        _free(native)


def _start() -> None:
    # Called holding _lock.
    if len(_threads) == 2 and all(thread.is_alive() for thread in _threads):
        return
    _threads.clear()
    for name, target in (("keeper", _keeper), ("reaper", _reaper)):
        thread = threading.Thread(target=target, name=f"codemode-v8-{name}", daemon=True)
        thread.start()
        _threads.append(thread)


def make(receiver: Receiver, prepared: Prepared, callback_id: int) -> NativeContext:
    """On the keeper thread: a new isolate, with ``prepared`` queued (its result goes to
    ``receiver`` with ``callback_id``)."""
    native = NativeContext(receiver)
    _adopt(native)
    native.eval(prepared.script, callback_id)
    _set_stocking(True)
    return native


def _adopt(native: NativeContext) -> None:
    with _lock:
        _alive.add(native)


class _Spare:
    """Receives the prepare result of a spare, on the isolate's thread, and stocks it."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.native: NativeContext | None = None

    def __call__(self, callback_id: int, kind: int, text: str | None, handle: int) -> None:
        global _preparing
        native = self.native
        if native is None:  # cannot happen: set before the prepare script is queued
            return
        native.let_go()  # idle until taken
        with _lock:
            _preparing -= 1
            stocked = kind == ARRAY and not _exiting
            if stocked:
                _stock.append(Fresh(native, self.prepared, handle))
                _wake.notify_all()
        if not stocked:
            release(native)


def _make_spare() -> None:
    global _preparing
    spare = _Spare(prepare())
    try:
        native = spare.native = NativeContext(spare)
    except BaseException:
        with _lock:
            _preparing -= 1
        raise
    # Known to the receiver before its result can come.
    _adopt(native)
    native.eval(spare.prepared.script, 0)


def take() -> Fresh | None:
    """A prepared isolate from the stock, if there is one (from any thread), for a context
    counted as alive until ``returned``. None: queue ``urgently`` a job that makes one."""
    global _live, _peak
    with _lock:
        if _exiting:
            raise RuntimeError("no V8 context can be made while the interpreter exits")
        _start()
        _live += 1
        _peak = max(_peak, _live)
        fresh = _stock.pop() if _stock else None
        _wake.notify_all()
    return fresh


def take_now() -> Fresh | None:
    """On the keeper thread: a stocked isolate if one was prepared meanwhile."""
    with _lock:
        return _stock.pop() if _stock else None


def urgently(job: Callable[[], None]) -> None:
    """Run ``job`` on the keeper thread before any spare is made (jobs run in order). Dropped
    during interpreter exit, when the exit hook frees every isolate."""
    with _lock:
        if _exiting:
            return
        _start()
        _urgent.append(job)
        _wake.notify_all()


def returned() -> None:
    """A context counted by ``take`` is gone."""
    global _live
    with _lock:
        _live -= 1


def release(native: NativeContext) -> None:
    """Free ``native``'s isolate on the reaper thread. During interpreter exit the exit hook
    frees it instead (this may be called on any thread, an isolate's own included, e.g. by
    the garbage collector, so it never frees here)."""
    with _lock:
        if _exiting:
            return
        _start()
        _doomed.append(native)
        _wake.notify_all()


def _free(native: NativeContext) -> None:
    try:
        native.free()
    finally:
        with _lock:
            _alive.discard(native)


def _shutdown() -> None:
    global _exiting
    with _lock:
        _exiting = True
        _wake.notify_all()
        threads = list(_threads)
    # Whatever is queued runs first (frees, a creation); then the threads end.
    for thread in threads:
        thread.join(_EXIT_WAIT_S)
    with _lock:
        leftovers = list(_alive)
        _stock.clear()
    for native in leftovers:
        _free(native)


atexit.register(_shutdown)
