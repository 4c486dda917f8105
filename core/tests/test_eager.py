"""Eager start of tool coroutines: same results, errors, cancellation and context as a Task."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from codemode.sandbox._eager import Done, start_eagerly

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="outer")


async def immediate(x: int) -> int:
    return x * 2


async def waits(x: int) -> int:
    await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    return x + 1


async def raises_after_wait() -> None:
    await asyncio.sleep(0.01)
    raise ValueError("late")


async def sets_marker() -> str:
    marker.set("inner")
    await asyncio.sleep(0)
    return marker.get()


async def test_finished_coroutine_needs_no_task() -> None:
    started = start_eagerly(asyncio.get_running_loop(), immediate(21))
    assert isinstance(started, Done)
    assert started.value == 42


async def test_suspending_coroutine_continues_in_a_task() -> None:
    started = start_eagerly(asyncio.get_running_loop(), waits(1))
    assert isinstance(started, asyncio.Task)
    assert await started == 2


async def test_errors_after_a_wait_propagate() -> None:
    started = start_eagerly(asyncio.get_running_loop(), raises_after_wait())
    assert isinstance(started, asyncio.Task)
    with pytest.raises(ValueError, match="late"):
        await started


async def test_cancellation_reaches_the_coroutine() -> None:
    cleaned_up = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    started = start_eagerly(asyncio.get_running_loop(), hangs())
    assert isinstance(started, asyncio.Task)
    await asyncio.sleep(0)
    started.cancel()
    with pytest.raises(asyncio.CancelledError):
        await started
    assert cleaned_up.is_set()


async def test_context_changes_do_not_leak_to_the_caller() -> None:
    started = start_eagerly(asyncio.get_running_loop(), sets_marker())
    assert isinstance(started, asyncio.Task)
    assert await started == "inner"
    assert marker.get() == "outer"


async def test_gather_of_many() -> None:
    loop = asyncio.get_running_loop()
    started = [start_eagerly(loop, waits(n)) for n in range(50)]
    results = await asyncio.gather(*(s for s in started if isinstance(s, asyncio.Task)))
    assert results == [n + 1 for n in range(50)]
