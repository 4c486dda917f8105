"""mini-racer's C API, called directly: one V8 isolate per context, work posted to its thread.

mini-racer runs each isolate on a message-pump thread of its own. ``mr_eval`` and
``mr_call_function`` post a task to that thread and return at once; the task's result comes
back through one C callback per context, called on the isolate's thread. Its Python layer adds
an asyncio loop per context (or a loop thread when there is none) and several Python objects
per call; going straight to the C functions (the same ones that layer calls, set up by its
public ``init_mini_racer``) keeps a crossing to one C call here and one callback there. The
ABI is that of ``mini-racer`` 0.14 (``SUPPORTED_VERSIONS``); the functions are bound here with
our own signatures (value handles as plain addresses), leaving mini-racer's own bindings
untouched.

Facts about the engine the driver relies on (checked in this plugin's tests):

- tasks posted to one context run in order; after each one the pump runs all microtasks
  (``PerformMicrotaskCheckpoint``) before the next task starts;
- the callback for a task comes *before* that microtask checkpoint;
- posting (``mr_eval``, ``mr_call_function``, allocating and freeing plain values) never
  waits for the isolate's thread, so it may be done from inside the callback, on that thread;
  the object functions (``mr_get_object_item``, ``mr_array_push``...) do wait, and would
  deadlock there, so this module does not use them;
- ``mr_free_context`` terminates whatever JavaScript runs (a script or a microtask) and joins
  the isolate's thread, so it must never run on that thread; ``mr_cancel_task`` only stops a
  script, not microtasks, but a task it cancels before it starts only calls back;
- every task calls back exactly once, in the order the tasks were queued, even when the
  context is freed (cancelled tasks with "execution terminated"), and none after
  ``mr_free_context`` returns;
- creating isolates from several threads at once is not safe: V8 initializes parts of itself
  lazily in the first ones, and a race there aborts the process (seen: ``Check failed:
  !IsConfigurablePoolInitialized()`` when 20 contexts started at once in a fresh process). So
  isolates are created one at a time.

Which threads may call what is ``_lineage``'s business: ``initialize`` runs on the driver's
home thread, making and freeing isolates only on threads of its lineage (checked here), and the
rest anywhere. ``initialize`` also checks the ABI this module assumes (the mini-racer version
range, the layout of a value, a round trip through the functions bound here), so that a
mini-racer this module does not know fails with ``DriverUnavailableError`` instead of a crash.
"""

from __future__ import annotations

import collections
import ctypes
import struct
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, Final, Literal

import py_mini_racer

from codemode.errors import DriverUnavailableError
from codemode_node_v8 import _lineage

# Value types of mini-racer's C side (``_MiniRacerTypes`` in its Python layer).
BOOL: Final = 2
INTEGER: Final = 3
STRING: Final = 5
ARRAY: Final = 6
UNDEFINED: Final = 11
FUNCTION: Final = 100
EXECUTE_EXCEPTION: Final = 200
PARSE_EXCEPTION: Final = 201
OOM_EXCEPTION: Final = 202
TIMEOUT_EXCEPTION: Final = 203
TERMINATED_EXCEPTION: Final = 204
_TEXT_TYPES: Final = frozenset({STRING, *range(200, 207)})
_KEPT_TYPES: Final = frozenset({ARRAY, FUNCTION})

# A value as mini-racer lays it out (``_RawValue``, packed): an 8-byte union (a pointer to
# the bytes of a string), the length in bytes, the type.
_RAW_VALUE: Final = struct.Struct("<QQB")

_CREATING = threading.Lock()

Receiver = Callable[[int, int, "str | None", int], None]
"""Receives (callback id, value type, text of a string or exception, else None, handle).

``handle`` is nonzero for arrays and functions only: the receiver owns it and frees it with
``NativeContext.free_value`` unless it keeps it as an argument for ``call``."""

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_void_p)
_U64, _PTR, _U8, _SIZE = ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint8, ctypes.c_size_t


