"""``WorkerPool``: warm worker processes for one driver, started with a fresh interpreter.

Workers are started as ``sys.executable -m codemode.isolation._worker`` (a spawn: nothing of
the host, engine threads included, is inherited), each with a thread that reads its wire and
one that keeps the tail of its stderr. The pool starts ``size`` workers on first use and keeps
them warm: a worker that dies or is killed is reaped by its reader thread and replaced. One
worker runs one program at a time. The pool is not bound to an event loop (waiters are woken
with ``call_soon_threadsafe``), so one pool serves every loop of a process.

Whoever makes a pool owns it: ``aclose()`` (or ``close()``) ends every worker and waits for
them, and a finalizer does the same at interpreter exit, so no worker outlives its host. A
worker also exits by itself when its stdin closes, and on Linux when its parent dies.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import queue
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

from codemode.errors import ConfigError, DriverUnavailableError, PluginNotFoundError
from codemode.isolation import _wire as wire
from codemode.isolation._memory import rss_bytes

_T = TypeVar("_T")
STDERR_TAIL_CHARS: Final = 4000
"""How much of a dead worker's stderr its error carries."""
_STOP_WAIT_S: Final = 2.0
_START_ATTEMPTS: Final = 3
"""Failed starts in a row after which a pool whose workers once started gives up."""

# Set while a run holds a worker of a pool: a program started from one of its tool calls (a
# skill calling a skill) may take an extra worker instead of waiting for its own parent's.
_holding: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "codemode_isolation_holding", default=frozenset()
)

_FAILURES: dict[str, type[Exception]] = {
    "ConfigError": ConfigError,
    "PluginNotFoundError": PluginNotFoundError,
    "DriverUnavailableError": DriverUnavailableError,
}


