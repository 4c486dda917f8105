"""Watching the process around a hostile run: threads left busy, and resident memory.

Both use ``psutil``; without it the checks skip the test (after its other assertions ran).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

# Threads already found busy by an earlier check of this process: a thread that never stops
# would otherwise fail every later check; the case that left it busy is the one that reports it.
_BUSY_BEFORE: set[int] = set()


def require_psutil() -> Any:
    """The psutil module, or a skip of the test."""
    return pytest.importorskip(
        "psutil", reason="psutil is not installed: thread and memory checks are skipped"
    )


def _thread_name(tid: int) -> str:
    for thread in threading.enumerate():
        if thread.native_id == tid:
            return thread.name
    with (
        contextlib.suppress(OSError),
        open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as comm,
    ):
        return comm.read().strip()
    return "?"


async def assert_no_busy_thread(
    delay: float = 0.5, window: float = 0.5, share: float = 0.3
) -> None:
    """No thread of this process uses more than ``share`` of a CPU over ``window`` seconds,
    starting ``delay`` seconds from now (skipped when psutil is not installed)."""
    psutil = require_psutil()
    process = psutil.Process()
    await asyncio.sleep(delay)
    before = {t.id: t.user_time + t.system_time for t in process.threads()}
    await asyncio.sleep(window)
    after = {t.id: t.user_time + t.system_time for t in process.threads()}
    busy = {
        tid: used
        for tid, total in after.items()
        if (used := total - before.get(tid, total)) > share * window
    }
    new = {tid: used for tid, used in busy.items() if tid not in _BUSY_BEFORE}
    _BUSY_BEFORE.update(busy)
    assert not new, "threads still busy after the program was stopped: " + ", ".join(
        f"{tid} ({_thread_name(tid)}) used {used:.2f} s of {window} s" for tid, used in new.items()
    )


def busy_threads_seen() -> bool:
    """Whether a check of this process has found a thread busy after its program stopped."""
    return bool(_BUSY_BEFORE)


class RssWatch:
    """Samples this process's resident memory every 10 ms on a thread it owns, while open."""

    def __init__(self, enabled: bool = True) -> None:
        self._process: Any = None
        if enabled:
            with contextlib.suppress(ImportError):
                import psutil  # type: ignore[import-untyped]  # no stubs; optional

                self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = self._peak = 0

    @property
    def growth(self) -> int | None:
        return None if self._process is None else self._peak - self._start

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def __enter__(self) -> RssWatch:
        if self._process is not None:
            self._start = self._peak = self._process.memory_info().rss
            self._thread = threading.Thread(target=self._sample, name="codemode-rss-watch")
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self._process.memory_info().rss)
