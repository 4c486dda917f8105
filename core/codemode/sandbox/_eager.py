"""Start a coroutine eagerly: its first step runs now, a Task only if it suspends.

Python 3.12 has ``asyncio.eager_task_factory``; this is the same idea for 3.11, for tool
calls. Many tools finish without ever waiting (a cache hit, a computation, a validation
error); for those there is no Task, no extra event-loop iteration and no wake-up, which is
most of the host's cost per call. As with 3.12's eager tasks, the first step runs in a copy of
the current context, and ``asyncio.current_task()`` during it is the caller's task.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Done:
    """The result of a coroutine that finished during its first step."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def start_eagerly(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]
) -> Done | asyncio.Task[T]:
    """Run ``coro`` until it first suspends; ``Done(value)`` if it never did."""
    context = contextvars.copy_context()
    try:
        yielded = context.run(coro.send, None)
    except StopIteration as stop:
        return Done(stop.value)
    return loop.create_task(_finish(coro, yielded), context=context)


async def _finish(coro: Coroutine[Any, Any, T], yielded: Any) -> T:
    """Drive a coroutine that has already yielded ``yielded``, as a Task's steps would."""
    while True:
        error: BaseException | None = None
        try:
            if yielded is None:
                await asyncio.sleep(0)
            elif asyncio.isfuture(yielded):
                # A Task clears this flag when it takes a yielded future; nobody did yet.
                yielded._asyncio_future_blocking = False
                await yielded
            else:
                error = RuntimeError(f"Task got bad yield: {yielded!r}")
        except asyncio.CancelledError as exc:
            error = exc
        except BaseException:  # the coroutine reads the same error from its future
            pass
        try:
            yielded = coro.send(None) if error is None else coro.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