class _Spawner:
    """The one thread that starts every worker process.

    On Linux a worker asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``),
    and "parent" there is the *thread* that started it: a worker started from a reader thread
    would die with that thread (when the worker it read from dies). So workers start from
    this thread, which lives as long as the process.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], threading.Event, list[Any]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], _T]) -> _T:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="codemode-worker-spawner", daemon=True
                )
                self._thread.start()
        if threading.current_thread() is self._thread:
            return job()
        done = threading.Event()
        box: list[Any] = []
        self._jobs.put((job, done, box))
        done.wait()
        outcome = box[0]
        if isinstance(outcome, _Raised):
            raise outcome.error
        result: _T = outcome
        return result

    def _serve(self) -> None:
        while True:
            job, done, box = self._jobs.get()
            try:
                box.append(job())
            except BaseException as exc:  # handed to the caller, raised there
                box.append(_Raised(exc))
            done.set()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


# Module-level: one spawner thread per process (see _Spawner).
_spawner = _Spawner()


class WorkerProcess:
    """One worker: its process, its wire, and what it said before it died."""

    def __init__(self, pool: WorkerPool, init: wire.Init, env: dict[str, str] | None) -> None:
        self._pool = pool
        self.process = _spawner.run(
            lambda: subprocess.Popen(
                [sys.executable, "-m", "codemode.isolation._worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
            )
        )
        self.pid = self.process.pid
        self.baseline_rss = 0
        self.ready = False
        self.exited = False
        self._stderr: collections.deque[str] = collections.deque(maxlen=64)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sink: Callable[[wire.FromWorker | BaseException | None], None] | None = None
        self._stderr_thread = threading.Thread(
            target=self._read_stderr, name=f"codemode-worker-{self.pid}-stderr", daemon=True
        )
        self._reader = threading.Thread(
            target=self._read, name=f"codemode-worker-{self.pid}", daemon=True
        )
        self._stderr_thread.start()
        self._reader.start()
        self.send(init)

    # The wire -------------------------------------------------------------------------------

    def send(self, message: wire.ToWorker) -> bool:
        """Write one message; False if the worker is gone."""
        stdin = self.process.stdin
        if stdin is None or self.exited:
            return False
        data = wire.encode(message)
        with self._write_lock:  # a large write may run on a thread beside the loop's
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return False
        return True

    def attach(self, sink: Callable[[wire.FromWorker | BaseException | None], None]) -> None:
        """Hand every message from now on (and then None for the worker's death, or the
        ``WireError`` of a garbled message) to ``sink``, on the reader thread."""
        with self._lock:
            self._sink = sink
            dead = self.exited
        if dead:
            sink(None)

    def detach(self) -> None:
        with self._lock:
            self._sink = None

    def _emit(self, item: wire.FromWorker | BaseException | None) -> None:
        with self._lock:
            sink = self._sink
        if sink is not None:
            sink(item)

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            for line in stdout:
                try:
                    message = wire.decode_from_worker(line)
                except wire.WireError as exc:
                    self._emit(exc)
                    self.kill()
                    break
                if not self.ready:
                    self._pool._started(self, message)
                else:
                    self._emit(message)
        finally:
            self.process.wait()  # reap it: no zombie
            self._stderr_thread.join(timeout=1.0)
            self.exited = True
            for pipe in (stdout, self.process.stderr, self.process.stdin):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            self._emit(None)
            self._pool._exited(self)

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        for line in stderr:
            self._stderr.append(line.decode("utf-8", "replace"))

    # Life and death ---------------------------------------------------------------------------

    def rss(self) -> int | None:
        return rss_bytes(self.pid)

    def stderr_tail(self) -> str:
        text = "".join(self._stderr).strip()
        return text[-STDERR_TAIL_CHARS:]

    def exit_description(self) -> str:
        code = self.process.returncode
        if code is None:
            return "is still running"
        if code < 0:
            import signal

            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with status {code}"

    def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(OSError):
                self.process.kill()

    def close_stdin(self) -> None:
        stdin = self.process.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()

    def join(self, timeout: float) -> None:
        self._reader.join(timeout)


def _stop_all(workers: set[WorkerProcess]) -> None:
    """End every worker and reap it (also what runs at interpreter exit)."""
    for worker in list(workers):
        worker.close_stdin()
    for worker in list(workers):
        try:
            worker.process.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            worker.kill()
    for worker in list(workers):
        worker.kill()
        worker.join(_STOP_WAIT_S)


class WorkerPool:
    """Up to ``size`` warm workers of the driver ``driver`` made with ``options``."""

    def __init__(
        self,
        driver: str,
        options: dict[str, Any] | None = None,
        *,
        size: int = 4,
        env: dict[str, str] | None = None,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {size!r}")
        options = dict(options or {})
        try:
            wire.payload(options)
        except TypeError as exc:
            raise ConfigError(
                f"the options of driver {driver!r} must be JSON values to reach its worker"
                f" processes: {exc}"
            ) from None
        self._init = wire.Init(driver, options)
        self.driver = driver
        self.size = size
        self._env = env
        self._lock = threading.Lock()
        self._workers: set[WorkerProcess] = set()
        self._idle: collections.deque[WorkerProcess] = collections.deque()
        self._extra: set[WorkerProcess] = set()
        self._waiters: collections.deque[
            tuple[asyncio.AbstractEventLoop, asyncio.Future[WorkerProcess], bool]
        ] = collections.deque()
        self._failure: Exception | None = None
        self._started_once = False
        self._ever_ready = False
        self._start_failures = 0
        self._closed = False
        # At interpreter exit, or when the pool is collected: no worker outlives the host.
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    @property
    def closed(self) -> bool:
        return self._closed

    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        with self._lock:
            return sorted(w.pid for w in self._workers if not w.exited)

    def start(self) -> None:
        """Start the workers now rather than on first use (it does not wait for them)."""
        with self._lock:
            self._fill()

    def wait_warm(self, timeout: float = 60.0) -> bool:
        """Start the workers if needed and block until ``size`` of them are ready (False if
        that took longer than ``timeout`` seconds). For tests and benchmarks."""
        import time

        self.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._failure is not None:
                    raise self._failure
                if len(self._idle) >= self.size:
                    return True
            time.sleep(0.02)
        return False

    def _fill(self) -> None:
        # Under the lock. Until one worker has started, only one starts: the first run waits
        # for one interpreter's start, not for `size` of them competing for the cores (and a
        # driver that cannot start fails once, not `size` times).
        self._started_once = True
        regular = len(self._workers) - len(self._extra)
        wanted = self.size if self._ever_ready else 1
        while not self._closed and self._failure is None and regular < wanted:
            self._spawn(extra=False)
            regular += 1

    def _spawn(self, *, extra: bool) -> WorkerProcess:
        worker = WorkerProcess(self, self._init, self._env)
        self._workers.add(worker)
        if extra:
            self._extra.add(worker)
        return worker

    # Called on reader threads -----------------------------------------------------------------

    def _started(self, worker: WorkerProcess, message: wire.FromWorker) -> None:
        if isinstance(message, wire.Failed):
            error = _FAILURES.get(message.name, DriverUnavailableError)(
                f"the driver {self.driver!r} cannot start in a worker process:"
                f" {message.name}: {message.message}"
            )
            with self._lock:
                self._failure = error
                waiters = list(self._waiters)
                self._waiters.clear()
            _fail_all(waiters, error)
            worker.kill()
            return
        if not isinstance(message, wire.Ready):
            worker.kill()
            return
        worker.baseline_rss = worker.rss() or 0
        worker.ready = True
        with self._lock:
            self._ever_ready = True
            self._start_failures = 0
            self._fill()  # the others, now that one started
        self._hand_over(worker)

    def _hand_over(self, worker: WorkerProcess) -> None:
        with self._lock:
            if self._closed:
                worker.close_stdin()
                return
            while self._waiters:
                loop, future, _extra = self._waiters.popleft()
                if future.done():
                    continue
                try:
                    loop.call_soon_threadsafe(_give, future, worker, self)
                except RuntimeError:  # that loop is closed: its waiter is gone
                    continue
                return
            if worker in self._extra:
                self._extra.discard(worker)
                if len(self._workers) - len(self._extra) > self.size:
                    worker.close_stdin()
                    return
            self._idle.append(worker)

    def _exited(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._workers.discard(worker)
            self._extra.discard(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            if self._closed:
                return
            if not worker.ready:
                self._start_failures += 1
            if (
                worker.ready
                or self._failure is not None
                or (self._ever_ready and self._start_failures < _START_ATTEMPTS)
            ):
                # A replacement that failed to start, in a pool whose workers did start, is
                # taken for bad luck (the OOM killer, a signal) a few times in a row.
                self._fill()
                return
            # Died before it was ready: the driver cannot start here; say why to the waiters.
            tail = worker.stderr_tail()
            error = DriverUnavailableError(
                f"a worker process for driver {self.driver!r} {worker.exit_description()}"
                f" before it was ready; its stderr ended with: {tail or '(nothing)'}"
            )
            self._failure = error
            waiters = list(self._waiters)
            self._waiters.clear()
        _fail_all(waiters, error)

    # Runs -------------------------------------------------------------------------------------

    async def acquire(self) -> WorkerProcess:
        """An idle worker for one run (waits for one; an extra worker for a nested run)."""
        loop = asyncio.get_running_loop()
        nested = id(self) in _holding.get()
        with self._lock:
            if self._closed:
                from codemode.errors import ContextError

                raise ContextError("this driver was closed (aclose); create a new driver")
            if self._failure is not None:
                raise self._failure
            if not self._started_once:
                self._fill()
            while self._idle:
                worker = self._idle.popleft()
                if not worker.exited:
                    return worker
            future: asyncio.Future[WorkerProcess] = loop.create_future()
            self._waiters.append((loop, future, nested))
            if nested:
                self._spawn(extra=True)
        try:
            return await future
        except asyncio.CancelledError:
            with self._lock:
                self._waiters = collections.deque(w for w in self._waiters if w[1] is not future)
            if future.done() and not future.cancelled():
                self.release(future.result())
            raise

    def holding(self) -> contextvars.Token[frozenset[int]]:
        """Mark the current context as holding a worker of this pool (for nested runs)."""
        return _holding.set(_holding.get() | {id(self)})

    def unhold(self, token: contextvars.Token[frozenset[int]]) -> None:
        _holding.reset(token)

    def release(self, worker: WorkerProcess, *, recycle: bool = False) -> None:
        """Give a worker back after a run; ``recycle`` ends it (a replacement starts)."""
        if recycle or worker.exited:
            worker.kill()
            return
        self._hand_over(worker)

    # Closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """End every worker and wait for them (blocking)."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters)
            self._waiters.clear()
            self._idle.clear()
        from codemode.errors import ContextError

        _fail_all(waiters, ContextError("the worker pool was closed"))
        self._finalizer()

    async def aclose(self) -> None:
        """``close`` off the event loop."""
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _give(future: asyncio.Future[WorkerProcess], worker: WorkerProcess, pool: WorkerPool) -> None:
    if future.done():
        pool.release(worker)
    else:
        future.set_result(worker)


def _fail(future: asyncio.Future[Any], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


def _fail_all(
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], bool]], error: Exception
) -> None:
    for loop, future, _ in waiters:
        try:
            loop.call_soon_threadsafe(_fail, future, error)
        except RuntimeError:  # that loop is closed
            continue
