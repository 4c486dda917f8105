"""The threads allowed to touch V8's memory: the one that initialized V8, and its descendants.

V8's rule on x86-64 CPUs with memory protection keys (``pku``; most current server CPUs): when
V8 initializes, its platform allocates a protection key (``pkey_alloc(0, PKEY_DISABLE_WRITE)``
in libplatform's ``DefaultThreadIsolatedAllocator``) and tags its code space and its own
thread-isolation data with it. Access rights for a key live in each thread's PKRU register:
``pkey_alloc`` grants them to the calling thread only, a thread that already existed keeps the
Linux default for a new key (no access at all), and a new thread copies the register of the
thread that creates it. So a thread may touch V8 memory only if it is the initializing thread
or was started, after initialization, by a thread that may. Anything else faults with SIGSEGV
on its first access (denoland/rusty_v8 #1381, rubyjs/libv8-node #53): that was the crash of
the reaper thread, started before its sibling, the keeper, initialized V8.

The driver therefore starts one *home* thread (``_isolates``), from whatever thread first needs
V8, and the home thread initializes V8 before anything else. Every other thread that calls a
mini-racer function which touches V8 memory is started through ``spawn`` by a thread of this
lineage, after that. Those functions are only two (read in mini-racer's C++ source, see
``docs/v8-threads.md``): ``mr_init_context`` (``v8::Isolate::New`` runs on the calling thread,
which also starts the isolate's message-pump thread) and ``mr_free_context`` (``Isolate::Dispose``
runs on the calling thread). ``require`` guards them: off the lineage they raise instead of
faulting. Posting tasks, allocating or freeing plain values, cancelling tasks and the
memory-limit flags only touch mini-racer's C++ objects, and may be called from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

_lock = threading.Lock()
_members: set[int] = set()


class LineageError(RuntimeError):
    """A V8 operation was asked for on a thread that may not touch V8's memory."""


def _enter() -> None:
    with _lock:
        _members.add(threading.get_ident())


def _leave() -> None:
    with _lock:
        _members.discard(threading.get_ident())


def join() -> None:
    """Called by the home thread once it has initialized V8 (or has checked its rights)."""
    _enter()


def leave() -> None:
    """Called by the home thread when it ends."""
    _leave()


def member() -> bool:
    """Whether the calling thread may touch V8's memory."""
    with _lock:
        return threading.get_ident() in _members


def require(what: str) -> None:
    """``LineageError`` unless the calling thread may touch V8's memory."""
    if not member():
        raise LineageError(
            f"{what} must run on a thread of the V8 driver started after V8 was initialized"
            f" (this is {threading.current_thread().name!r}); V8 would fault on this thread on"
            " CPUs with memory protection keys"
        )


def spawn(target: Callable[[], None], name: str) -> threading.Thread:
    """Start a thread of the lineage (it inherits its creator's rights); only a lineage
    thread may do this."""
    require("starting a V8 thread")

    def run() -> None:
        _enter()
        try:
            target()
        finally:
            _leave()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
