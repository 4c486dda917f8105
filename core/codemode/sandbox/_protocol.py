"""The turn protocol between the prelude (in the sandbox) and the host loop, version 1.

Every message is JSON text with a version field. The prelude answers each engine call with a
``Turn``; the host answers a waiting turn with a delivery of tool results. Both are decoded
and checked here, so that whatever arrives (from an engine thread today, from a Worker or a
worker process over a wire later) is either a well-typed message or a ``ProtocolError``,
never a ``KeyError`` in the host loop. The format is documented in ``docs/protocol.md``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson

from codemode.isolate import ConsoleEntry, ConsoleLevel

PROTOCOL_VERSION: Final = 1

TurnState = Literal["waiting", "returned", "failed"]
_STATES: Final[frozenset[str]] = frozenset({"waiting", "returned", "failed"})
_LEVELS: Final[frozenset[str]] = frozenset({"log", "info", "warn", "error"})
# orjson's nesting limit, and so the deepest value that can leave the sandbox.
MAX_DEPTH: Final = 1024


class ProtocolError(Exception):
    """A message on the turn protocol is not what version 1 allows (a broken or tampered
    sandbox, or a driver bug): the run ends with a ``DriverError`` result."""


class TooDeepError(ProtocolError):
    """A value in the message is nested deeper than ``MAX_DEPTH``."""


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """One ``external_<name>(args)`` call the program made."""

    id: int
    function: str
    """The binding name, ``external_<name>``."""
    args: Any


@dataclass(frozen=True, slots=True)
class ProgramFailure:
    """How the program ended when it failed, as the sandbox described it."""

    name: str
    message: str
    stack: str | None = None
    limit: bool = False
    """Raised by the sandbox itself for a bound (tool calls, console, result size): no frames."""


@dataclass(frozen=True, slots=True)
class Turn:
    """What one engine call produced: the program waits on tools, returned, or failed."""

    state: TurnState
    requests: tuple[ToolRequest, ...] = ()
    logs: tuple[ConsoleEntry, ...] = ()
    value: Any = None
    failure: ProgramFailure | None = None
    out_of_memory: bool = False
    """The engine reported running out of memory at some point, even if the program caught
    it (QuickJS turns it into a catchable error): the run ends with ``MemoryLimitError``."""
    size: int = 0
    """Length of the message's text, for the host's own size bounds."""


# Turns and requests are decoded once per tool call: they are made through their slots'
# setters, which costs a tenth of what a frozen dataclass's ``__init__`` does (it calls
# ``object.__setattr__`` by name for every field). Every field is set, as ``__init__`` would
# (a test checks the fields are these).
_new = object.__new__
_set_request_id, _set_request_function, _set_request_args = (
    vars(ToolRequest)[name].__set__ for name in ("id", "function", "args")
)
(
    _set_turn_state,
    _set_turn_requests,
    _set_turn_logs,
    _set_turn_value,
    _set_turn_failure,
    _set_turn_out_of_memory,
    _set_turn_size,
) = (
    vars(Turn)[name].__set__
    for name in ("state", "requests", "logs", "value", "failure", "out_of_memory", "size")
)


_SURROGATE_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _repair_surrogates(text: str) -> str:
    """``text`` with every JSON escape of a lone UTF-16 surrogate made ``\\ufffd``.

    JSON.stringify writes lone surrogates as ``\\udXXX`` escapes (and valid pairs as raw
    characters), which orjson refuses; only such a failed message is repaired, so the usual
    path costs nothing. An escape preceded by an escaped backslash is not an escape.
    """
    escapes = [m for m in _SURROGATE_ESCAPE.finditer(text) if len(m.group(1)) % 2 == 1]
    out: list[str] = []
    last = index = 0
    while index < len(escapes):
        escape = escapes[index]
        if int(escape.group(2), 16) <= 0xDBFF and index + 1 < len(escapes):
            low = escapes[index + 1]
            if (
                low.start() == escape.end()
                and len(low.group(1)) == 1
                and int(low.group(2), 16) >= 0xDC00
            ):
                index += 2  # a valid pair written as two escapes
                continue
        out.append(text[last : escape.end() - 6])
        out.append("\\ufffd")
        last = escape.end()
        index += 1
    out.append(text[last:])
    return "".join(out)


def loads(text: str | bytes) -> Any:
    """JSON text from the sandbox as Python data; lone surrogates become U+FFFD.

    Raises ``TooDeepError`` past ``MAX_DEPTH`` levels and ``ProtocolError`` on anything that
    is not JSON.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        # "depth limit exceeded" (orjson 3.11), "recursion depth exceeded" (3.10).
        if "depth" in reason:
            raise TooDeepError(reason) from None
        if "surrogate" not in reason:
            raise ProtocolError(f"the sandbox sent text that is not JSON: {reason}") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return orjson.loads(_repair_surrogates(text))
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"the sandbox sent text that is not JSON: {exc}") from None


