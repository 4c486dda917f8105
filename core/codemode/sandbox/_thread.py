"""Dedicated engine threads: each sandbox runs all its engine calls on one thread of its own.

Engines such as QuickJS must be used from the thread that created them, and evaluation must
run off the event loop so a busy sandbox never blocks other coroutines. A context borrows an
``EngineThread`` for its whole life; threads are pooled so creating a context costs no thread
start. A hand-off costs one queue put and one ``call_soon_threadsafe``, the least a crossing
between the event loop and another thread can cost.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Engines recurse on the C stack; QuickJS's own guard needs more room than musl's default.
_STACK_SIZE = 16 * 1024 * 1024
_MAX_IDLE = 16


def _ignore(ok: bool, value: Any) -> None:
    return None


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class EngineThread:
    """One worker thread that runs submitted calls in order."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Any] | None] = (
            queue.SimpleQueue()
        )
        old = threading.stack_size()
        try:
            threading.stack_size(_STACK_SIZE)
            self._thread = threading.Thread(target=self._work, name="codemode-engine", daemon=True)
            self._thread.start()
        finally:
            threading.stack_size(old)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, reply = job
            try:
                value, ok = fn(*args), True
            except BaseException as exc:  # handed to the caller, whatever it is
                value, ok = exc, False
            reply(ok, value)

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn(*args)`` on this thread; the future settles on the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def reply(ok: bool, value: Any) -> None:
            # RuntimeError: the loop closed while we ran; nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, ok, value)

        self._jobs.put((fn, args, reply))
        return future

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on this thread and await its result."""
        return await self.submit(fn, *args)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` on this thread without waiting; its errors are dropped."""
        self._jobs.put((fn, args, _ignore))

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on this thread and block until it returns (no event loop needed)."""
        done = threading.Event()
        box: list[Any] = []

        def reply(ok: bool, value: Any) -> None:
            box.extend((ok, value))
            done.set()

        self._jobs.put((fn, args, reply))
        done.wait()
        if not box[0]:
            raise box[1]
        result: T = box[1]
        return result

    def stop(self) -> None:
        self._jobs.put(None)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


class EnginePool:
    """Idle engine threads, ready for the next context."""

    def __init__(self) -> None:
        self._idle: list[EngineThread] = []
        self._lock = threading.Lock()

    def acquire(self) -> EngineThread:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
        return EngineThread()

    def release(self, worker: EngineThread) -> None:
        with self._lock:
            if len(self._idle) < _MAX_IDLE and worker.alive:
                self._idle.append(worker)
                return
        worker.stop()

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


pool = EnginePool()
atexit.register(pool.shutdown)
