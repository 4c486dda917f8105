"""A bound on how many executions of one driver run at once, shared by every event loop.

A driver may be used from several event loops (one per thread, or ``asyncio.run`` after
``asyncio.run``), so the bound cannot be an ``asyncio.Semaphore``, which belongs to one loop.
Waiters queue in order; a slot freed on one loop is handed to the next waiter on its own
loop with ``call_soon_threadsafe``.

The bound is re-entrant: an execution started from within one that holds a slot (a skill's
program, run by a tool call of the program that called the skill) runs in its caller's slot.
Waiting for a slot of its own could never end when every slot is held by callers that wait
for it. ``held()`` tells whether the current context already holds one; the tool calls of
an execution inherit that, since they start in copies of its context.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import threading
from collections.abc import Iterator
from types import TracebackType

DEFAULT_MAX_CONCURRENCY = 64
"""Executions of one driver that may run at once; more wait for a slot, in order."""

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]
_HELD: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "codemode_held_limits", default=frozenset()
)


class ConcurrencyLimit:
    """At most ``limit`` holders at once; ``async with limit:`` waits for a slot."""

    def __init__(self, limit: int = DEFAULT_MAX_CONCURRENCY) -> None:
        self.limit = limit
        self._active = 0
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()

    @property
    def active(self) -> int:
        """Slots held now."""
        return self._active

    def held(self) -> bool:
        """Whether the current context runs inside an execution holding one of these slots."""
        return id(self) in _HELD.get()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Mark the current context as holding a slot (for the executions it starts)."""
        token = _HELD.set(_HELD.get() | {id(self)})
        try:
            yield
        finally:
            _HELD.reset(token)

    async def acquire(self) -> None:
        with self._lock:
            if self._active < self.limit and not self._waiters:
                self._active += 1
                return
            loop = asyncio.get_running_loop()
            waiter: _Waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            # Otherwise the slot was handed over already; _grant gives it back.
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                if future.done():
                    continue
                try:
                    loop.call_soon_threadsafe(self._grant, future)
                except RuntimeError:  # that loop is closed: nobody waits there any more
                    continue
                return
            self._active -= 1

    def _grant(self, future: asyncio.Future[None]) -> None:
        if future.done():
            self.release()  # cancelled after the hand-over: pass the slot on
        else:
            future.set_result(None)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