class _Api:
    """The C functions this driver calls, with value handles as ``c_void_p`` (plain ints)."""

    def __init__(self, dll: Any) -> None:
        def bind(name: str, restype: Any, *argtypes: Any) -> Any:
            function = dll._FuncPtr((name, dll))
            function.restype = restype
            function.argtypes = argtypes
            return function

        self.init_context = bind("mr_init_context", _U64, _CALLBACK)
        self.free_context = bind("mr_free_context", None, _U64)
        self.eval = bind("mr_eval", _U64, _U64, _PTR, _U64)
        self.call_function = bind("mr_call_function", _U64, _U64, _PTR, _PTR, _PTR, _U64)
        self.alloc_string = bind("mr_alloc_string_val", _PTR, _U64, ctypes.c_char_p, _U64, _U8)
        self.alloc_int = bind("mr_alloc_int_val", _PTR, _U64, ctypes.c_int64, _U8)
        self.free_value = bind("mr_free_value", None, _U64, _PTR)
        self.cancel_task = bind("mr_cancel_task", None, _U64, _U64)
        self.set_hard_memory_limit = bind("mr_set_hard_memory_limit", None, _U64, _SIZE)
        self.hard_memory_limit_reached = bind("mr_hard_memory_limit_reached", ctypes.c_bool, _U64)
        self.v8_version = bind("mr_v8_version", ctypes.c_char_p)


V8_FLAGS: Final = (*py_mini_racer.DEFAULT_V8_FLAGS, "--no-maglev")
"""The flags V8 is initialized with (when this driver initializes it). mini-racer's default
``--single-threaded`` stays: it gives a platform without worker threads, so every thread that
touches V8 memory is one ``_lineage`` knows. ``--no-maglev`` leaves out V8's mid tier, whose
code for a hot loop the program just started (each program runs in a fresh isolate) is
slower than TurboFan's and, deoptimized again and again, never gets to TurboFan in a short
run: the W4 sieve costs about 17% less CPU without it (measured in docs/performance.md),
and W2 and W6 do not change measurably."""

SUPPORTED_VERSIONS: Final = ((0, 14, 1), (0, 15, 0))
"""mini-racer releases whose C functions and value layout this module was checked against:
from the first (inclusive) to the second (exclusive)."""

_api: _Api | None = None


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _check_abi(api: _Api) -> None:
    """Make a throwaway context, and read back a string and an integer value through the
    layout this module assumes; ``DriverUnavailableError`` if anything differs."""
    # Kept alive until the context is freed: ctypes holds no reference to a callback in C.
    callback = _CALLBACK(lambda callback_id, handle: None)
    context = int(api.init_context(callback))
    if not context:
        raise DriverUnavailableError("mini-racer could not make a V8 context (ABI check)")
    try:
        text = b"codemode \xe2\x9c\x93"
        handle = api.alloc_string(context, text, len(text), STRING)
        address, length, kind = _RAW_VALUE.unpack(ctypes.string_at(handle, _RAW_VALUE.size))
        seen = ctypes.string_at(address, length)
        api.free_value(context, handle)
        number = api.alloc_int(context, 123456789, INTEGER)
        value, _, int_kind = _RAW_VALUE.unpack(ctypes.string_at(number, _RAW_VALUE.size))
        api.free_value(context, number)
    finally:
        api.free_context(context)
        del callback
    if (kind, length, seen, int_kind, value) != (STRING, len(text), text, INTEGER, 123456789):
        raise DriverUnavailableError(
            "mini-racer's C values are not laid out as this driver expects (ABI check failed:"
            f" string type {kind}, length {length}, integer type {int_kind}, value {value})"
        )


