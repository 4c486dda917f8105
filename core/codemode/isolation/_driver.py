"""``ProcessIsolatedDriver``: any in-process driver, run in a pool of worker processes.

The driver is an ``IsolateDriver`` like any other, so code mode, skills and the chat loop use
it unchanged. A context takes a warm worker for its one program, sends it the program and the
descriptions of its tools (never the tools), runs on the host every tool the program calls,
streams console lines to ``IsolateConfig.on_console``, and gives the worker back.

The host enforces what an engine in the worker may fail to: the wall-clock deadline (a worker
still busy ``HOST_GRACE_S`` past it is killed: ``TimeoutError``) and a cap on the worker's
resident memory, polled while it runs (``MemoryLimitError``). A worker that dies, whatever
killed it, ends the run with ``WorkerCrashedError`` and the tail of its stderr (or
``MemoryLimitError`` when the engine said it ran out of memory), and is replaced. A worker
whose run ended in a timeout, a memory limit or a driver error is recycled: an engine that
was stopped mid-program, or never stopped, runs nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import weakref
from types import TracebackType
from typing import Any, Final, Self

from codemode.errors import ContextError, ErrorName
from codemode.isolate import ExecutionResult, IsolateConfig, NormalizedError
from codemode.isolation import _wire as wire
from codemode.isolation._memory import MB
from codemode.isolation._pool import WorkerPool, WorkerProcess
from codemode.sandbox import limit_error
from codemode.sandbox._engine import _tool_error

HOST_GRACE_S: Final = 0.5
"""How long past its deadline a worker may take to answer before the host kills it."""
POLL_S: Final = 0.02
"""How often the host reads a running worker's memory."""
MIN_HEADROOM_MB: Final = 256
"""A worker may grow by at least this much over its idle size during one run."""
_RECYCLE: Final = frozenset({ErrorName.TIMEOUT, ErrorName.MEMORY_LIMIT, ErrorName.DRIVER})
_OUT_OF_MEMORY: Final = (
    "out of memory",
    "Fatal JavaScript invalid size error",
    "Fatal process out of memory",
    "heap out of memory",
    "MemoryError",
)
_LARGE_WRITE: Final = 16 * 1024
_runs = itertools.count(1)


