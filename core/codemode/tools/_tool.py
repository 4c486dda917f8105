"""``Tool``, the ``@tool`` decorator and the two-step ``tool_definition(...).server(fn)`` form.

A tool is what the model can call: from a program as ``external_<name>(input)``, or directly
from a model loop. Its input is validated before the implementation runs and its output
after, so the sandbox only ever sees JSON-compatible data that matches the schema.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from typing import Any, overload

import pydantic
import pydantic_core

from codemode.errors import ToolDefinitionError, ToolInputError, ToolOutputError
from codemode.tools._context import ToolExecutionContext
from codemode.tools._validation import (
    JsonSchemaValidator,
    OutputValidator,
    PydanticValidator,
    Validator,
)
from codemode.typescript.naming import pascal_case

Implementation = Callable[[Any, ToolExecutionContext], Awaitable[Any]]
SyncImplementation = Callable[[Any, ToolExecutionContext], Any]
SchemaLike = type[pydantic.BaseModel] | dict[str, Any]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ToolDefinitionError(
            f"tool name {name!r} must be a valid identifier (letters, digits, _), because the "
            f"sandbox calls it as external_{name}(...)"
        )
    return name


class _JsonOutput:
    """Output check for tools without an output type: the value must be JSON-compatible."""

    def __init__(self, tool: str) -> None:
        self._tool = tool

    def validate(self, value: Any) -> Any:
        try:
            return pydantic_core.to_jsonable_python(value)
        except pydantic_core.PydanticSerializationError as exc:
            raise ToolOutputError(f"{self._tool}: output is not JSON-compatible: {exc}") from None


class Tool:
    """A host tool: ``name``, ``description``, JSON Schemas, and ``await execute(input)``."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        input_schema: dict[str, Any],
        output_schema: dict[str, Any] | None,
        execute: Implementation | None = None,
        execute_sync: SyncImplementation | None = None,
        lazy: bool = False,
        side_effects: bool = False,
        input_validator: Validator | None = None,
        output_validator: Validator | None = None,
    ) -> None:
        """Give ``execute`` (async), or ``execute_sync`` (a blocking function, which then runs
        in a worker thread when awaited, or on a sandbox's own thread when a driver can).

        ``lazy`` tools are listed by name only in the system prompt (``discover_tools``
        describes them); ``side_effects`` marks a tool that changes the world, which trust
        policies may withhold from untrusted skills."""
        self.name = _check_name(name)
        self.description = description
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.lazy = lazy
        self.side_effects = side_effects
        if (execute is None) == (execute_sync is None):
            raise ToolDefinitionError(f"tool {name!r}: give exactly one of execute, execute_sync")
        self._execute = execute
        self._execute_sync = execute_sync
        self._input = input_validator or JsonSchemaValidator(
            input_schema, name, ToolInputError, "input"
        )
        self._output: Validator = output_validator or (
            JsonSchemaValidator(output_schema, name, ToolOutputError, "output")
            if output_schema is not None
            else _JsonOutput(name)
        )

    async def execute(
        self, input: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        """Validate ``input``, run the implementation, validate and return its JSON output."""
        if not isinstance(input, dict):
            raise ToolInputError(
                f"{self.name}: input must be an object like {{...}}, got {type(input).__name__}"
            )
        args = self._input.validate(input)
        context = context or ToolExecutionContext()
        if self._execute is not None:
            result = await self._execute(args, context)
        else:
            assert self._execute_sync is not None
            # A sync tool may block: keep it off the event loop, and hand the events it emits
            # back to the loop, in order, before its result.
            loop = asyncio.get_running_loop()
            worker_context = context.for_worker_thread(loop)
            result = await asyncio.to_thread(self._execute_sync, args, worker_context)
        return self._output.validate(result)

    @property
    def is_sync(self) -> bool:
        """Whether the implementation is a plain (blocking) function."""
        return self._execute_sync is not None

    def execute_sync(
        self, input: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        """Like ``execute``, on the calling thread; only for tools where ``is_sync``."""
        if self._execute_sync is None:
            raise ToolDefinitionError(f"tool {self.name!r} is async: await execute() instead")
        if not isinstance(input, dict):
            raise ToolInputError(
                f"{self.name}: input must be an object like {{...}}, got {type(input).__name__}"
            )
        args = self._input.validate(input)
        result = self._execute_sync(args, context or ToolExecutionContext())
        return self._output.validate(result)

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI function-tool schema, for any model loop."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.input_schema,
            },
        }

    def __repr__(self) -> str:
        flags = (", lazy=True" if self.lazy else "") + (
            ", side_effects=True" if self.side_effects else ""
        )
        return f"Tool(name={self.name!r}{flags})"


def _is_context(annotation: Any) -> bool:
    return annotation is ToolExecutionContext or annotation == "ToolExecutionContext"