def initialize() -> Literal["here", "elsewhere"]:
    """On the home thread: initialize V8 with ``V8_FLAGS`` (or find it initialized by other
    code in this process, with its own flags, which is the answer "elsewhere") and bind and
    check the C functions."""
    global _api
    version = metadata.version("mini-racer")
    low, high = SUPPORTED_VERSIONS
    if not low <= _version_tuple(version) < high:
        raise DriverUnavailableError(
            f"mini-racer {version} is installed; this driver supports mini-racer"
            f" >={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
            " (pip install 'mini-racer>=0.14.1,<0.15')"
        )
    where: Literal["here", "elsewhere"] = "here"
    try:
        dll = py_mini_racer.init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=False)
    except py_mini_racer.LibAlreadyInitializedError:
        dll = py_mini_racer.init_mini_racer(ignore_duplicate_init=True)
        where = "elsewhere"
    try:
        api = _Api(dll)
    except AttributeError as exc:
        raise DriverUnavailableError(
            f"mini-racer {version} lacks a C function this driver calls: {exc}"
        ) from None
    _check_abi(api)
    _api = api
    return where


def _bound() -> _Api:
    if _api is None:
        raise RuntimeError("V8 is not initialized yet (the driver's home thread does that)")
    return _api


_FAREWELL: Final = 2**64 - 1
"""The callback id of the task ``free`` queues to let the isolate's thread state go."""
_FAREWELL_WAIT_S: Final = 1.0

# Our own function objects: ``ctypes.pythonapi``'s are shared with the whole process.
_gil_ensure = ctypes.pythonapi._FuncPtr(("PyGILState_Ensure", ctypes.pythonapi))
_gil_ensure.restype = ctypes.c_int
_gil_ensure.argtypes = ()
_gil_release = ctypes.pythonapi._FuncPtr(("PyGILState_Release", ctypes.pythonapi))
_gil_release.restype = None
_gil_release.argtypes = (ctypes.c_int,)


