"""A bound on how many executions of one driver run at once, shared by every event loop.

A driver may be used from several event loops (one per thread, or ``asyncio.run`` after
``asyncio.run``), so the bound cannot be an ``asyncio.Semaphore``, which belongs to one loop.
Waiters queue in order; a slot freed on one loop is handed to the next waiter on its own
loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from types import TracebackType

DEFAULT_MAX_CONCURRENCY = 64
"""Executions of one driver that may run at once; more wait for a slot, in order."""

_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


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
