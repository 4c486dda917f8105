"""The isolate driver contract: what a sandbox engine must provide to run model programs.

A driver (``IsolateDriver``) makes contexts; a context (``IsolateContext``) runs one program
with the host tools bound as async ``external_*`` functions, and is disposed afterwards. The
conformance suite in ``codemode.testing`` checks every guarantee listed in DESIGN.md.

Beyond the contract's three fields, ``IsolateConfig`` carries the per-execution bounds the
drivers enforce (tool calls, log and result sizes) and an ``on_console`` callback through
which a driver streams console lines while the program runs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from codemode.context import ToolExecutionContext
from codemode.errors import ConfigError

ConsoleLevel = Literal["log", "info", "warn", "error"]

DEFAULT_TIMEOUT_MS = 30_000
DEFAULT_MEMORY_LIMIT_MB = 128
DEFAULT_MAX_TOOL_CALLS = 1000
DEFAULT_MAX_LOG_BYTES = 1024 * 1024
DEFAULT_MAX_RESULT_BYTES = 10 * 1024 * 1024


@runtime_checkable
class ToolBinding(Protocol):
    """A host function the sandbox can call as ``external_<name>(input)``."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def input_schema(self) -> dict[str, Any]: ...

    @property
    def output_schema(self) -> dict[str, Any] | None: ...

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None, /
    ) -> Any: ...


@runtime_checkable
class InlineToolBinding(ToolBinding, Protocol):
    """A binding whose implementation is a plain (blocking) function.

    When ``inline`` is true, a driver that runs its engine on a thread of its own may call
    ``execute_inline`` on that thread, for a turn that requests this one tool: still off the
    event loop, without the hops to the loop and to a worker thread. ``loop`` is the event
    loop the execution belongs to, for handing events back to it.
    """

    @property
    def inline(self) -> bool: ...

    def execute_inline(self, args: dict[str, Any], loop: asyncio.AbstractEventLoop) -> Any: ...


@dataclass(frozen=True, slots=True)
class ConsoleEntry:
    """One console line written by the program."""

    level: ConsoleLevel
    message: str

    def format(self) -> str:
        """The line as in ``ExecutionResult.logs``: ``[warn] msg``, or ``msg`` for log."""
        return self.message if self.level == "log" else f"[{self.level}] {self.message}"


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"IsolateConfig.{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(
            f"IsolateConfig.{name} must be a finite number greater than 0, got {value!r}"
            " (there is no 'unlimited': model-written code may loop forever)"
        )


@dataclass
class IsolateConfig:
    """How to build one context: the bound tools and the limits of one execution."""

    bindings: dict[str, ToolBinding] = field(default_factory=dict)
    timeout: int = DEFAULT_TIMEOUT_MS
    """Wall-clock limit in ms, tool waits included; must be finite and > 0."""
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB
    """Heap limit in MB."""
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    on_console: Callable[[ConsoleEntry], None] | None = None
    """Called for each console line at the moment the host receives it."""

    def __post_init__(self) -> None:
        for name in ("timeout", "memory_limit", "max_tool_calls", "max_log_bytes"):
            _positive(name, getattr(self, name))
        _positive("max_result_bytes", self.max_result_bytes)
        for key in self.bindings:
            if not key.isidentifier():
                raise ConfigError(f"binding name {key!r} is not a JavaScript identifier")


@dataclass(frozen=True, slots=True)
class NormalizedError:
    """A program failure, with positions in the model's own TypeScript."""

    name: str
    message: str
    stack: str | None = None
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The camelCase JSON the model sees."""
        return {"name": self.name, "message": self.message, "line": self.line, "stack": self.stack}


@dataclass(slots=True)
class ExecutionResult:
    """What one ``IsolateContext.execute`` produced."""

    success: bool
    value: Any = None
    error: NormalizedError | None = None
    logs: list[str] = field(default_factory=list)
    tool_calls: int = 0
    """How many ``external_*`` calls the program made (0 when a driver does not count)."""
    tool_result_bytes: int = 0
    """JSON bytes of tool results delivered into the sandbox (they stay there)."""


@runtime_checkable
class IsolateContext(Protocol):
    """One sandbox: runs one program, then is disposed.

    ``execute`` returns the program's outcome, whatever the program does; it raises only for
    the host's own mistakes (``codemode.errors.ContextError``: a second program, or a context
    already disposed). ``dispose`` may be called at any time, twice included; a program still
    running is stopped.
    """

    async def execute(self, code: str) -> ExecutionResult: ...

    async def dispose(self) -> None: ...


@runtime_checkable
class IsolateDriver(Protocol):
    """Makes sandboxes. Drivers are found by name through ``codemode.plugins.load_driver``."""

    async def create_context(self, config: IsolateConfig) -> IsolateContext: ...


@asynccontextmanager
async def open_context(
    driver: IsolateDriver, config: IsolateConfig
) -> AsyncIterator[IsolateContext]:
    """``async with open_context(driver, config) as ctx:``: a context that is always disposed."""
    context = await driver.create_context(config)
    try:
        yield context
    finally:
        await context.dispose()
