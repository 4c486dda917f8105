"""``CodeModeRunner``: one program through the pipeline, always to a result dict.

Validate the size -> strip TypeScript on the host (off the event loop when the program is
large; a syntax error returns before any sandbox exists) -> a fresh context whose bindings,
taken from the registry as it is now, emit events -> execute -> dispose, always. Whatever
fails inside the driver (an exception from ``create_context``, ``execute`` or ``dispose``)
becomes a ``DriverError`` result: a model loop never sees an exception for a program. Only
the host's own mistakes raise: a ``ConfigError``, a ``DriverUnavailableError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from codemode.code_mode import _events as events
from codemode.code_mode._bindings import bind_tools
from codemode.code_mode._prompt import render_prompt
from codemode.code_mode._registry import Bindable, ToolRegistry
from codemode.errors import ConfigError, DriverUnavailableError, ErrorName
from codemode.isolate import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_TOOL_CALLS,
    ConsoleEntry,
    ExecutionResult,
    IsolateConfig,
    IsolateContext,
    IsolateDriver,
    NormalizedError,
)
from codemode.sandbox import driver_error, limit_error
from codemode.sandbox._protocol import dumps
from codemode.tools import ToolExecutionContext
from codemode.typescript import TypeScriptSyntaxError, strip_types_cached

DEFAULT_MAX_CODE_CHARS: Final = 128 * 1024
"""The longest ``typescriptCode`` accepted, in characters: stripping that much ordinary code
takes under 0.1 s, and the most adversarial shapes under 0.5 s (see docs/architecture.md)."""
_STRIP_ON_THREAD_CHARS: Final = 20_000


@dataclass
class CodeModeRunner:
    """Runs programs against one tool registry on one driver; shared by the tools it backs."""

    driver: IsolateDriver
    registry: ToolRegistry
    timeout: int
    memory_limit: int
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_code_chars: int = DEFAULT_MAX_CODE_CHARS
    driver_name: str | None = None
    """The registered name the driver was loaded by, when it was (worker processes load a
    driver by name: what ``isolated_driver`` needs)."""
    driver_options: dict[str, Any] = field(default_factory=dict)
    workers: int | None = None
    """Worker processes per process-isolated driver, as configured."""
    _prompt: tuple[int, str] | None = field(default=None, repr=False)
    _isolated: IsolateDriver | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Fails early on a bad timeout (0, negative, infinite) or limit.
        IsolateConfig(
            timeout=self.timeout,
            memory_limit=self.memory_limit,
            max_tool_calls=self.max_tool_calls,
            max_log_bytes=self.max_log_bytes,
            max_result_bytes=self.max_result_bytes,
        )
        if isinstance(self.max_code_chars, bool) or not (
            isinstance(self.max_code_chars, int) and self.max_code_chars > 0
        ):
            raise ConfigError(f"max_code_chars must be an integer > 0, got {self.max_code_chars!r}")

    async def run(
        self, typescript_code: str, context: ToolExecutionContext | None = None
    ) -> dict[str, Any]:
        """Run one program and return the ``execute_typescript`` result dict."""
        context = context or ToolExecutionContext()
        emit = context.emit_custom_event
        started = time.perf_counter()
        emit(
            events.EXECUTION_STARTED,
            {"timestamp": events.timestamp(), "codeLength": len(typescript_code)},
        )
        result = await self._execute(typescript_code, context)
        error = result.error
        value = result.value if result.success else None
        emit(
            events.EXECUTION_FINISHED,
            {
                "timestamp": events.timestamp(),
                "durationMs": events.duration_ms(started),
                "success": result.success,
                "logCount": len(result.logs),
                "error": error.to_json() if error else None,
                "toolCalls": result.tool_calls,
                "toolResultBytes": result.tool_result_bytes,
                "resultBytes": _json_size(value),
            },
        )
        return {
            "success": result.success,
            "result": value,
            "logs": result.logs,
            "error": error.to_json() if error else None,
        }

    async def _execute(self, code: str, context: ToolExecutionContext) -> ExecutionResult:
        if len(code) > self.max_code_chars:
            return ExecutionResult(
                success=False,
                error=limit_error(
                    ErrorName.TOOL_INPUT,
                    f"execute_typescript: input.typescriptCode is {len(code)} characters, over"
                    f" the limit of {self.max_code_chars}; write a shorter program (put data"
                    " in tool calls, not in the code)",
                ),
            )
        try:
            javascript = await self._strip(code)
        except TypeScriptSyntaxError as exc:
            return ExecutionResult(success=False, error=syntax_error(exc))
        return await self.execute_javascript(javascript, context)

    async def execute_javascript(
        self,
        javascript: str,
        context: ToolExecutionContext,
        *,
        registry: Bindable | None = None,
        timeout_ms: int | None = None,
        max_tool_calls: int | None = None,
        driver: IsolateDriver | None = None,
    ) -> ExecutionResult:
        """Run already-stripped JavaScript in a fresh context, with no execution events.

        What a skill uses for its own program: ``registry`` replaces the runner's (for what
        this one run may call), and ``timeout_ms`` / ``max_tool_calls`` tighten the runner's
        own limits for it (they never loosen them), and ``driver`` replaces the runner's
        driver for it. Console lines are still emitted.
        """
        async with self.sandbox(
            context,
            registry=registry,
            timeout_ms=timeout_ms,
            max_tool_calls=max_tool_calls,
            driver=driver,
        ) as execute:
            return await execute(javascript)

    @contextlib.asynccontextmanager
    async def sandbox(
        self,
        context: ToolExecutionContext,
        *,
        registry: Bindable | None = None,
        timeout_ms: int | None = None,
        max_tool_calls: int | None = None,
        driver: IsolateDriver | None = None,
    ) -> AsyncIterator[Callable[[str], Awaitable[ExecutionResult]]]:
        """``execute_javascript`` in two steps: the block runs one program with the function it
        is given, and the context is disposed when the block ends. Work that follows the
        program (a skill's stats) then runs before the engine's own clean-up competes with
        it for the host."""

        def on_console(entry: ConsoleEntry) -> None:
            context.emit_custom_event(
                events.CONSOLE,
                {"level": entry.level, "message": entry.message, "timestamp": events.timestamp()},
            )

        config = IsolateConfig(
            bindings=dict(bind_tools(registry or self.registry, context)),
            timeout=min(timeout_ms, self.timeout) if timeout_ms else self.timeout,
            memory_limit=self.memory_limit,
            max_tool_calls=(
                min(max_tool_calls, self.max_tool_calls) if max_tool_calls else self.max_tool_calls
            ),
            max_log_bytes=self.max_log_bytes,
            max_result_bytes=self.max_result_bytes,
            on_console=on_console,
        )
        sandbox: IsolateContext | None = None
        failed: ExecutionResult | None = None
        try:
            sandbox = await (driver or self.driver).create_context(config)
        except (ConfigError, DriverUnavailableError):
            raise
        except Exception as exc:
            failed = ExecutionResult(success=False, error=driver_error(exc))

        async def execute(javascript: str) -> ExecutionResult:
            if sandbox is None:
                assert failed is not None
                return failed
            try:
                return await sandbox.execute(javascript)
            except Exception as exc:
                return ExecutionResult(success=False, error=driver_error(exc))

        try:
            yield execute
        finally:
            if sandbox is not None:
                await _dispose(sandbox)

    def isolated_driver(self) -> IsolateDriver:
        """This runner's driver in process isolation (itself if it is already isolated).

        ``ConfigError`` when the driver was given as an object: worker processes can only
        load a driver by its registered name.
        """
        from codemode.isolation import DEFAULT_WORKERS, ProcessIsolatedDriver, isolated_driver

        if isinstance(self.driver, ProcessIsolatedDriver):
            return self.driver
        if self._isolated is None:
            if self.driver_name is None:
                raise ConfigError(
                    "process isolation needs the driver by name (driver='quickjs' or"
                    f" 'node'), so that worker processes can load it; got {self.driver!r}"
                )
            self._isolated = isolated_driver(
                self.driver_name,
                self.driver_options,
                isolation="process",
                workers=self.workers or DEFAULT_WORKERS,
            )
        return self._isolated

    async def _strip(self, code: str) -> str:
        if len(code) < _STRIP_ON_THREAD_CHARS:
            return strip_types_cached(code)
        # Long programs take tens of milliseconds to parse: not on the event loop.
        return await asyncio.to_thread(strip_types_cached, code)

    def system_prompt(self) -> str:
        """The prompt for the registry as it is now (rendered again only when it changed)."""
        version = self.registry.version
        if self._prompt is None or self._prompt[0] != version:
            text = render_prompt(
                self.registry,
                timeout=self.timeout,
                memory_limit=self.memory_limit,
                max_tool_calls=self.max_tool_calls,
            )
            self._prompt = (version, text)
        return self._prompt[1]


async def _dispose(sandbox: IsolateContext) -> None:
    # The result is what matters; a driver that cannot dispose has a bug of its own.
    with contextlib.suppress(Exception):
        await sandbox.dispose()


def syntax_error(exc: TypeScriptSyntaxError) -> NormalizedError:
    return NormalizedError(
        name=ErrorName.SYNTAX,
        message=exc.message,
        stack=f"SyntaxError: {exc.message}\n    at program.ts:{exc.line}:{exc.column}",
        line=exc.line,
        column=exc.column,
    )


def _json_size(value: Any) -> int:
    try:
        return len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # lone surrogates: the slower path repairs them
        try:
            return len(dumps(value).encode("utf-8"))
        except TypeError:
            return 0
