"""One real workerd for the whole test session, serving the Worker on a free loopback port.

Local workerd enforces no CPU limit: a program in ``while (true) {}`` (or endless microtasks)
freezes the whole process. The driver's own deadline still returns ``TimeoutError``; then a
watchdog here notices that workerd stopped answering its health check, SIGKILLs it by its own
PID and starts it again on the same port, so the next test (or the next program in the same
test, which the driver retries for a few seconds) finds a live Worker. The tests' drivers
(``Watched.driver``) tell the watchdog whenever an execution is stopped while the Worker runs
it (its deadline, a dispose or a cancellation), and the watchdog checks at once: a frozen workerd is
replaced within a second of the timeout that revealed it, and never while a program that is
merely busy is still within its time limit.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from codemode.isolate import IsolateConfig
from codemode.sandbox import Engine
from codemode_cloudflare import (
    CloudflareIsolateDriver,
    WorkerdProcess,
    find_workerd,
    install_workerd,
)
from codemode_cloudflare._workerd import _package_dir

SECRET = "test-secret-0123456789"
AUTHORIZATION = f"Bearer {SECRET}"
_CHECK_EVERY_S = 0.25
_ANSWER_WITHIN_S = 1.0
_MISSES = 3
"""The backstop: restart after this many slow checks in a row, even unprompted."""
_SUSPECT_ANSWER_WITHIN_S = 0.5


def _binary() -> Path:
    found = find_workerd()
    if found is not None:
        return found
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the Cloudflare tests need npm to install workerd")
    # As CI does: `npm ci` of the plugin's pinned package.json, in the plugin's folder.
    return install_workerd(_package_dir())


class Watched:
    """A workerd process and the watchdog that restarts it when it freezes or dies."""

    def __init__(self, process: WorkerdProcess) -> None:
        self.process = process
        self.restarts = 0
        self._lock = threading.Lock()
        self._paused = 0
        self._stop = threading.Event()
        self._suspect = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="workerd-watchdog", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return self.process.url

    def suspect(self) -> None:
        """An execution just ended or was stopped: check the Worker now."""
        self._suspect.set()

    def driver(self, **options: Any) -> CloudflareIsolateDriver:
        """A driver for this Worker that reports every closed execution to the watchdog."""
        return _WatchedDriver(self, authorization=AUTHORIZATION, **options)

    def _watch(self) -> None:
        misses = 0
        with httpx.Client(timeout=_ANSWER_WITHIN_S) as client:
            while not self._stop.is_set():
                suspected = self._suspect.wait(_CHECK_EVERY_S)
                self._suspect.clear()
                if suspected and not self._paused and not self._answers(client):
                    with self._lock:
                        if not self._paused:
                            self._restart()
                    misses = 0
                    continue
                with self._lock:
                    if self._paused:
                        misses = 0
                        continue
                    if self.process.exited():
                        self._restart()
                        misses = 0
                        continue
                try:
                    client.get(self.process.url + "/health")
                    misses = 0
                except httpx.HTTPError:
                    misses += 1
                if misses >= _MISSES:
                    with self._lock:
                        if not self._paused:
                            self._restart()
                    misses = 0

    def _answers(self, client: httpx.Client) -> bool:
        try:
            client.get(self.process.url + "/health", timeout=_SUSPECT_ANSWER_WITHIN_S)
        except httpx.HTTPError:
            return False
        return True

    def _restart(self) -> None:
        self.restarts += 1
        for _ in range(20):
            try:
                self.process.restart()
                return
            except Exception:  # the port may take a moment to be free again
                time.sleep(0.1)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No restarts while a test kills or stops workerd on purpose; a live one after."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1
                if self.process.exited():
                    self._restart()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.process.close()


class _WatchedDriver(CloudflareIsolateDriver):
    def __init__(self, watched: Watched, **options: Any) -> None:
        super().__init__(watched.url, **options)
        self._watched = watched

    async def make_engine(self, config: IsolateConfig) -> Engine:
        engine = await super().make_engine(config)
        close = engine.close
        watched = self._watched

        async def close_and_report() -> None:
            # Only a close while the Worker runs the program (deadline, dispose, cancel) can
            # leave workerd frozen; a close after the last turn cannot.
            await close()
            if getattr(engine, "stopped_mid_turn", False):
                watched.suspect()

        engine.close = close_and_report  # type: ignore[method-assign]
        return engine


@pytest.fixture(scope="session")
def workerd() -> Iterator[Watched]:
    binary = _binary()
    folder = Path(tempfile.mkdtemp(prefix="codemode-workerd-"))
    process = WorkerdProcess(folder, secret=SECRET, binary=binary)
    process.start()
    watched = Watched(process)
    try:
        yield watched
    finally:
        watched.close()
        shutil.rmtree(folder, ignore_errors=True)


# Conformance tests that do not apply to a Worker, each with the reason (docs/cloudflare.md).
_NO_MEMORY_LIMIT = (
    "local workerd enforces no memory limit: runaway allocation aborts the whole process at"
    " V8's heap limit (WorkerUnavailableError); on Cloudflare the isolate's 128 MB limit"
    " applies and is reported as MemoryLimitError"
)
_NO_CODE_FROM_STRINGS = (
    "Workers refuse code generation from strings: eval and Function() throw EvalError"
    " (test_code_from_strings_is_refused checks it) instead of answering 'undefined'"
)
EXCLUDED: dict[str, str] = {
    "test_memory_limit_and_driver_recovers": _NO_MEMORY_LIMIT,
    "test_out_of_memory_in_promise_jobs": _NO_MEMORY_LIMIT,
    "test_prepare_stack_trace_reaches_no_machinery": (
        "programs run as ES modules (strict mode) in a Worker: assigning the prelude's locked"
        " Error.prepareStackTrace throws a TypeError instead of being ignored"
    ),
    "test_no_host_capabilities[Function('return typeof process')()]": _NO_CODE_FROM_STRINGS,
    "test_no_host_capabilities[({}).constructor.constructor('return typeof require')()]": (
        _NO_CODE_FROM_STRINGS
    ),
    "test_no_host_capabilities[(async () => {}).constructor('return typeof fetch')() && 'undefined']": (
        _NO_CODE_FROM_STRINGS
    ),
    "test_no_host_capabilities[eval('typeof process')]": _NO_CODE_FROM_STRINGS,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "Conformance" not in item.nodeid:
            continue
        name = item.name
        reason = EXCLUDED.get(name) or EXCLUDED.get(getattr(item, "originalname", name))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
