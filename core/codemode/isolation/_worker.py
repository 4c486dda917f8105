"""A worker process: ``python -m codemode.isolation._worker``, started by the pool.

It reads ``init`` from stdin, loads the driver by name through the plugin manager, runs one
program to warm the engine up, and says ``ready``; then runs one program at a time on a fresh
context of that driver. Each ``external_*`` call of the program becomes a ``tool_call`` line
to the host, which runs the tool and answers with a ``tool_result``; console lines go to the
host as they are written. Nothing of the host (tools, secrets, objects) is ever here.

The wire is the original stdout; file descriptor 1 is pointed at stderr, so that a stray
``print`` in a driver cannot corrupt the wire. When stdin closes (the host is gone, or closed
the pool) the worker exits at once; on Linux it also asks the kernel to kill it with its
parent.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import threading
from typing import Any, BinaryIO, Final

from codemode.errors import ToolError
from codemode.isolate import ConsoleEntry, IsolateConfig, IsolateDriver
from codemode.isolation import _wire as wire

FAULT_MARKER_ENV: Final = "CODEMODE_ISOLATION_FAULT_MARKER"
"""Test-only fault hook: a program containing this variable's text aborts its worker."""
_PR_SET_PDEATHSIG: Final = 1


class RemoteToolError(ToolError):
    """A tool call failed on the host; ``name`` and message are the host's."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class _ProxyBinding:
    """A host tool as the worker's driver sees it: calling it asks the host over the wire."""

    def __init__(self, worker: _Worker, run: int, spec: wire.BindingSpec) -> None:
        self._worker = worker
        self._run = run
        self._spec = spec

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def description(self) -> str:
        return self._spec.description

    @property
    def input_schema(self) -> dict[str, Any]:
        return self._spec.input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self._spec.output_schema

    async def execute(self, args: dict[str, Any], context: Any = None, /) -> Any:
        return await self._worker.call_tool(self._run, self._spec.key, args)


class _Worker:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._write_lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._inbox: asyncio.Queue[wire.ToWorker] = asyncio.Queue()
        self._pending: dict[tuple[int, int], asyncio.Future[Any]] = {}
        self._calls = 0
        self._fault = os.environ.get(FAULT_MARKER_ENV) or None

    def send(self, message: wire.FromWorker) -> None:
        data = wire.encode(message)
        with self._write_lock:
            self._out.write(data)
            self._out.flush()

    def read_stdin(self) -> None:
        """On a thread of its own: every line from the host into the inbox; EOF ends us."""
        stdin = sys.stdin.buffer
        for line in stdin:
            try:
                message = wire.decode_from_host(line)
            except wire.WireError as exc:
                print(f"codemode worker: bad message from the host: {exc}", file=sys.stderr)
                os._exit(3)
            self._loop.call_soon_threadsafe(self._deliver, message)
        os._exit(0)

    def _deliver(self, message: wire.ToWorker) -> None:
        if isinstance(message, wire.ToolResult):
            future = self._pending.pop((message.run, message.call), None)
            if future is not None and not future.done():
                future.set_result(message)
            return
        self._inbox.put_nowait(message)

    async def call_tool(self, run: int, key: str, args: Any) -> Any:
        self._calls += 1
        call = self._calls
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[(run, call)] = future
        try:
            self.send(wire.ToolCall(run, call, key, wire.payload(args)))
            answer: wire.ToolResult = await future
        finally:
            self._pending.pop((run, call), None)
        value = wire.decode_value(answer.value)
        if answer.ok:
            return value
        if isinstance(value, dict):
            raise RemoteToolError(str(value.get("name", "Error")), str(value.get("message", "")))
        raise RemoteToolError("Error", str(value))

    async def serve(self) -> None:
        init = await self._inbox.get()
        if not isinstance(init, wire.Init):
            print("codemode worker: the first message was not init", file=sys.stderr)
            os._exit(3)
        try:
            driver = _load(init.driver, init.options)
            await self._run_on(driver, "return 1", IsolateConfig())  # warm the engine up
        except Exception as exc:
            self.send(wire.Failed(type(exc).__name__, str(exc)))
            return
        self.send(wire.Ready(os.getpid()))
        while True:
            message = await self._inbox.get()
            if isinstance(message, wire.Run):
                await self._run(driver, message)

    async def _run(self, driver: IsolateDriver, run: wire.Run) -> None:
        if self._fault is not None and self._fault in run.code:
            self._fault_hook(run.code)

        def on_console(entry: ConsoleEntry) -> None:
            self.send(wire.Console(run.run, entry))

        config = IsolateConfig(
            bindings={spec.key: _ProxyBinding(self, run.run, spec) for spec in run.bindings},
            timeout=run.timeout,
            memory_limit=run.memory_limit,
            max_tool_calls=run.max_tool_calls,
            max_log_bytes=run.max_log_bytes,
            max_result_bytes=run.max_result_bytes,
            on_console=on_console,
        )
        result = await self._run_on(driver, run.code, config)
        try:
            self.send(wire.Result(run.run, result))
        except TypeError as exc:  # the driver returned a value that is not JSON
            from codemode.sandbox import driver_error

            result.success, result.value, result.error = False, None, driver_error(exc)
            self.send(wire.Result(run.run, result))

    def _fault_hook(self, code: str) -> None:
        """Test-only: make this worker fail the way an engine or a broken worker would."""
        if f"{self._fault}:garbage" in code:
            with self._write_lock:
                self._out.write(b"this is not the wire protocol\n")
            return
        print("codemode worker: fault hook: aborting", file=sys.stderr, flush=True)
        os.abort()

    async def _run_on(self, driver: IsolateDriver, code: str, config: IsolateConfig) -> Any:
        context = await driver.create_context(config)
        try:
            return await context.execute(code)
        finally:
            await context.dispose()


def _load(name: str, options: dict[str, Any]) -> IsolateDriver:
    from codemode import plugins

    driver = plugins.load_driver(name, **options)
    if getattr(driver, "in_process", True) is False:
        from codemode.errors import ConfigError

        raise ConfigError(
            f"the driver {name!r} does not run its programs in this process, so process"
            " isolation has nothing to isolate; use isolation='none' with it"
        )
    return driver


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return


async def _main(out: BinaryIO) -> None:
    worker = _Worker(out)
    threading.Thread(target=worker.read_stdin, name="codemode-worker-stdin", daemon=True).start()
    await worker.serve()


def main() -> None:
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the host died before the kernel could be told
        os._exit(0)
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    asyncio.run(_main(out))


if __name__ == "__main__":
    main()
