"""mini-racer's C API, called directly: one V8 isolate per context, scripts posted to it.

mini-racer runs each isolate on a message-pump thread of its own and reports every result
through one C callback per context. Its Python layer adds an asyncio loop per context (or a
loop thread when there is none) and several Python objects per call; going straight to the
C functions (the same ones that layer calls, set up by its public ``init_mini_racer``) keeps
a crossing to one ``mr_eval`` here and one callback there. The ABI is that of the pinned
``mini-racer==0.14.1``.

Facts about the engine the session relies on (checked in this plugin's tests):

- scripts posted to one context run in order; after each one the pump runs all microtasks
  (``PerformMicrotaskCheckpoint``) before the next script starts;
- the callback for a script comes *before* that microtask checkpoint;
- ``mr_free_context`` terminates whatever JavaScript runs (a script or a microtask) and joins
  the isolate's thread; ``mr_cancel_task`` only stops a script, not microtasks;
- creating isolates from several threads at once is not safe: V8 initializes parts of itself
  lazily in the first ones, and a race there aborts the process (seen: ``Check failed:
  !IsConfigurablePoolInitialized()`` when 20 contexts started at once in a fresh process). So
  isolates are created one at a time (freeing them concurrently showed no such problem).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from py_mini_racer import init_mini_racer
from py_mini_racer._dll import MR_CALLBACK

# Value types of mini-racer's C side (``_MiniRacerTypes`` in its Python layer).
BOOL: Final = 2
INTEGER: Final = 3
STRING: Final = 5
UNDEFINED: Final = 11
EXECUTE_EXCEPTION: Final = 200
PARSE_EXCEPTION: Final = 201
OOM_EXCEPTION: Final = 202
TIMEOUT_EXCEPTION: Final = 203
TERMINATED_EXCEPTION: Final = 204
_TEXT_TYPES: Final = frozenset({STRING, *range(200, 207)})

_CREATING = threading.Lock()

Callback = Callable[[int, int, str | None], None]
"""Receives (callback id, value type, text for strings and exceptions, else None)."""


class NativeContext:
    """One mini-racer context (a V8 isolate and its thread); free it with ``free()``."""

    def __init__(self, on_result: Callback) -> None:
        self._dll: Any = init_mini_racer(ignore_duplicate_init=True)
        self._on_result = on_result
        # ctypes keeps no reference to a callback it hands to C: this attribute does, for as
        # long as the context can call it.
        self._callback = MR_CALLBACK(self._receive)
        with _CREATING:
            self._handle: int | None = int(self._dll.mr_init_context(self._callback))

    def _receive(self, callback_id: int, raw: Any) -> None:
        # Runs on the isolate's thread, holding the GIL: copy the value out, free it, and hand
        # it on. Nothing here may raise (ctypes would print the error and carry on).
        try:
            value = raw.contents
            kind = int(value.type)
            text = None
            if kind in _TEXT_TYPES:
                text = value.value.bytes_val[0 : value.len].decode("utf-8", "replace")
            if self._handle is not None:
                self._dll.mr_free_value(self._handle, raw)
            self._on_result(callback_id, kind, text)
        except BaseException:  # see above: a callback must never raise
            pass

    @property
    def alive(self) -> bool:
        return self._handle is not None

    def post(self, script: str, callback_id: int) -> None:
        """Queue ``script`` on the isolate; its result comes to the callback with this id."""
        handle = self._handle
        if handle is None:
            raise RuntimeError("the V8 context was freed")
        data = script.encode("utf-8", "surrogatepass")
        code = self._dll.mr_alloc_string_val(handle, data, len(data), STRING)
        try:
            self._dll.mr_eval(handle, code, callback_id)
        finally:
            self._dll.mr_free_value(handle, code)

    def set_memory_limit(self, limit_bytes: int) -> None:
        """Terminate JavaScript once the heap holds more than this after a collection."""
        if self._handle is not None:
            self._dll.mr_set_hard_memory_limit(self._handle, limit_bytes)

    def memory_limit_reached(self) -> bool:
        return self._handle is not None and bool(
            self._dll.mr_hard_memory_limit_reached(self._handle)
        )

    def free(self) -> None:
        """Terminate any running JavaScript and free the isolate; safe to call twice."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._dll.mr_free_context(handle)


def engine_version() -> str:
    """The V8 version mini-racer was built with."""
    version: bytes = init_mini_racer(ignore_duplicate_init=True).mr_v8_version()
    return version.decode()
