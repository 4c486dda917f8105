"""The wire between the host and a worker process, version 1.

One message per line of JSON, each an object with ``"v": 1`` and a ``"type"``. Values the
program or a tool produced (tool arguments, tool results, the return value) travel as JSON
*text* inside the message, so that the wire adds no nesting to them (a value nested 1024 deep
still fits orjson's limit) and the host decodes them apart from the envelope.

Host -> worker: ``init`` (driver name and options), ``run`` (one program and its limits),
``tool_result``. Worker -> host: ``ready`` or ``failed`` (after ``init``), ``tool_call``,
``console``, ``result``. ``decode_from_worker`` and ``decode_from_host`` check every field;
anything else is a ``WireError``, which the host treats as a broken worker (it is killed and
the run ends with a named error), never as an exception of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from codemode.isolate import ConsoleEntry, ConsoleLevel, ExecutionResult, NormalizedError
from codemode.sandbox._protocol import ProtocolError, dumps, loads

WIRE_VERSION: Final = 1
_LEVELS: Final[frozenset[str]] = frozenset({"log", "info", "warn", "error"})


class WireError(Exception):
    """A line on the wire is not a version-1 message of the kind expected."""


# Host -> worker ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BindingSpec:
    """What the worker needs to bind one host tool: the description, never the function."""

    key: str
    """The sandbox name, ``external_<name>``."""
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Init:
    driver: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Run:
    run: int
    code: str
    timeout: int
    memory_limit: int
    max_tool_calls: int
    max_log_bytes: int
    max_result_bytes: int
    bindings: tuple[BindingSpec, ...]


@dataclass(frozen=True, slots=True)
class ToolResult:
    run: int
    call: int
    ok: bool
    value: str
    """JSON text: the tool's result, or ``{"name", "message"}`` when ``ok`` is false."""


# Worker -> host ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ready:
    pid: int


@dataclass(frozen=True, slots=True)
class Failed:
    """The worker could not load its driver: ``name`` is the exception's class name."""

    name: str
    message: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    run: int
    call: int
    binding: str
    args: str
    """JSON text of the argument."""


@dataclass(frozen=True, slots=True)
class Console:
    run: int
    entry: ConsoleEntry


@dataclass(frozen=True, slots=True)
class Result:
    run: int
    result: ExecutionResult


ToWorker = Init | Run | ToolResult
FromWorker = Ready | Failed | ToolCall | Console | Result


# Encoding ------------------------------------------------------------------------------------


def _line(message: dict[str, Any]) -> bytes:
    return (dumps({"v": WIRE_VERSION, **message}) + "\n").encode()


def payload(value: Any) -> str:
    """JSON text of a value for a payload field (``TypeError`` if it is not JSON)."""
    return dumps(value)


def encode(message: ToWorker | FromWorker) -> bytes:
    """One line of the wire."""
    match message:
        case Init(driver, options):
            return _line({"type": "init", "driver": driver, "options": options})
        case Run():
            return _line(
                {
                    "type": "run",
                    "run": message.run,
                    "code": message.code,
                    "limits": {
                        "timeout": message.timeout,
                        "memory_limit": message.memory_limit,
                        "max_tool_calls": message.max_tool_calls,
                        "max_log_bytes": message.max_log_bytes,
                        "max_result_bytes": message.max_result_bytes,
                    },
                    "bindings": [
                        [b.key, b.name, b.description, b.input_schema, b.output_schema]
                        for b in message.bindings
                    ],
                }
            )
        case ToolResult(run, call, ok, value):
            return _line(
                {"type": "tool_result", "run": run, "call": call, "ok": ok, "value": value}
            )
        case Ready(pid):
            return _line({"type": "ready", "pid": pid})
        case Failed(name, text):
            return _line({"type": "failed", "name": name, "message": text})
        case ToolCall(run, call, binding, args):
            return _line(
                {"type": "tool_call", "run": run, "call": call, "binding": binding, "args": args}
            )
        case Console(run, entry):
            return _line(
                {"type": "console", "run": run, "level": entry.level, "message": entry.message}
            )
        case Result(run, result):
            error = result.error
            return _line(
                {
                    "type": "result",
                    "run": run,
                    "success": result.success,
                    "value": payload(result.value) if result.success else None,
                    "error": None
                    if error is None
                    else [error.name, error.message, error.stack, error.line, error.column],
                    "logs": result.logs,
                    "tool_calls": result.tool_calls,
                    "tool_result_bytes": result.tool_result_bytes,
                }
            )
    raise TypeError(f"not a wire message: {message!r}")  # pragma: no cover


