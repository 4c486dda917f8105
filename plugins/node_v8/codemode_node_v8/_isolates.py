"""The V8 driver's threads and isolates: the home thread, the reapers, a stock of isolates.

**The home thread** is started on first need, from whatever thread needs V8 (``start``), and
initializes V8 before anything else, so that it and every thread it starts may touch V8's
memory whatever threads the application made before (see ``_lineage``). It then makes every
isolate (one at a time, as V8 needs: creating the first isolates of a process concurrently
aborts it), so each isolate's own thread descends from it too, and it starts the reapers.

**Reapers** free isolates (freeing blocks until the isolate's thread is joined, so it runs
neither on the event loop nor on that thread). Normally one does. An isolate whose program is
inside a builtin that ignores termination cannot be freed until the builtin returns, so when
every reaper has been freeing one isolate for more than ``STUCK_S``, the home thread starts
another, up to ``MAX_REAPERS``: one stuck isolate never stops the others from being freed.
Reapers beyond the first end after ``REAPER_IDLE_S`` without work.

**The stock.** Making an isolate and compiling the setup into it (``_scripts.prepare``) is
most of what a new context costs, and none of it depends on the context's config, so the
home thread keeps a stock of prepared isolates, as many as the most contexts that were ever
alive at once plus one, up to ``MAX_STOCK``. An idle prepared isolate costs about 1 MB.

Every isolate not yet freed is held in ``_alive``, so that its ctypes callback cannot be
collected while V8 may call it. **At interpreter exit** every isolate still alive is freed by
these threads (never by the main thread, which may not touch V8), before Python finalizes:
when a process exits while V8 threads still run, a V8 thread can call back into a finalized
interpreter, or trip over a static object exit already destroyed (seen: SIGSEGV in
``PyGILState_Ensure``; SIGTRAP from a V8 ``CHECK``). **After a fork**, a child of a process
that had started V8 has none of these threads and may hold their locks: V8 is refused there
with ``DriverUnavailableError``.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from codemode.errors import DriverUnavailableError
from codemode_node_v8 import _lineage, _native, _pkeys
from codemode_node_v8._native import ARRAY, NativeContext, Receiver
from codemode_node_v8._scripts import Prepared, prepare

MAX_STOCK: Final = 32
MAX_REAPERS: Final = 8
STUCK_S: Final = 0.5
REAPER_IDLE_S: Final = 10.0
_EXIT_WAIT_S: Final = 10.0
T = TypeVar("T")


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
_forked = False
_home: threading.Thread | None = None
_ready = threading.Event()
_failure: BaseException | None = None
_reapers: dict[int, float | None] = {}
"""Reaper serial number -> when it started freeing its current isolate (None: idle)."""
_reaper_threads: list[threading.Thread] = []
_next_reaper = 0
initialized_elsewhere = False
"""V8 was initialized by other code in this process before the driver's home thread."""


# Starting ------------------------------------------------------------------------------------


def started() -> bool:
    """Whether the home thread is up and V8 initialized (``start`` would not block)."""
    return _ready.is_set() and _failure is None and not _forked


def start() -> None:
    """Start the home thread if needed and wait until V8 is initialized; raises why it could
    not be (``DriverUnavailableError``). Blocks: call it off the event loop."""
    global _home
    with _lock:
        if _forked:
            raise DriverUnavailableError(
                "this process was forked from one that had already started V8, and V8 cannot"
                " run in such a child (its threads are gone, their locks may be held): start"
                " worker processes with the 'spawn' method, or use V8 only in the children"
            )
        if _exiting:
            raise RuntimeError("no V8 context can be made while the interpreter exits")
        if _home is None:
            _home = threading.Thread(target=_home_thread, name="codemode-v8-home", daemon=True)
            _home.start()
    _ready.wait()
    if _failure is not None:
        raise _failure


def _home_thread() -> None:
    global _failure, initialized_elsewhere
    try:
        initialized_elsewhere = _native.initialize() == "elsewhere"
        if initialized_elsewhere:
            _claim_rights()
    except BaseException as exc:  # reported to every caller of start()
        _failure = exc
        _ready.set()
        return
    _lineage.join()
    try:
        with _lock:
            _spawn_reaper()
        _ready.set()
        _keep()
    finally:
        _lineage.leave()


def _claim_rights() -> None:
    """V8 was initialized on a thread this one does not descend from: on a CPU with
    protection keys, give this thread (and so its descendants) the read access V8 gives the
    thread that initialized it."""
    if not _pkeys.supported():
        return
    for key in _pkeys.keys_in_use():
        rights = _pkeys.rights(key)
        denied = rights is not None and rights & _pkeys.PKEY_DISABLE_ACCESS
        if denied and not _pkeys.allow_read(key):
            raise DriverUnavailableError(
                "V8 was initialized by other code in this process, on a thread whose"
                " memory-protection rights the V8 driver's threads lack, and they cannot"
                f" be granted ({_pkeys.describe()}); let codemode initialize V8 first"
            )


# The home thread's work ----------------------------------------------------------------------


def _target() -> int:
    return min(MAX_STOCK, _peak + 1)


def _wants_spare() -> bool:
    return _stocking and not _exiting and len(_stock) + _preparing < _target()


def _needs_reaper() -> bool:
    if not _doomed or len(_reapers) >= MAX_REAPERS:
        return False
    now = time.monotonic()
    return all(since is not None and now - since > STUCK_S for since in _reapers.values())