class NativeContext:
    """One mini-racer context (a V8 isolate and its thread); free it with ``free()``.

    Every method may be called from any thread, the isolate's own included, except ``free``
    (never on the isolate's thread) and the constructor (which blocks until the isolate runs).
    A lock orders them against ``free``: after it, posting does nothing and says so.

    No task may start while the context is freed: mini-racer tears the context down while
    its thread still runs what was queued, and a task that starts then finds no V8 context
    (seen: SIGSEGV in ``CodeEvaluator::Eval``, about once in 8,000 frees, when a task was
    queued just before ``mr_free_context``). So this class keeps the ids of the tasks it
    queued that have not called back yet (they call back in order), and ``free`` cancels
    them first: a cancelled task only calls back.

    The isolate's thread is not a Python thread: for each callback, ctypes makes a Python
    thread state and deletes it afterwards, which costs more than the callback itself (the
    state's frame stack is mapped and unmapped, and unmapping in a threaded process
    interrupts every CPU). So a callback keeps the thread state for the next ones until the
    receiver calls ``let_go`` (at the end of a run), the context is freed, or ``free`` asks
    for it with a farewell task, which it waits for before freeing.
    """

    def __init__(self, on_result: Receiver) -> None:
        _lineage.require("making a V8 isolate")
        api = self._api = _bound()
        self._on_result = on_result
        self._lock = threading.Lock()
        self._queued: collections.deque[int] = collections.deque()
        self._kept_state: int | None = None
        self._farewell: threading.Event | None = None
        # ctypes keeps no reference to a callback it hands to C: this attribute does, for as
        # long as the context can call it (``free`` returns only when it no longer can).
        self._callback = _CALLBACK(self._receive)
        with _CREATING:
            self._id: int | None = int(api.init_context(self._callback))
        self._undefined: int = api.alloc_int(self._id, 0, UNDEFINED)

    def _receive(self, callback_id: int, handle: int | None) -> None:
        # Runs on the isolate's thread, holding the GIL: copy the value out, free it, and hand
        # it on. Nothing here may raise (ctypes would print the error and carry on).
        try:
            with self._lock:
                if self._queued:
                    self._queued.popleft()
                alive = self._id is not None
            if callback_id == _FAREWELL or not alive:
                self.let_go()
                if self._farewell is not None and callback_id == _FAREWELL:
                    self._farewell.set()
                return
            if self._kept_state is None:
                self._kept_state = _gil_ensure()
            if not handle:
                return
            address, length, kind = _RAW_VALUE.unpack(ctypes.string_at(handle, _RAW_VALUE.size))
            text = None
            if kind in _TEXT_TYPES:
                text = ctypes.string_at(address, length).decode("utf-8", "replace")
            if kind in _KEPT_TYPES:
                self._on_result(callback_id, kind, text, handle)
                return
            self.free_value(handle)
            self._on_result(callback_id, kind, text, 0)
        except BaseException:  # see above: a callback must never raise
            pass

    def let_go(self) -> None:
        """On the isolate's thread, in a callback: do not keep this thread's Python thread
        state past this callback."""
        kept, self._kept_state = self._kept_state, None
        if kept is not None:
            _gil_release(kept)

    def bind(self, on_result: Receiver) -> None:
        """Send later results to ``on_result`` (for an isolate made before its user)."""
        self._on_result = on_result

    @property
    def alive(self) -> bool:
        return self._id is not None

    def eval(self, script: str, callback_id: int) -> bool:
        """Queue ``script``; its result comes to the receiver with this id. False if freed."""
        data = script.encode("utf-8", "surrogatepass")
        with self._lock:
            return self._eval(data, callback_id)

    def _eval(self, data: bytes, callback_id: int) -> bool:
        # Holding the lock.
        api, context = self._api, self._id
        if context is None:
            return False
        code = api.alloc_string(context, data, len(data), STRING)
        self._queued.append(api.eval(context, code, callback_id))
        # The queued task holds its own reference to the code.
        api.free_value(context, code)
        return True

    def call(self, function: int, argv: int, this: str | None, callback_id: int) -> bool:
        """Queue ``function.apply(this, argv)``, ``this`` a string or undefined (``argv`` an
        array handle). False if freed."""
        api = self._api
        with self._lock:
            context = self._id
            if context is None:
                return False
            if this is None:
                task = api.call_function(context, function, self._undefined, argv, callback_id)
                self._queued.append(task)
                return True
            data = this.encode("utf-8", "surrogatepass")
            value = api.alloc_string(context, data, len(data), STRING)
            self._queued.append(api.call_function(context, function, value, argv, callback_id))
            api.free_value(context, value)
            return True

    def free_value(self, handle: int) -> None:
        with self._lock:
            if self._id is not None:
                self._api.free_value(self._id, handle)

    def set_memory_limit(self, limit_bytes: int) -> None:
        """Terminate JavaScript once the heap holds more than this after a collection."""
        with self._lock:
            if self._id is not None:
                self._api.set_hard_memory_limit(self._id, limit_bytes)

    def memory_limit_reached(self) -> bool:
        with self._lock:
            return self._id is not None and bool(self._api.hard_memory_limit_reached(self._id))

    def free(self) -> None:
        """Terminate any running JavaScript and free the isolate; safe to call twice, from
        any thread but the isolate's own. Value handles die with it.

        Every task queued before still calls back (cancelled, with "execution terminated").
        An idle isolate whose thread keeps a Python thread state is asked to let it go first
        (a farewell task, waited for: an idle isolate answers at once)."""
        _lineage.require("freeing a V8 isolate")
        with self._lock:
            context = self._id
            if context is None:
                return
            farewell = None
            if not self._queued and self._kept_state is not None:
                farewell = self._farewell = threading.Event()
                self._eval(b"0", _FAREWELL)
        if farewell is not None:
            farewell.wait(_FAREWELL_WAIT_S)
        with self._lock:
            # Cancelled before they start, these tasks only call back (and let the thread
            # state go, as the context is freed by then).
            for task in self._queued:
                self._api.cancel_task(context, task)
            self._id = None
        self._api.free_context(context)


def engine_version() -> str:
    """The V8 version mini-racer was built with (once V8 is initialized)."""
    version: bytes = _bound().v8_version()
    return version.decode()