def _docstring_description(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.split("\n\n", 1)[0].strip()


def _from_function(
    fn: Callable[..., Any],
    name: str | None,
    description: str | None,
    lazy: bool,
    side_effects: bool,
) -> Tool:
    tool_name = _check_name(name or fn.__name__)
    text = description if description is not None else _docstring_description(fn)
    if not text:
        raise ToolDefinitionError(
            f"tool {tool_name!r} has no description: add a docstring or pass description=..."
        )
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(f"tool {tool_name!r}: cannot resolve a type hint: {exc}") from exc
    fields: dict[str, Any] = {}
    context_param: str | None = None
    for param in inspect.signature(fn).parameters.values():
        annotation = hints.get(param.name, Any)
        if _is_context(annotation):
            context_param = param.name
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolDefinitionError(
                f"tool {tool_name!r}: parameter {param.name!r} must be a named parameter "
                "(no *args, **kwargs or positional-only), because input arrives as an object"
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    input_model = pydantic.create_model(
        f"{pascal_case(tool_name) or 'Tool'}Input",
        __config__=pydantic.ConfigDict(extra="forbid"),
        **fields,
    )
    input_validator = PydanticValidator(
        pydantic.TypeAdapter(input_model), tool_name, ToolInputError, "input"
    )
    returns = hints.get("return", Any)
    output_validator: Validator
    output_schema: dict[str, Any] | None
    if returns is Any:
        output_validator, output_schema = _JsonOutput(tool_name), None
    else:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(returns)
        output_validator = OutputValidator(adapter, tool_name)
        output_schema = adapter.json_schema()
    names = list(fields)

    def arguments(args: pydantic.BaseModel, context: ToolExecutionContext) -> dict[str, Any]:
        kwargs = {key: getattr(args, key) for key in names}
        if context_param is not None:
            kwargs[context_param] = context
        return kwargs

    async def execute(args: pydantic.BaseModel, context: ToolExecutionContext) -> Any:
        return await fn(**arguments(args, context))

    def execute_sync(args: pydantic.BaseModel, context: ToolExecutionContext) -> Any:
        return fn(**arguments(args, context))

    is_async = inspect.iscoroutinefunction(fn)
    return Tool(
        name=tool_name,
        description=text,
        input_schema=input_model.model_json_schema(),
        output_schema=output_schema,
        execute=execute if is_async else None,
        execute_sync=None if is_async else execute_sync,
        lazy=lazy,
        side_effects=side_effects,
        input_validator=input_validator,
        output_validator=output_validator,
    )


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    lazy: bool = False,
    side_effects: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    lazy: bool = False,
    side_effects: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Turn a typed function (sync or async) into a ``Tool``.

    The input schema comes from the parameters and their type hints, the output schema from
    the return annotation, the description from ``description=`` or the docstring's first
    paragraph. A parameter annotated ``ToolExecutionContext`` receives the call's context.
    ``lazy=True`` lists the tool by name only in the prompt; ``side_effects=True`` marks a tool
    that changes the world (trust policies may withhold it from untrusted skills).

    >>> @tool
    ... def add(a: int, b: int) -> int:
    ...     '''Add two integers.'''
    ...     return a + b
    >>> add.input_schema["required"]
    ['a', 'b']
    """
    if fn is not None:
        return _from_function(fn, name, description, lazy, side_effects)
    return lambda f: _from_function(f, name, description, lazy, side_effects)


def _schema_of(schema: SchemaLike, what: str, tool_name: str) -> dict[str, Any]:
    if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
        return schema.model_json_schema()
    if isinstance(schema, dict):
        return schema
    raise ToolDefinitionError(
        f"tool {tool_name!r}: {what} must be a pydantic model class or a JSON Schema dict, "
        f"got {schema!r}"
    )


class ToolDefinition:
    """The first half of ``tool_definition(...).server(impl)``: schemas without code."""

    def __init__(
        self,
        name: str,
        description: str,
        input_schema: SchemaLike,
        output_schema: SchemaLike | None,
        lazy: bool,
        side_effects: bool = False,
    ) -> None:
        self.name = _check_name(name)
        self.description = description
        self.lazy = lazy
        self.side_effects = side_effects
        self._input = input_schema
        self._output = output_schema
        self.input_schema = _schema_of(input_schema, "input_schema", name)
        self.output_schema = (
            None if output_schema is None else _schema_of(output_schema, "output_schema", name)
        )

    def server(self, impl: Callable[..., Any]) -> Tool:
        """Attach the host implementation: ``impl(input)`` or ``impl(input, context)``.

        ``input`` is an instance of the input model when ``input_schema`` is a pydantic
        model, else the validated dict.
        """
        params = list(inspect.signature(impl).parameters.values())
        wants_context = len(params) >= 2 or any(p.name == "context" for p in params)

        def call(args: Any, context: ToolExecutionContext) -> Any:
            return impl(args, context) if wants_context else impl(args)

        async def execute(args: Any, context: ToolExecutionContext) -> Any:
            return await call(args, context)

        is_async = inspect.iscoroutinefunction(impl)

        input_validator: Validator
        if isinstance(self._input, type):
            input_validator = PydanticValidator(
                pydantic.TypeAdapter(self._input), self.name, ToolInputError, "input"
            )
        else:
            input_validator = JsonSchemaValidator(
                self.input_schema, self.name, ToolInputError, "input"
            )
        output_validator: Validator | None = None
        if isinstance(self._output, type):
            output_validator = OutputValidator(pydantic.TypeAdapter(self._output), self.name)
        return Tool(
            name=self.name,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            execute=execute if is_async else None,
            execute_sync=None if is_async else call,
            lazy=self.lazy,
            side_effects=self.side_effects,
            input_validator=input_validator,
            output_validator=output_validator,
        )


def tool_definition(
    *,
    name: str,
    description: str,
    input_schema: SchemaLike,
    output_schema: SchemaLike | None = None,
    lazy: bool = False,
    side_effects: bool = False,
) -> ToolDefinition:
    """Declare a tool's name, description and schemas; add the code with ``.server(impl)``."""
    return ToolDefinition(name, description, input_schema, output_schema, lazy, side_effects)
