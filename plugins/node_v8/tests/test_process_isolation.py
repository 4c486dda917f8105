"""The V8 driver passes the conformance suite in process isolation too (the sections a
worker can change; all of it with CODEMODE_ISOLATION_FULL_CONFORMANCE=1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codemode.isolate import IsolateDriver
from codemode.isolation import ProcessIsolatedDriver, WorkerPool
from codemode.testing._process import ProcessConformance


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    # One warm pool for the module: each test gets a driver of its own on it.
    workers = WorkerPool("node", size=4)
    assert workers.wait_warm(120), "the workers did not start"
    yield workers
    workers.close()
    assert workers.pids() == []


class TestNodeV8ProcessConformance(ProcessConformance):
    @pytest.fixture
    def driver(self, pool: WorkerPool) -> IsolateDriver:
        # Workers a test before killed are replaced in the background; each test starts with
        # all of them warm (the concurrency tests need four at once).
        assert pool.wait_warm(120), "the workers did not start again"
        return ProcessIsolatedDriver("node", pool=pool)
