"""Replay mode: TanStack AI's request/response protocol, so a Worker deployed for TanStack AI
serves Python hosts too.

Each round posts ``{code, tools, toolResults, timeout}``; the Worker runs the program from the
start with the results it is given and answers ``{status: "need_tools", toolCalls, logs,
continuationId}`` when it needs more, ``{status: "done", success, value | error, logs}`` or
``{status: "error", error}``. This engine keeps every result of every round (a replay needs
them all again), asks for a tool call once even when replays ask again, reports each console
line once (a replay repeats the lines of the rounds before), and stops after
``max_tool_rounds`` posts. Answers are checked on receipt; whatever is not the protocol is a
``WorkerProtocolError``.
"""

from __future__ import annotations

from typing import Any, Final

import httpx
import orjson

from codemode.errors import ErrorName
from codemode.isolate import ConsoleEntry, ConsoleLevel, IsolateConfig
from codemode.sandbox import (
    PROGRAM_PREFIX,
    EngineStop,
    ProgramFailure,
    ProtocolError,
    RunState,
    TooDeepError,
    ToolRequest,
    Turn,
    limit_stop,
    prelude_config,
)
from codemode.sandbox._protocol import loads
from codemode_cloudflare._remote import (
    RemoteEngine,
    Retry,
    garbage,
    http_refusal,
    unavailable,
)

_PROGRAM_SUFFIX: Final = "\n})"
# The prefixes our Worker writes ("[warn] x") and TanStack AI's ("WARN: x").
_LEVELS: Final[tuple[tuple[str, ConsoleLevel], ...]] = (
    ("[info] ", "info"),
    ("[warn] ", "warn"),
    ("[error] ", "error"),
    ("INFO: ", "info"),
    ("WARN: ", "warn"),
    ("ERROR: ", "error"),
)


def _entry(line: str) -> ConsoleEntry:
    for prefix, level in _LEVELS:
        if line.startswith(prefix):
            return ConsoleEntry(level, line[len(prefix) :])
    return ConsoleEntry("log", line)


def _unwrap(program: str) -> str:
    """The model's code from the host loop's wrapped program (the Worker wraps it itself)."""
    if program.startswith(PROGRAM_PREFIX) and program.endswith(_PROGRAM_SUFFIX):
        return program[len(PROGRAM_PREFIX) : -len(_PROGRAM_SUFFIX)]
    return program


