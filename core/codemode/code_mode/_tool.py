"""``execute_typescript``, ``discover_tools`` and ``create_code_mode``.

The tools a program can call come from a ``ToolRegistry`` consulted at every execution, and
the system prompt is rendered from the same registry, so a tool added later is described and
callable in the next execution. Limits have one owner, the runner: a driver's own ``timeout``
and ``memory_limit`` are only defaults, and a driver loaded by name receives exactly the
options the user gave (from code or from its config section), never another driver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from codemode.code_mode._prompt import render_prompt, signature
from codemode.code_mode._registry import EXTERNAL, ToolRegistry
from codemode.code_mode._runner import DEFAULT_MAX_CODE_CHARS, CodeModeRunner
from codemode.config import CodeModeConfig
from codemode.errors import ConfigError, ToolInputError
from codemode.isolate import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_TOOL_CALLS,
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIMEOUT_MS,
    IsolateDriver,
)
from codemode.tools import SecretPolicy, Tool, ToolExecutionContext
from codemode.tools._validation import PassThrough, PydanticValidator
from codemode.typescript.stubs import render_tool_stubs

if TYPE_CHECKING:
    from codemode.isolation import Isolation


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


def _discovery_tool(registry: ToolRegistry) -> Tool:
    async def execute(args: DiscoverToolsInput, context: ToolExecutionContext) -> Any:
        found, unknown = [], []
        for requested in args.names:
            entry = registry.find(requested) or registry.find(EXTERNAL.function_name(requested))
            if entry is not None:
                found.append(signature(entry))
            else:
                unknown.append(requested)
        declarations = render_tool_stubs(found) if found else ""
        answer: dict[str, Any] = {"declarations": declarations, "unknown": unknown}
        if unknown:
            answer["available"] = sorted(entry.function_name for entry in registry.entries())
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


def _registry(tools: Sequence[Tool] | ToolRegistry, policy: SecretPolicy) -> ToolRegistry:
    if isinstance(tools, ToolRegistry):
        return tools
    return ToolRegistry(tools, on_secret_parameter=policy)


def _driver(
    driver: IsolateDriver | str | None,
    config: CodeModeConfig | None,
    isolation: str | None,
    workers: int | None,
) -> IsolateDriver:
    from codemode.isolation import DEFAULT_WORKERS, check_isolation, isolated_driver

    if isolation is None:
        isolation = config.driver.isolation if config is not None else "auto"
    if workers is None:
        workers = config.driver.workers if config is not None else DEFAULT_WORKERS
    check_isolation(isolation, workers)
    if driver is not None and not isinstance(driver, str):
        if isolation == "process" and not _is_isolated(driver):
            raise ConfigError(
                "isolation: 'process' needs the driver by name (driver='node' or"
                f" 'quickjs'), so that worker processes can load it; got the object {driver!r}"
            )
        return driver
    name = driver or (config.driver.name if config else "quickjs")
    # A config's [driver] options belong to the driver it names, and to no other.
    same = config is not None and name == config.driver.name
    options = dict(config.driver.options) if config is not None and same else {}
    return isolated_driver(name, options, isolation=isolation, workers=workers)


def _is_isolated(driver: IsolateDriver) -> bool:
    from codemode.isolation import ProcessIsolatedDriver

    return isinstance(driver, ProcessIsolatedDriver)


def _limit(
    given: int | None, config: CodeModeConfig | None, key: str, driver: IsolateDriver, default: int
) -> int:
    """The argument, else the config's value if it set one, else the driver's own, else the
    default."""
    if given is not None:
        return given
    if config is not None and config.is_set("driver", key):
        value: int = getattr(config.driver, key)
        return value
    own = getattr(driver, key, None)
    if isinstance(own, int) and not isinstance(own, bool):
        return own
    return default


def _runner(
    driver: IsolateDriver | str | None,
    tools: Sequence[Tool] | ToolRegistry,
    timeout: int | None,
    memory_limit: int | None,
    config: CodeModeConfig | None,
    on_secret_parameter: SecretPolicy,
    isolation: str | None = None,
    workers: int | None = None,
) -> CodeModeRunner:
    registry = _registry(tools, on_secret_parameter)
    chosen = _driver(driver, config, isolation, workers)
    limits = config.limits if config else None
    name = driver if isinstance(driver, str) else None
    if driver is None:
        name = config.driver.name if config else "quickjs"
    same = config is not None and name == config.driver.name
    return CodeModeRunner(
        driver_name=name,
        driver_options=dict(config.driver.options) if config is not None and same else {},
        workers=workers if workers is not None else (config.driver.workers if config else None),
        driver=chosen,
        registry=registry,
        timeout=_limit(timeout, config, "timeout", chosen, DEFAULT_TIMEOUT_MS),
        memory_limit=_limit(memory_limit, config, "memory_limit", chosen, DEFAULT_MEMORY_LIMIT_MB),
        max_tool_calls=limits.max_tool_calls if limits else DEFAULT_MAX_TOOL_CALLS,
        max_log_bytes=limits.max_log_bytes if limits else DEFAULT_MAX_LOG_BYTES,
        max_result_bytes=limits.max_result_bytes if limits else DEFAULT_MAX_RESULT_BYTES,
        max_code_chars=limits.max_code_chars if limits else DEFAULT_MAX_CODE_CHARS,
    )


class CodeMode:
    """What ``create_code_mode`` returns.

    ``tool`` is ``execute_typescript``; ``system_prompt`` documents the sandbox functions of
    the registry as it is now; ``discovery_tool`` is ``discover_tools`` when some tools are
    lazy, else None; ``tools`` is the list to give the model (``execute_typescript``, plus
    ``discover_tools`` when there is one); ``registry`` holds the tools programs can call:
    add one and it is callable, and described, from the next execution on.
    """

    def __init__(self, runner: CodeModeRunner) -> None:
        self.runner = runner
        self.tool = _execute_tool(runner)
        self._discovery = _discovery_tool(runner.registry)

    @property
    def registry(self) -> ToolRegistry:
        return self.runner.registry

    @property
    def system_prompt(self) -> str:
        return self.runner.system_prompt()

    @property
    def discovery_tool(self) -> Tool | None:
        return self._discovery if any(t.lazy for t in self.registry) else None

    @property
    def tools(self) -> list[Tool]:
        discovery = self.discovery_tool
        return [self.tool, discovery] if discovery else [self.tool]

    async def run(
        self, typescript_code: str, context: ToolExecutionContext | None = None
    ) -> dict[str, Any]:
        """Run one program directly, without a model: the same dict the tool returns."""
        return await self.runner.run(typescript_code, context)

    def __repr__(self) -> str:
        return f"CodeMode(driver={self.runner.driver!r}, registry={self.registry!r})"


def create_code_mode(
    *,
    driver: IsolateDriver | str | None = None,
    tools: Sequence[Tool] | ToolRegistry = (),
    timeout: int | None = None,
    memory_limit: int | None = None,
    config: CodeModeConfig | None = None,
    on_secret_parameter: SecretPolicy = "warn",
    isolation: Isolation | None = None,
    workers: int | None = None,
) -> CodeMode:
    """The code-mode tool and its matching system prompt.

    ``driver`` is an ``IsolateDriver``, a registered driver name, or None for the config's
    driver (``quickjs`` without a config). ``tools`` is a list of tools or a ``ToolRegistry``
    (shared, so tools added to it later are callable too). ``timeout`` (ms) and
    ``memory_limit`` (MB) default to the config's, else the driver's own, else 30000 and 128.

    ``isolation`` (default: the config's ``[driver] isolation``, else ``"auto"``) says where a
    driver given by name runs programs: ``"none"`` in this process, ``"process"`` in a pool of
    ``workers`` (default 4) warm worker processes, ``"auto"`` in processes for ``node``/``v8``
    (whose engine can abort the host) and in this process for the others. See
    docs/isolation.md.
    """
    return CodeMode(
        _runner(
            driver,
            tools,
            timeout,
            memory_limit,
            config,
            on_secret_parameter,
            isolation,
            workers,
        )
    )


def create_code_mode_tool(
    *,
    driver: IsolateDriver | str | None = None,
    tools: Sequence[Tool] | ToolRegistry = (),
    timeout: int | None = None,
    memory_limit: int | None = None,
    config: CodeModeConfig | None = None,
    on_secret_parameter: SecretPolicy = "warn",
    isolation: Isolation | None = None,
    workers: int | None = None,
) -> Tool:
    """Just the ``execute_typescript`` tool (pair it with ``create_code_mode_system_prompt``)."""
    return _execute_tool(
        _runner(
            driver,
            tools,
            timeout,
            memory_limit,
            config,
            on_secret_parameter,
            isolation,
            workers,
        )
    )


def create_code_mode_system_prompt(
    *,
    tools: Sequence[Tool] | ToolRegistry = (),
    timeout: int = DEFAULT_TIMEOUT_MS,
    memory_limit: int = DEFAULT_MEMORY_LIMIT_MB,
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
) -> str:
    """The system prompt for these tools, with type stubs generated from their schemas."""
    return render_prompt(
        _registry(tools, "ignore"),
        timeout=timeout,
        memory_limit=memory_limit,
        max_tool_calls=max_tool_calls,
    )