def _reapers_all_busy() -> bool:
    return bool(_doomed) and all(since is not None for since in _reapers.values())


def _set_stocking(on: bool) -> None:
    global _stocking
    with _lock:
        _stocking = on


def _keep() -> None:
    global _preparing
    while True:
        with _lock:
            while True:
                if _urgent:
                    job: Callable[[], None] | None = _urgent.popleft()
                    break
                if _needs_reaper():
                    _spawn_reaper()
                    continue
                if _wants_spare():
                    _preparing += 1
                    job = _make_spare
                    break
                if _exiting:
                    job = None
                    break
                _wake.wait(STUCK_S / 2 if _reapers_all_busy() else None)
        if job is None:
            break
        try:
            job()
        except Exception:
            # An urgent job reports its own failures. A spare that cannot be made stops the
            # stock (rather than failing again and again) until a context is made again.
            if job is _make_spare:
                _set_stocking(False)
    _drain()


def _spawn_reaper() -> None:
    # Holding _lock, on a lineage thread.
    global _next_reaper
    serial = _next_reaper
    _next_reaper += 1
    _reapers[serial] = None
    _reaper_threads.append(
        _lineage.spawn(lambda: _reap(serial), name=f"codemode-v8-reaper-{serial}")
    )


def _reap(serial: int) -> None:
    while True:
        with _lock:
            _reapers[serial] = None
            idle_since = time.monotonic()
            while not _doomed:
                if _exiting or (serial and time.monotonic() - idle_since >= REAPER_IDLE_S):
                    del _reapers[serial]
                    return
                _wake.wait(REAPER_IDLE_S if serial else None)
            native = _doomed.popleft()
            _reapers[serial] = time.monotonic()
        _free(native)


def _drain() -> None:
    """At exit, on the home thread: free what is still queued, alongside the reapers."""
    while True:
        with _lock:
            if not _doomed:
                return
            native = _doomed.popleft()
        _free(native)


def _free(native: NativeContext) -> None:
    try:
        native.free()
    finally:
        with _lock:
            _alive.discard(native)


# Making isolates -----------------------------------------------------------------------------


def make(receiver: Receiver, prepared: Prepared, callback_id: int) -> NativeContext:
    """On the home thread: a new isolate, with ``prepared`` queued (its result goes to
    ``receiver`` with ``callback_id``)."""
    native = NativeContext(receiver)
    _adopt(native)
    native.eval(prepared.script, callback_id)
    _set_stocking(True)
    return native


def _adopt(native: NativeContext) -> None:
    with _lock:
        _alive.add(native)
        if _exiting:
            # Made while the interpreter exits: free it with the rest.
            _doomed.append(native)
            _wake.notify_all()


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
    """A prepared isolate from the stock, if there is one (from any thread, once ``start``
    returned), for a context counted as alive until ``returned``. None: queue ``urgently`` a
    job that makes one."""
    global _live, _peak
    if not started():
        start()  # raises why V8 cannot be used (or starts it, for a caller that did not)
    with _lock:
        if _exiting:
            raise RuntimeError("no V8 context can be made while the interpreter exits")
        _live += 1
        _peak = max(_peak, _live)
        fresh = _stock.pop() if _stock else None
        _wake.notify_all()
    return fresh


def take_now() -> Fresh | None:
    """On the home thread: a stocked isolate if one was prepared meanwhile."""
    with _lock:
        return _stock.pop() if _stock else None


def urgently(job: Callable[[], None]) -> None:
    """Run ``job`` on the home thread before any spare is made (jobs run in order). Dropped
    during interpreter exit, when every isolate is freed anyway."""
    with _lock:
        if _exiting or _forked:
            return
        _urgent.append(job)
        _wake.notify_all()


def returned() -> None:
    """A context counted by ``take`` is gone."""
    global _live
    with _lock:
        _live -= 1


def release(native: NativeContext) -> None:
    """Free ``native``'s isolate on a reaper (this may be called on any thread, an isolate's
    own included, e.g. by the garbage collector, so it never frees here)."""
    with _lock:
        if _exiting or _forked:
            return  # freed by the exit hook; or, in a forked child, not ours to free
        _doomed.append(native)
        _wake.notify_all()


def run_on_home(fn: Callable[[], T]) -> T:
    """Run ``fn`` on the home thread and wait for it (blocks; for tests and diagnostics)."""
    start()
    done = threading.Event()
    box: list[Any] = []

    def job() -> None:
        try:
            box.extend((True, fn()))
        except BaseException as exc:  # handed to the caller, whatever it is
            box.extend((False, exc))
        finally:
            done.set()

    urgently(job)
    done.wait()
    if not box[0]:
        raise box[1]
    result: T = box[1]
    return result


def reaper_count() -> int:
    """Reapers alive now (for tests)."""
    with _lock:
        return len(_reapers)


# Exit and fork -------------------------------------------------------------------------------


def _shutdown() -> None:
    global _exiting
    with _lock:
        if _home is None or _forked or _failure is not None:
            return
        _exiting = True
        queued = set(_doomed)
        _doomed.extend(native for native in _alive if native not in queued)
        _stock.clear()
        _wake.notify_all()
        threads = [_home, *_reaper_threads]
    # What is queued is freed first (by the reapers and the home thread); then they end.
    deadline = time.monotonic() + _EXIT_WAIT_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    global _lock, _wake, _forked
    _lock = threading.Lock()
    _wake = threading.Condition(_lock)
    if _home is not None:
        _forked = True


atexit.register(_shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
