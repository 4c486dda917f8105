"""``HostDrivenContext`` and ``HostDrivenDriver``: the contract's context and driver for any
engine that runs the prelude's turn protocol.

A context runs one program (a second ``execute`` is a ``ContextError``: the realm the first
one left behind, prototypes and all, must never run more code) and is then disposed. Nothing
that goes wrong inside the driver escapes ``execute`` as an exception: it becomes a
``DriverError`` result, and the engine is closed. Cancelling the task that awaits ``execute``
closes the engine at once (the program stops) and re-raises the cancellation; disposing the
context while its program runs does the same and makes ``execute`` raise ``ContextError``.
A driver bounds how many executions run at once and disposes every context it made on
``aclose()``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import weakref
from types import TracebackType
from typing import Self

from codemode._unicode import well_formed
from codemode.errors import ContextError, ErrorName
from codemode.isolate import ExecutionResult, IsolateConfig, NormalizedError
from codemode.sandbox._engine import Engine
from codemode.sandbox._errors import limit_error, wrap_program
from codemode.sandbox._execution import Execution
from codemode.sandbox._limit import DEFAULT_MAX_CONCURRENCY, ConcurrencyLimit


def driver_error(exc: BaseException) -> NormalizedError:
    """The ``DriverError`` a run ends with when the driver itself failed."""
    return limit_error(ErrorName.DRIVER, f"{type(exc).__name__}: {exc}")


class HostDrivenContext:
    """An ``IsolateContext`` for any engine that can run the prelude's turn protocol."""

    def __init__(
        self, config: IsolateConfig, engine: Engine, limit: ConcurrencyLimit | None = None
    ) -> None:
        self._config = config
        self._engine: Engine | None = engine
        self._limit = limit
        self._used = False
        self._disposed = False

    async def execute(self, code: str) -> ExecutionResult:
        if self._used:
            raise ContextError(
                "this context has already run a program; create a new context for each"
                " program (nothing may carry over from one program to the next)"
            )
        engine = self._engine
        if engine is None:
            raise ContextError("this context was disposed; create a new one for each program")
        self._used = True
        limit = self._limit
        if limit is None or limit.held():
            # Started from a tool call of an execution that holds a slot: it runs in that one.
            return await self._run(engine, code)
        await limit.acquire()
        try:
            with limit.holding():
                return await self._run(engine, code)
        finally:
            limit.release()

    async def _run(self, engine: Engine, code: str) -> ExecutionResult:
        execution = Execution(self._config, engine)
        try:
            # Lone surrogates cannot be encoded for the engine: U+FFFD, position for position.
            result = await execution.run(wrap_program(well_formed(code)))
        except asyncio.CancelledError:
            await self._close(engine)
            raise
        except Exception as exc:
            # A bug, a lost engine, a broken protocol message: the run ends, the host stays up.
            await self._close(engine)
            return ExecutionResult(success=False, error=driver_error(exc))
        if self._disposed:
            raise ContextError("the context was disposed while its program ran")
        if execution.stopped is not None or execution.stuck:
            # The engine unwound mid-program (or never did): nothing in it can be trusted.
            await self._close(engine)
        return result

    async def _close(self, engine: Engine) -> None:
        if self._engine is engine:
            self._engine = None
        # Best effort: the run's result is what matters.
        with contextlib.suppress(Exception):
            await engine.close()

    async def dispose(self) -> None:
        """Free the engine; a program still running is stopped. Safe to call twice."""
        self._disposed = True
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.close()

    async def __aenter__(self) -> HostDrivenContext:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.dispose()


class HostDrivenDriver(abc.ABC):
    """Base of the drivers built on this kit: ``create_context`` from ``make_engine``, a
    bound on concurrent executions, and ``aclose()`` / ``async with``, which dispose every
    context the driver made that is still alive."""

    def __init__(self, *, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> None:
        self._limit = ConcurrencyLimit(max_concurrency)
        self._contexts: weakref.WeakSet[HostDrivenContext] = weakref.WeakSet()
        self._closed = False

    @property
    def max_concurrency(self) -> int:
        return self._limit.limit

    @abc.abstractmethod
    async def make_engine(self, config: IsolateConfig) -> Engine:
        """A fresh engine for one context, with the prelude installed for ``config``."""

    async def create_context(self, config: IsolateConfig) -> HostDrivenContext:
        if self._closed:
            raise ContextError("this driver was closed (aclose); create a new driver")
        engine = await self.make_engine(config)
        context = HostDrivenContext(config, engine, self._limit)
        self._contexts.add(context)
        return context

    async def aclose(self) -> None:
        """Refuse new contexts and dispose those still alive (their programs stop)."""
        self._closed = True
        for context in list(self._contexts):
            await context.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
