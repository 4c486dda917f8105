"""``execute_typescript``, ``discover_tools`` and ``create_code_mode``.

Pipeline per call: validate input -> strip TypeScript on the host (positions kept, so errors
point at the model's lines; a syntax error returns before any sandbox exists) -> a fresh
context whose bindings emit events -> execute -> dispose, always.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from codemode import plugins
from codemode.code_mode import _events as events
from codemode.code_mode._bindings import bind_tools
from codemode.code_mode._prompt import render_prompt, signature
from codemode.config import CodeModeConfig
from codemode.errors import ConfigError, ErrorName, ToolInputError
from codemode.isolate import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_TOOL_CALLS,
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIMEOUT_MS,
    ConsoleEntry,
    ExecutionResult,
    IsolateConfig,
    IsolateDriver,
    NormalizedError,
)
from codemode.tools import SecretPolicy, Tool, ToolExecutionContext, check_secret_parameters
from codemode.tools._validation import PassThrough, PydanticValidator
from codemode.typescript import TypeScriptSyntaxError, strip_types_cached
from codemode.typescript.stubs import render_tool_stubs


class ExecuteTypescriptInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    typescript_code: str = Field(
        alias="typescriptCode",
        description="The TypeScript program: the body of an async function; `return` the result.",
    )


class ExecuteTypescriptError(BaseModel):
    name: str
    message: str
    line: int | None = None
    stack: str | None = None


class ExecuteTypescriptOutput(BaseModel):
    success: bool
    result: Any = None
    logs: list[str]
    error: ExecuteTypescriptError | None = None


class DiscoverToolsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = Field(
        description="Function or tool names to describe, e.g. ['external_get_orders']."
    )


_EXECUTE_DESCRIPTION = (
    "Run a TypeScript program in a sandbox. The program is the body of an async function: it "
    "can `await` the external_* functions described in the system prompt, run them "
    "concurrently with Promise.all, and must `return` its result (JSON). Returns "
    "{success, result, logs, error}."
)


@dataclass
class CodeModeRunner:
    """Runs programs for one set of tools on one driver; shared by the tools it backs."""

    driver: IsolateDriver
    tools: list[Tool]
    timeout: int
    memory_limit: int
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES

    def __post_init__(self) -> None:
        # Fails early on a bad timeout (0, negative, infinite) or limit.
        IsolateConfig(
            timeout=self.timeout,
            memory_limit=self.memory_limit,
            max_tool_calls=self.max_tool_calls,
            max_log_bytes=self.max_log_bytes,
            max_result_bytes=self.max_result_bytes,
        )

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
        emit(
            events.EXECUTION_FINISHED,
            {
                "timestamp": events.timestamp(),
                "durationMs": events.duration_ms(started),
                "success": result.success,
                "logCount": len(result.logs),
                "error": error.to_json() if error else None,
            },
        )
        return {
            "success": result.success,
            "result": result.value if result.success else None,
            "logs": result.logs,
            "error": error.to_json() if error else None,
        }

    async def _execute(self, code: str, context: ToolExecutionContext) -> ExecutionResult:
        try:
            javascript = strip_types_cached(code)
        except TypeScriptSyntaxError as exc:
            return ExecutionResult(
                success=False,
                error=NormalizedError(
                    name=ErrorName.SYNTAX,
                    message=exc.message,
                    stack=f"SyntaxError: {exc.message}\n    at program.ts:{exc.line}:{exc.column}",
                    line=exc.line,
                    column=exc.column,
                ),
            )

        def on_console(entry: ConsoleEntry) -> None:
            context.emit_custom_event(
                events.CONSOLE,
                {"level": entry.level, "message": entry.message, "timestamp": events.timestamp()},
            )

        config = IsolateConfig(
            bindings=dict(bind_tools(self.tools, context)),
            timeout=self.timeout,
            memory_limit=self.memory_limit,
            max_tool_calls=self.max_tool_calls,
            max_log_bytes=self.max_log_bytes,
            max_result_bytes=self.max_result_bytes,
            on_console=on_console,
        )
        sandbox = await self.driver.create_context(config)
        try:
            return await sandbox.execute(javascript)
        finally:
            await sandbox.dispose()

    def system_prompt(self) -> str:
        return render_prompt(
            self.tools,
            timeout=self.timeout,
            memory_limit=self.memory_limit,
            max_tool_calls=self.max_tool_calls,
        )


def _execute_tool(runner: CodeModeRunner) -> Tool:
    async def execute(args: ExecuteTypescriptInput, context: ToolExecutionContext) -> Any:
        return await runner.run(args.typescript_code, context)

    return Tool(
        name="execute_typescript",
        description=_EXECUTE_DESCRIPTION,
        input_schema=ExecuteTypescriptInput.model_json_schema(by_alias=True),
        output_schema=ExecuteTypescriptOutput.model_json_schema(),
        execute=execute,
        input_validator=PydanticValidator(
            pydantic.TypeAdapter(ExecuteTypescriptInput),
            "execute_typescript",
            ToolInputError,
            "input",
        ),
        output_validator=PassThrough(),
    )


def _discovery_tool(tools: Sequence[Tool]) -> Tool:
    by_name = {tool.name: tool for tool in tools}

    async def execute(args: DiscoverToolsInput, context: ToolExecutionContext) -> Any:
        found, unknown = [], []
        for requested in args.names:
            name = requested.removeprefix("external_")
            if name in by_name:
                found.append(signature(by_name[name]))
            else:
                unknown.append(requested)
        declarations = render_tool_stubs(found) if found else ""
        answer: dict[str, Any] = {"declarations": declarations, "unknown": unknown}
        if unknown:
            answer["available"] = sorted(f"external_{name}" for name in by_name)
        return answer

    return Tool(
        name="discover_tools",
        description=(
            "Get the TypeScript declarations of sandbox functions listed by name only in the "
            "system prompt, before calling them from execute_typescript."
        ),
        input_schema=DiscoverToolsInput.model_json_schema(),
        output_schema={
            "type": "object",
            "properties": {
                "declarations": {"type": "string"},
                "unknown": {"type": "array", "items": {"type": "string"}},
                "available": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["declarations", "unknown"],
        },
        execute=execute,
        input_validator=PydanticValidator(
            pydantic.TypeAdapter(DiscoverToolsInput), "discover_tools", ToolInputError, "input"
        ),
        output_validator=PassThrough(),
    )


def _check_tools(tools: Sequence[Tool], on_secret_parameter: SecretPolicy) -> list[Tool]:
    seen: set[str] = set()
    checked = []
    for item in tools:
        if not isinstance(item, Tool):
            raise ConfigError(
                f"tools must be Tool objects (use @tool or tool_definition(...).server(fn)), "
                f"got {item!r}"
            )
        if item.name in seen:
            raise ConfigError(f"two tools are named {item.name!r}; tool names must be unique")
        seen.add(item.name)
        check_secret_parameters(item.name, item.input_schema, on_secret_parameter)
        checked.append(item)
    return checked


def _runner(
    driver: IsolateDriver | str | None,
    tools: Sequence[Tool],
    timeout: int | None,
    memory_limit: int | None,
    config: CodeModeConfig | None,
    on_secret_parameter: SecretPolicy,
) -> CodeModeRunner:
    limits = config.limits if config else None
    if timeout is None:
        timeout = config.driver.timeout if config else getattr(driver, "timeout", None)
    if memory_limit is None:
        memory_limit = (
            config.driver.memory_limit if config else getattr(driver, "memory_limit", None)
        )
    timeout = DEFAULT_TIMEOUT_MS if timeout is None else timeout
    memory_limit = DEFAULT_MEMORY_LIMIT_MB if memory_limit is None else memory_limit
    if driver is None or isinstance(driver, str):
        name = driver or (config.driver.name if config else "quickjs")
        options = dict(config.driver.options) if config else {}
        driver = plugins.load_driver(name, timeout=timeout, memory_limit=memory_limit, **options)
    return CodeModeRunner(
        driver=driver,
        tools=_check_tools(tools, on_secret_parameter),
        timeout=timeout,
        memory_limit=memory_limit,
        max_tool_calls=limits.max_tool_calls if limits else DEFAULT_MAX_TOOL_CALLS,
        max_log_bytes=limits.max_log_bytes if limits else DEFAULT_MAX_LOG_BYTES,
        max_result_bytes=limits.max_result_bytes if limits else DEFAULT_MAX_RESULT_BYTES,
    )


@dataclass
class CodeMode:
    """What ``create_code_mode`` returns.

    ``tool`` is ``execute_typescript``; ``system_prompt`` documents the sandbox functions;
    ``discovery_tool`` is ``discover_tools`` when some tools are lazy, else None; ``tools`` is
    the list to give the model (``execute_typescript``, plus ``discover_tools`` if present).
    """

    tool: Tool
    system_prompt: str
    discovery_tool: Tool | None
    tools: list[Tool]
    runner: CodeModeRunner = field(repr=False)

    async def run(
        self, typescript_code: str, context: ToolExecutionContext | None = None
    ) -> dict[str, Any]:
        """Run one program directly, without a model: the same dict the tool returns."""
        return await self.runner.run(typescript_code, context)


def create_code_mode(
    *,
    driver: IsolateDriver | str | None = None,
    tools: Sequence[Tool] = (),
    timeout: int | None = None,
    memory_limit: int | None = None,
    config: CodeModeConfig | None = None,
    on_secret_parameter: SecretPolicy = "warn",
) -> CodeMode:
    """The code-mode tool and its matching system prompt.

    ``driver`` is an ``IsolateDriver``, a registered driver name, or None for the config's
    driver (``quickjs`` without a config). ``timeout`` (ms) and ``memory_limit`` (MB) default
    to the config's, else the driver's own, else 30000 and 128.
    """
    runner = _runner(driver, tools, timeout, memory_limit, config, on_secret_parameter)
    execute_tool = _execute_tool(runner)
    discovery = _discovery_tool(runner.tools) if any(t.lazy for t in runner.tools) else None
    return CodeMode(
        tool=execute_tool,
        system_prompt=runner.system_prompt(),
        discovery_tool=discovery,
        tools=[execute_tool, discovery] if discovery else [execute_tool],
        runner=runner,
    )


def create_code_mode_tool(
    *,
    driver: IsolateDriver | str | None = None,
    tools: Sequence[Tool] = (),
    timeout: int | None = None,
    memory_limit: int | None = None,
    config: CodeModeConfig | None = None,
    on_secret_parameter: SecretPolicy = "warn",
) -> Tool:
    """Just the ``execute_typescript`` tool (pair it with ``create_code_mode_system_prompt``)."""
    return _execute_tool(_runner(driver, tools, timeout, memory_limit, config, on_secret_parameter))


def create_code_mode_system_prompt(
    *,
    tools: Sequence[Tool] = (),
    timeout: int = DEFAULT_TIMEOUT_MS,
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
) -> str:
    """The system prompt for these tools, with type stubs generated from their schemas."""
    return render_prompt(
        list(tools), timeout=timeout, memory_limit=memory_limit, max_tool_calls=max_tool_calls
    )
