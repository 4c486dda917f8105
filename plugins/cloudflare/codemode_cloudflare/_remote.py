"""What both protocols share: the named errors a Worker's failures become, closing an engine
while it waits on the network, and retrying a Worker that has not answered at all.

A failure of the Worker or of the network ends the run with a named result
(``WorkerUnavailableError``, ``WorkerAuthError``, ``WorkerProtocolError``, ``TimeoutError``),
raised here as ``EngineStop`` so the host loop reports it like any other limit: never an
exception out of ``execute``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, Final, TypeVar

from codemode.errors import ErrorName
from codemode.sandbox import EngineStop, EngineTraits, ProgramFailure, StopKind, limit_stop

T = TypeVar("T")

RETRY_S: Final = 5.0
"""How long a Worker that has not answered anything (connection refused or reset before any
response) is retried: long enough for a local workerd to be restarted, short enough that a
Worker that is down is reported soon. Retrying is safe then: no program has started."""
_FIRST_DELAY_S: Final = 0.05
_MAX_DELAY_S: Final = 0.5


def unavailable(message: str) -> EngineStop:
    return limit_stop(ErrorName.WORKER_UNAVAILABLE, message)


def refused(message: str) -> EngineStop:
    return limit_stop(ErrorName.WORKER_AUTH, message)


def garbage(message: str) -> EngineStop:
    return limit_stop(ErrorName.WORKER_PROTOCOL, message)


def http_refusal(url: str, status: int, body: str) -> EngineStop:
    """The named error for a Worker that answered with an HTTP error status."""
    text = body.strip()[:300] or "(no body)"
    if status in (401, 403) or "WorkerAuthError" in text:
        return refused(
            f"the Worker at {url} refused the request (HTTP {status}: {text}); pass the"
            " Worker's secret as authorization="
        )
    if status >= 500:
        return unavailable(f"the Worker at {url} failed (HTTP {status}: {text})")
    return garbage(f"the Worker at {url} answered HTTP {status}: {text}")


class WorkerTraits(EngineTraits):
    """Cloudflare reports its own limits as errors of the child Worker."""

    def classify(self, failure: ProgramFailure) -> StopKind | None:
        message = failure.message.lower()
        if "exceeded memory" in message or "memory limit" in message:
            return "memory"
        if "exceeded cpu" in message or "cpu time limit" in message:
            return "timeout"
        return super().classify(failure)


TRAITS: Final = WorkerTraits("Cloudflare Worker")


class Retry:
    """Backoff for a Worker that has not answered: ``await retry.wait(reason)`` sleeps before
    the next attempt, or raises ``WorkerUnavailableError`` once ``RETRY_S`` have passed since
    the first failure (or the deadline is near)."""

    def __init__(self, url: str, deadline: float) -> None:
        self._url = url
        self._deadline = deadline
        self._first: float | None = None
        self._delay = _FIRST_DELAY_S

    async def wait(self, reason: str) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = now
        if now - self._first + self._delay > RETRY_S or now + self._delay >= self._deadline:
            raise unavailable(f"cannot reach the Worker at {self._url}: {reason}")
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, _MAX_DELAY_S)


class Closable:
    """Runs an engine's network waits so that ``close()`` interrupts them at once: the wait
    then ends with ``EngineStop("closed")`` (which the host loop reads as the timeout when the
    deadline closed it)."""

    def __init__(self) -> None:
        self.closed = False
        self.interrupted = False
        """A wait on the Worker was cut short (closed or cancelled) while the program ran."""
        self._task: asyncio.Future[Any] | None = None

    async def guard(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.closed:
            coro.close()
            raise EngineStop("closed")
        task: asyncio.Future[T] = asyncio.ensure_future(coro)
        self._task = task
        try:
            return await task
        except asyncio.CancelledError:
            self.interrupted = True
            current = asyncio.current_task()
            if self._was_closed() and (current is None or not current.cancelling()):
                raise EngineStop("closed") from None
            raise
        finally:
            self._task = None

    @property
    def waiting(self) -> bool:
        """Whether a wait on the Worker is in progress (its program may be running)."""
        return self._task is not None and not self._task.done()

    def _was_closed(self) -> bool:
        # A method, so that the check above reads the flag as close() left it while we waited.
        return self.closed

    def close(self) -> None:
        self.closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()


class RemoteEngine:
    """What both Worker engines (connected and replay) share: the Worker's traits, and
    network waits that ``close()`` interrupts (``self._guard``)."""

    def __init__(self) -> None:
        self._guard = Closable()

    @property
    def traits(self) -> EngineTraits:
        return TRAITS

    @property
    def stopped_mid_turn(self) -> bool:
        """Whether the engine waits on the Worker now (not on the host's tools), or such a
        wait was cut short: the program may have been computing when it was stopped (and may
        have frozen a local workerd, which enforces no CPU limit)."""
        return self._guard.waiting or self._guard.interrupted