def _well_formed_str(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def well_formed(value: Any, depth: int = 0) -> Any:
    """``value`` (JSON-like data) with every lone surrogate in its strings, keys included,
    replaced by U+FFFD, so that it can be written as UTF-8."""
    if isinstance(value, str):
        return _well_formed_str(value)
    if depth > MAX_DEPTH:
        raise TooDeepError(f"nested more than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {
            _well_formed_str(k) if isinstance(k, str) else k: well_formed(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [well_formed(item, depth + 1) for item in value]
    return value


def dumps(value: Any) -> str:
    """JSON text of host data for the sandbox. Lone surrogates in strings become U+FFFD;
    anything else that is not JSON raises ``TypeError``."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        if "surrogates" not in str(exc):
            raise TypeError(str(exc)) from None
    try:
        return orjson.dumps(well_formed(value), option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TooDeepError) as exc:
        raise TypeError(str(exc)) from None


def _fail(what: str) -> ProtocolError:
    return ProtocolError(f"malformed turn from the sandbox: {what}")


def _request(item: Any) -> ToolRequest:
    if not (isinstance(item, list) and len(item) == 3):
        raise _fail(f"a request is not [id, function, args]: {_short(item)}")
    call_id, function, args = item
    if not (isinstance(call_id, int) and not isinstance(call_id, bool) and call_id > 0):
        raise _fail(f"a request id is not a positive integer: {_short(call_id)}")
    if not isinstance(function, str):
        raise _fail(f"a request names no function: {_short(function)}")
    request = _new(ToolRequest)
    _set_request_id(request, call_id)
    _set_request_function(request, function)
    _set_request_args(request, args)
    return request


def _log(item: Any) -> ConsoleEntry:
    if not (isinstance(item, list) and len(item) == 2):
        raise _fail(f"a console line is not [level, message]: {_short(item)}")
    level, message = item
    if level not in _LEVELS or not isinstance(message, str):
        raise _fail(f"a console line has level {_short(level)} and message {_short(message)}")
    entry_level: ConsoleLevel = level
    return ConsoleEntry(entry_level, message)


def _failure(data: Any) -> ProgramFailure:
    if not isinstance(data, dict):
        raise _fail("a failed turn has no error object")
    name, message, stack = data.get("name"), data.get("message"), data.get("stack")
    if not isinstance(name, str) or not isinstance(message, str):
        raise _fail("the error of a failed turn has no name or message")
    if stack is not None and not isinstance(stack, str):
        raise _fail("the error stack of a failed turn is not text")
    return ProgramFailure(
        name=name,
        message=message,
        stack=stack,
        limit=data.get("limit") is True,
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def decode_turn(text: str) -> Turn:
    """Decode and check one turn; ``ProtocolError`` (or ``TooDeepError``) if it is not one."""
    if not isinstance(text, str):
        raise _fail(f"expected JSON text, got {type(text).__name__}")
    data = loads(text)
    if not isinstance(data, dict):
        raise _fail("the message is not a JSON object")
    version = data.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"the sandbox speaks turn protocol {version!r}; this host speaks {PROTOCOL_VERSION}"
        )
    state = data.get("state")
    if state not in _STATES:
        raise _fail(f"unknown state {_short(state)}")
    requests, logs = data.get("requests"), data.get("logs")
    if not isinstance(requests, list) or not isinstance(logs, list):
        raise _fail("requests and logs must be lists")
    turn = _new(Turn)
    _set_turn_state(turn, state)
    _set_turn_requests(turn, tuple(map(_request, requests)) if state == "waiting" else ())
    _set_turn_logs(turn, tuple(map(_log, logs)) if logs else ())
    _set_turn_value(turn, data.get("value"))
    _set_turn_failure(turn, _failure(data.get("error")) if state == "failed" else None)
    _set_turn_out_of_memory(turn, data.get("outOfMemory") is True)
    _set_turn_size(turn, len(text))
    return turn


def encode_result(call_id: int, ok: bool, value: Any, function: str) -> str:
    """One delivered result, ``[id, ok, value]``; a value that is not JSON becomes a failed
    result carrying a ``SerializationError``."""
    try:
        return dumps([call_id, ok, value])
    except TypeError as exc:
        error = {
            "name": "SerializationError",
            "message": f"the result of {function} cannot be sent into the sandbox as JSON: {exc}",
        }
        return dumps([call_id, False, error])


def encode_delivery(results: list[str]) -> str:
    """The host's answer to a waiting turn: ``{"v": 1, "results": [...]}`` of
    ``encode_result`` items."""
    return '{"v":1,"results":[' + ",".join(results) + "]}"


def install_message(
    bindings: list[str], max_tool_calls: int, max_log_chars: int, max_result_chars: int
) -> str:
    """The JSON the prelude's install function takes (it refuses another protocol)."""
    return json.dumps(
        {
            "protocol": PROTOCOL_VERSION,
            "bindings": sorted(bindings),
            "maxToolCalls": max_tool_calls,
            "maxLogChars": max_log_chars,
            "maxResultChars": max_result_chars,
        }
    )
