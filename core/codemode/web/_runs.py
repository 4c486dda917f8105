"""Runs in progress, by run id, so that a Stop request can end one.

Each run's events are produced by a task of its own and handed to the response through a
queue: cancelling that task (Stop, or the browser going away) cancels the tool calls, whose
sandboxes are disposed before the task ends. A stopped run ends its stream with RUN_ERROR
``{code: "Stopped"}``, so the page sees the end from the server, not only its own abort.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio  # Starlette's own dependency
from ag_ui.core import BaseEvent, RunErrorEvent

STOPPED = "Stopped"
STOP_GRACE_S = 10.0


class RunRegistry:
    """The runs this app is serving right now."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopped: set[str] = set()

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    async def stream(
        self, run_id: str, events: AsyncIterator[BaseEvent]
    ) -> AsyncIterator[BaseEvent]:
        """``events``, produced by a task registered under ``run_id``."""
        queue: asyncio.Queue[BaseEvent | None] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for event in events:
                    queue.put_nowait(event)
            finally:
                with contextlib.suppress(Exception):
                    close = getattr(events, "aclose", None)
                    if close is not None:
                        await close()
                queue.put_nowait(None)

        task = asyncio.ensure_future(produce())
        self._tasks[run_id] = task
        try:
            while (event := await queue.get()) is not None:
                yield event
            if task.cancelled() and run_id in self._stopped:
                yield RunErrorEvent(
                    message="stopped: the program was cancelled and its sandbox disposed",
                    code=STOPPED,
                )
            elif not task.cancelled() and task.exception() is not None:
                error = task.exception()
                yield RunErrorEvent(message=f"{type(error).__name__}: {error}", code="ServerError")
        finally:
            self._tasks.pop(run_id, None)
            self._stopped.discard(run_id)
            if not task.done():
                task.cancel()
            # When the browser went away, Starlette cancels this response through an anyio
            # cancel scope, which would cancel this wait too: shielded, the run's sandboxes
            # are disposed before the response ends (bounded, should an engine not stop).
            with anyio.move_on_after(STOP_GRACE_S, shield=True):
                await asyncio.gather(task, return_exceptions=True)

    def stop(self, run_id: str) -> bool:
        """Cancel the run; False when no such run is in progress."""
        task = self._tasks.get(run_id)
        if task is None or task.done():
            return False
        self._stopped.add(run_id)
        task.cancel()
        return True

    async def stop_all(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