# Decoding ------------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Fields:
    """Typed access to one decoded message: a missing or mistyped field is a ``WireError``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def _get(self, key: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
        value = self._data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise WireError(f"field {key!r} is {_short(value)}")
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, int)
        return value

    def opt_integer(self, key: str) -> int | None:
        value: int | None = self._get(key, int, optional=True)
        return value

    def text(self, key: str) -> str:
        value: str = self._get(key, str)
        return value

    def boolean(self, key: str) -> bool:
        value: bool = self._get(key, bool)
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(key, dict)
        return value

    def items(self, key: str) -> list[Any]:
        value: list[Any] = self._get(key, list)
        return value


def _open(line: bytes) -> tuple[str, _Fields]:
    try:
        data = loads(line)
    except ProtocolError as exc:
        raise WireError(str(exc)) from None
    if not isinstance(data, dict):
        raise WireError(f"a message is not a JSON object: {_short(data)}")
    if data.get("v") != WIRE_VERSION:
        raise WireError(f"wire version {_short(data.get('v'))}; this side speaks {WIRE_VERSION}")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise WireError(f"a message has no type: {_short(kind)}")
    return kind, _Fields(data)


def _binding(item: Any) -> BindingSpec:
    if not (isinstance(item, list) and len(item) == 5):
        raise WireError(f"a binding is not [key, name, description, input, output]: {_short(item)}")
    key, name, description, input_schema, output_schema = item
    if not (isinstance(key, str) and isinstance(name, str) and isinstance(description, str)):
        raise WireError(f"a binding has no key, name or description: {_short(item)}")
    if not isinstance(input_schema, dict) or not isinstance(output_schema, dict | None):
        raise WireError(f"a binding's schemas are not objects: {_short(item)}")
    return BindingSpec(key, name, description, input_schema, output_schema)


def decode_from_host(line: bytes) -> ToWorker:
    kind, f = _open(line)
    if kind == "init":
        return Init(f.text("driver"), f.mapping("options"))
    if kind == "run":
        limits = _Fields(f.mapping("limits"))
        return Run(
            run=f.integer("run"),
            code=f.text("code"),
            timeout=limits.integer("timeout"),
            memory_limit=limits.integer("memory_limit"),
            max_tool_calls=limits.integer("max_tool_calls"),
            max_log_bytes=limits.integer("max_log_bytes"),
            max_result_bytes=limits.integer("max_result_bytes"),
            bindings=tuple(map(_binding, f.items("bindings"))),
        )
    if kind == "tool_result":
        return ToolResult(f.integer("run"), f.integer("call"), f.boolean("ok"), f.text("value"))
    raise WireError(f"unknown message type from the host: {_short(kind)}")


def _error(item: Any) -> NormalizedError:
    if not (isinstance(item, list) and len(item) == 5):
        raise WireError(f"an error is not [name, message, stack, line, column]: {_short(item)}")
    name, message, stack, line, column = item
    if not isinstance(name, str) or not isinstance(message, str):
        raise WireError(f"an error has no name or message: {_short(item)}")
    if not isinstance(stack, str | None):
        raise WireError(f"an error stack is not text: {_short(stack)}")
    for position in (line, column):
        if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
            raise WireError(f"an error position is not an integer: {_short(position)}")
    return NormalizedError(name, message, stack, line, column)


def decode_value(text: str) -> Any:
    """A payload field's value (``WireError`` if it is not JSON)."""
    try:
        return loads(text)
    except ProtocolError as exc:
        raise WireError(str(exc)) from None


def decode_from_worker(line: bytes) -> FromWorker:
    kind, f = _open(line)
    if kind == "ready":
        return Ready(f.integer("pid"))
    if kind == "failed":
        return Failed(f.text("name"), f.text("message"))
    if kind == "tool_call":
        return ToolCall(f.integer("run"), f.integer("call"), f.text("binding"), f.text("args"))
    if kind == "console":
        level = f.text("level")
        if level not in _LEVELS:
            raise WireError(f"unknown console level {_short(level)}")
        console_level: ConsoleLevel = level  # type: ignore[assignment]  # checked just above
        return Console(f.integer("run"), ConsoleEntry(console_level, f.text("message")))
    if kind == "result":
        success = f.boolean("success")
        logs = f.items("logs")
        if not all(isinstance(line, str) for line in logs):
            raise WireError("a result's logs are not all text")
        value_text = f._get("value", str, optional=True)
        raw_error = f._data.get("error")
        error = None if raw_error is None else _error(raw_error)
        if success == (error is not None):
            raise WireError("a result must carry an error exactly when it failed")
        return Result(
            f.integer("run"),
            ExecutionResult(
                success=success,
                value=decode_value(value_text) if value_text is not None else None,
                error=error,
                logs=logs,
                tool_calls=f.integer("tool_calls"),
                tool_result_bytes=f.integer("tool_result_bytes"),
            ),
        )
    raise WireError(f"unknown message type from a worker: {_short(kind)}")