class ReplayEngine(RemoteEngine):
    """One execution as rounds of posts to a replay-protocol Worker."""

    def __init__(
        self,
        worker_url: str,
        authorization: str | None,
        config: IsolateConfig,
        max_tool_rounds: int,
    ) -> None:
        self._url = worker_url
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        self._client = httpx.AsyncClient(headers=headers)
        self._tools = [
            {"name": key, "description": binding.description, "inputSchema": binding.input_schema}
            for key, binding in config.bindings.items()
        ]
        # Our own Worker reads the prelude's bounds from here; TanStack AI's ignores it.
        self._extension = {"wire": 1, "config": prelude_config(config)}
        self._max_rounds = max_tool_rounds
        self._rounds = 0
        self._code = ""
        self._results: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, int] = {}  # the Worker's call id -> the host loop's
        self._keys: dict[int, str] = {}
        self._outstanding: set[int] = set()
        self._logs_seen = 0
        super().__init__()

    async def start(self, program: str, run: RunState) -> Turn:
        self._code = _unwrap(program)
        return await self._guard.guard(self._round(run))

    async def resume(self, delivery: str, run: RunState) -> Turn:
        for call_id, ok, value in orjson.loads(delivery)["results"]:
            key = self._keys[call_id]
            self._outstanding.discard(call_id)
            if ok:
                self._results[key] = {"success": True, "value": value}
            else:
                self._results[key] = {
                    "success": False,
                    "error": value["message"],
                    "name": value["name"],
                }
        if self._outstanding:
            # The program cannot get further before the other results: no round yet.
            return Turn(state="waiting")
        return await self._guard.guard(self._round(run))

    async def close(self) -> None:
        self._guard.close()
        await self._client.aclose()

    async def _round(self, run: RunState) -> Turn:
        self._rounds += 1
        if self._rounds > self._max_rounds:
            raise limit_stop(
                ErrorName.TOOL_CALL_LIMIT,
                f"the program needed more than max_tool_rounds={self._max_rounds} rounds of"
                " tool calls (replay mode re-runs it once per round); make independent calls"
                " together with Promise.all, or use the connected protocol",
            )
        text = await self._post(run)
        return self._turn(text)

    async def _post(self, run: RunState) -> str:
        retry = Retry(self._url, run.deadline)
        while True:
            remaining = run.remaining()
            body = {
                "code": self._code,
                "tools": self._tools,
                "toolResults": self._results,
                "timeout": max(1, int(remaining * 1000)),
                "codemode": self._extension,
            }
            try:
                response = await self._client.post(
                    self._url, content=orjson.dumps(body), timeout=remaining + 1
                )
            except httpx.TimeoutException:
                raise EngineStop("timeout") from None
            except (
                httpx.ConnectError,
                httpx.ReadError,
                httpx.WriteError,
                httpx.RemoteProtocolError,
            ) as exc:
                # No answer at all; the program has no side effects of its own (tools run on
                # the host, it has no network), so posting again is safe.
                await retry.wait(f"{type(exc).__name__}: {exc}")
                continue
            except httpx.HTTPError as exc:
                raise unavailable(
                    f"the request to the Worker at {self._url} failed: {type(exc).__name__}: {exc}"
                ) from None
            if response.status_code != 200:
                raise http_refusal(self._url, response.status_code, response.text)
            return response.text

    def _new_logs(self, logs: Any) -> tuple[ConsoleEntry, ...]:
        if not isinstance(logs, list) or not all(isinstance(line, str) for line in logs):
            raise garbage(f"the Worker at {self._url} sent logs that are not a list of strings")
        # A replay writes the lines of the rounds before again, first.
        fresh = logs[self._logs_seen :]
        self._logs_seen = max(self._logs_seen, len(logs))
        return tuple(map(_entry, fresh))

    def _turn(self, text: str) -> Turn:
        try:
            # Lone surrogates (JSON.stringify writes them as escapes) become U+FFFD; a value
            # nested too deep is the host loop's SerializationError.
            data = loads(text)
        except TooDeepError:
            raise
        except ProtocolError:
            raise garbage(
                f"the Worker at {self._url} answered with text that is not JSON: {text[:200]!r}"
            ) from None
        if not isinstance(data, dict):
            raise garbage(f"the Worker at {self._url} answered {text[:200]!r}")
        status = data.get("status")
        if status == "need_tools":
            return self._need_tools(data)
        if status == "done":
            logs = self._new_logs(data.get("logs", []))
            if data.get("success") is True:
                return Turn(state="returned", logs=logs, value=data.get("value"), size=len(text))
            return Turn(state="failed", logs=logs, failure=self._failure(data.get("error")))
        if status == "error":
            error = data.get("error")
            failure = self._failure(error)
            if failure.name == ErrorName.TIMEOUT:
                raise EngineStop("timeout")
            raise limit_stop(failure.name, failure.message)
        raise garbage(f"the Worker at {self._url} answered an unknown status: {text[:200]!r}")

    def _need_tools(self, data: dict[str, Any]) -> Turn:
        calls = data.get("toolCalls")
        if not isinstance(calls, list) or not calls:
            raise garbage(f"the Worker at {self._url} asked for tools but named none")
        requests = []
        for call in calls:
            if not (
                isinstance(call, dict)
                and isinstance(call.get("id"), str)
                and isinstance(call.get("name"), str)
            ):
                raise garbage(f"the Worker at {self._url} sent a malformed tool call: {call!r}")
            key = call["id"]
            if key in self._results:
                raise garbage(
                    f"the Worker at {self._url} asked again for tool call {key!r}, whose result"
                    " it was sent (is the program non-deterministic?)"
                )
            if key in self._ids:
                continue
            call_id = len(self._ids) + 1
            self._ids[key] = call_id
            self._keys[call_id] = key
            self._outstanding.add(call_id)
            requests.append(ToolRequest(call_id, call["name"], call.get("args")))
        if not requests:
            raise garbage(f"the Worker at {self._url} asked only for tool calls in flight")
        return Turn(
            state="waiting", requests=tuple(requests), logs=self._new_logs(data.get("logs", []))
        )

    def _failure(self, error: Any) -> ProgramFailure:
        if not isinstance(error, dict):
            raise garbage(f"the Worker at {self._url} reported an error without details")
        name, message, stack = error.get("name"), error.get("message"), error.get("stack")
        if not isinstance(name, str) or not isinstance(message, str):
            raise garbage(f"the Worker at {self._url} reported an error without name or message")
        return ProgramFailure(
            name=name,
            message=message,
            stack=stack if isinstance(stack, str) else None,
            limit=error.get("limit") is True,
        )
