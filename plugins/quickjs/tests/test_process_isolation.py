"""The QuickJS driver passes the conformance suite in process isolation too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codemode.isolate import IsolateDriver
from codemode.isolation import ProcessIsolatedDriver, WorkerPool
from codemode.testing import DriverConformance


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    # One warm pool for the module: each test gets a driver of its own on it.
    workers = WorkerPool("quickjs", size=4)
    assert workers.wait_warm(120), "the workers did not start"
    yield workers
    workers.close()
    assert workers.pids() == []


class TestQuickJSProcessConformance(DriverConformance):
    @pytest.fixture
    def driver(self, pool: WorkerPool) -> IsolateDriver:
        return ProcessIsolatedDriver("quickjs", pool=pool)