class ProcessIsolatedDriver:
    """The driver ``driver`` (a registered name) made with ``options`` in each of ``workers``
    worker processes.

    ``memory_cap`` (MB) caps a worker's resident memory during a run; None allows its idle
    size plus four times the run's ``memory_limit`` (at least 256 MB). ``pool`` shares an
    existing pool (which the driver then does not close).
    """

    def __init__(
        self,
        driver: str,
        options: dict[str, Any] | None = None,
        *,
        workers: int = 4,
        memory_cap: int | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        if memory_cap is not None and (
            isinstance(memory_cap, bool) or not isinstance(memory_cap, int) or memory_cap < 1
        ):
            from codemode.errors import ConfigError

            raise ConfigError(f"memory_cap must be an integer > 0 (MB) or None, got {memory_cap!r}")
        self.name = driver
        self.options = dict(options or {})
        self._owns_pool = pool is None
        self.pool = pool if pool is not None else WorkerPool(driver, self.options, size=workers)
        self.memory_cap = memory_cap
        self._contexts: weakref.WeakSet[ProcessContext] = weakref.WeakSet()
        self._closed = False

    @property
    def timeout(self) -> int | None:
        """The wrapped driver's own ``timeout`` option, a default for code mode."""
        value = self.options.get("timeout")
        return value if isinstance(value, int) else None

    @property
    def memory_limit(self) -> int | None:
        value = self.options.get("memory_limit")
        return value if isinstance(value, int) else None

    @property
    def workers(self) -> int:
        return self.pool.size

    def start(self) -> None:
        """Start the workers now, so that the first run finds them warm."""
        self.pool.start()

    async def create_context(self, config: IsolateConfig) -> ProcessContext:
        if self._closed:
            raise ContextError("this driver was closed (aclose); create a new driver")
        context = ProcessContext(self, config)
        self._contexts.add(context)
        return context

    async def aclose(self) -> None:
        """Refuse new contexts, stop the programs still running, and end the workers."""
        self._closed = True
        for context in list(self._contexts):
            await context.dispose()
        if self._owns_pool:
            await self.pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ProcessIsolatedDriver({self.name!r}, workers={self.pool.size})"


class ProcessContext:
    """One program on one worker of a ``ProcessIsolatedDriver``."""

    def __init__(self, driver: ProcessIsolatedDriver, config: IsolateConfig) -> None:
        self._driver = driver
        self._config = config
        self._used = False
        self._disposed = False
        self._worker: WorkerProcess | None = None
        self._pid: int | None = None

    async def execute(self, code: str) -> ExecutionResult:
        if self._disposed:
            raise ContextError("this context was disposed; create a new one for each program")
        if self._used:
            raise ContextError(
                "this context has already run a program; create a new context for each"
                " program (nothing may carry over from one program to the next)"
            )
        self._used = True
        pool = self._driver.pool
        worker = await pool.acquire()
        if self.disposed:
            pool.release(worker)
            raise ContextError("the context was disposed while its program waited for a worker")
        self._worker = worker
        self._pid = worker.pid
        token = pool.holding()
        recycle = True
        try:
            result = await _Run(self._driver, self._config, worker).run(code)
            recycle = result.error is not None and result.error.name in _RECYCLE
        finally:
            pool.unhold(token)
            self._worker = None
            pool.release(worker, recycle=recycle)
        if self.disposed:
            raise ContextError("the context was disposed while its program ran")
        return result

    @property
    def disposed(self) -> bool:
        return self._disposed

    @property
    def pid(self) -> int | None:
        """The process id of the worker that runs (or ran) this context's program."""
        return self._pid

    async def dispose(self) -> None:
        """Stop a program still running (its worker is killed and replaced). Idempotent."""
        self._disposed = True
        worker = self._worker
        if worker is not None:
            worker.kill()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()


class _Run:
    """The host side of one run on one worker."""

    def __init__(
        self, driver: ProcessIsolatedDriver, config: IsolateConfig, worker: WorkerProcess
    ) -> None:
        self._config = config
        self._worker = worker
        self._id = next(_runs)
        self._logs: list[str] = []
        self._tools: set[asyncio.Task[None]] = set()
        headroom = max(MIN_HEADROOM_MB, 4 * config.memory_limit) * MB
        cap = driver.memory_cap
        self._cap = cap * MB if cap is not None else worker.baseline_rss + headroom

    async def run(self, code: str) -> ExecutionResult:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[wire.FromWorker | BaseException | None] = asyncio.Queue()

        def sink(item: wire.FromWorker | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(inbox.put_nowait, item)

        worker = self._worker
        worker.attach(sink)
        config = self._config
        deadline = loop.time() + config.timeout / 1000 + HOST_GRACE_S
        try:
            await self._send(self._run_message(code))
            next_poll = loop.time() + POLL_S
            while True:
                now = loop.time()
                if now >= next_poll:
                    next_poll = now + POLL_S
                    rss = worker.rss()
                    if rss is not None and rss > self._cap:
                        worker.kill()
                        return self._failed(_memory_error(config, rss))
                if now >= deadline:
                    worker.kill()
                    return self._failed(_timeout_error(config))
                try:
                    item = await asyncio.wait_for(
                        inbox.get(), min(deadline, next_poll) - now + 0.001
                    )
                except TimeoutError:
                    continue
                result = self._handle(item)
                if result is not None:
                    return result
        except asyncio.CancelledError:
            worker.kill()
            raise
        finally:
            worker.detach()
            for task in self._tools:
                task.cancel()

    def _run_message(self, code: str) -> wire.Run:
        config = self._config
        return wire.Run(
            run=self._id,
            code=code,
            timeout=config.timeout,
            memory_limit=config.memory_limit,
            max_tool_calls=config.max_tool_calls,
            max_log_bytes=config.max_log_bytes,
            max_result_bytes=config.max_result_bytes,
            bindings=tuple(
                wire.BindingSpec(
                    key, b.name, b.description, dict(b.input_schema), _schema(b.output_schema)
                )
                for key, b in config.bindings.items()
            ),
        )

    async def _send(self, message: wire.ToWorker) -> None:
        worker = self._worker
        size = len(message.value) if isinstance(message, wire.ToolResult) else 0
        if isinstance(message, wire.Run):
            size = len(message.code)
        if size > _LARGE_WRITE:
            await asyncio.to_thread(worker.send, message)  # more than a pipe's buffer
        else:
            worker.send(message)

    def _handle(self, item: wire.FromWorker | BaseException | None) -> ExecutionResult | None:
        if item is None:
            return self._failed(self._crash_error())
        if isinstance(item, BaseException):
            return self._failed(_protocol_error(str(item)))
        if isinstance(item, wire.Result | wire.ToolCall | wire.Console) and item.run != self._id:
            self._worker.kill()
            return self._failed(_protocol_error(f"a message of run {item.run} in run {self._id}"))
        match item:
            case wire.Console(_, entry):
                self._logs.append(entry.format())
                if self._config.on_console is not None:
                    self._config.on_console(entry)
                return None
            case wire.ToolCall():
                task = asyncio.ensure_future(self._call(item))
                self._tools.add(task)
                task.add_done_callback(self._tools.discard)
                return None
            case wire.Result(_, result):
                return result
        self._worker.kill()
        return self._failed(_protocol_error(f"unexpected {type(item).__name__} during a run"))

    async def _call(self, call: wire.ToolCall) -> None:
        binding = self._config.bindings.get(call.binding)
        ok, value = False, {"name": "Error", "message": f"{call.binding} is not a bound function"}
        if binding is not None:
            try:
                args = wire.decode_value(call.args)
                ok, value = True, await binding.execute(args)
            except wire.WireError as exc:
                value = {"name": ErrorName.DRIVER, "message": f"unreadable arguments: {exc}"}
            except Exception as exc:
                ok, value = False, _tool_error(binding, exc)
        try:
            text = wire.payload(value)
        except TypeError as exc:
            name = binding.name if binding is not None else call.binding
            ok, text = (
                False,
                wire.payload(
                    {
                        "name": ErrorName.SERIALIZATION,
                        "message": f"the result of {name} cannot be sent into the sandbox as JSON:"
                        f" {exc}",
                    }
                ),
            )
        await self._send(wire.ToolResult(self._id, call.call, ok, text))

    def _crash_error(self) -> NormalizedError:
        worker = self._worker
        tail = worker.stderr_tail()
        what = f"the worker process running the program {worker.exit_description()}"
        if any(marker in tail for marker in _OUT_OF_MEMORY):
            return limit_error(
                ErrorName.MEMORY_LIMIT,
                f"the program used more than its memory limit of {self._config.memory_limit} MB"
                f" ({what}: the engine ran out of memory; it is replaced); process data in"
                f" smaller pieces or return less. Its stderr ended with:\n{tail}",
            )
        return limit_error(
            ErrorName.WORKER_CRASHED,
            f"{what}; it is replaced, and the next run gets a fresh one. Its stderr ended"
            f" with:\n{tail or '(nothing)'}",
        )

    def _failed(self, error: NormalizedError) -> ExecutionResult:
        return ExecutionResult(success=False, error=error, logs=self._logs)


def _schema(schema: Any) -> dict[str, Any] | None:
    return dict(schema) if schema is not None else None


def _timeout_error(config: IsolateConfig) -> NormalizedError:
    return limit_error(
        ErrorName.TIMEOUT,
        f"the program did not finish within its time limit of {config.timeout} ms (its worker"
        " process was killed); do less work per execution or run tool calls concurrently with"
        " Promise.all",
    )


def _memory_error(config: IsolateConfig, rss: int) -> NormalizedError:
    return limit_error(
        ErrorName.MEMORY_LIMIT,
        f"the program used more than its memory limit of {config.memory_limit} MB (its worker"
        f" process grew to {rss // MB} MB and was killed); process data in smaller pieces or"
        " return less",
    )


def _protocol_error(detail: str) -> NormalizedError:
    return limit_error(
        ErrorName.DRIVER,
        f"the worker process broke the wire protocol ({detail}); it was killed and is replaced",
    )
