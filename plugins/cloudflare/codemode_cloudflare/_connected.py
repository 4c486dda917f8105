"""Connected mode: one WebSocket per execution, each turn of the program over it.

The host sends ``start`` (the program and the prelude's config); the Worker answers with the
program's turns, and the host answers each waiting turn with a ``deliver`` of tool results,
until a turn says the program returned or failed. The program runs once, in one child
isolate, with its console lines arriving at every turn. Messages are version-1 JSON objects
(``docs/cloudflare.md``), checked on receipt.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from codemode.errors import ErrorName
from codemode.sandbox import (
    EngineStop,
    ProgramFailure,
    ProtocolError,
    RunState,
    TooDeepError,
    Turn,
    decode_turn,
    limit_stop,
)
from codemode_cloudflare._remote import (
    TRAITS,
    RemoteEngine,
    Retry,
    garbage,
    http_refusal,
    unavailable,
)

WIRE: Final = 1
"""Version of the connected-mode messages (the Worker's ``WIRE``)."""
MAX_MESSAGE_BYTES: Final = 32 * 1024 * 1024
"""workerd's own cap on one WebSocket message (the client's default is 1 MiB)."""
_TOO_BIG: Final = 1009


def connect_url(worker_url: str) -> str:
    base = worker_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + "/v1/connect"


class ConnectedEngine(RemoteEngine):
    """One execution's WebSocket to the Worker, as an ``Engine`` of the host loop."""

    def __init__(self, worker_url: str, authorization: str | None, config_json: str) -> None:
        self._url = connect_url(worker_url)
        self._headers = {"Authorization": authorization} if authorization else {}
        self._config_json = config_json
        self._socket: ClientConnection | None = None
        super().__init__()

    async def start(self, program: str, run: RunState) -> Turn:
        return await self._guard.guard(self._start(program, run))

    async def resume(self, delivery: str, run: RunState) -> Turn:
        return await self._guard.guard(self._exchange({"type": "deliver", "delivery": delivery}))

    async def close(self) -> None:
        self._guard.close()
        socket, self._socket = self._socket, None
        if socket is not None:
            # Closing the socket makes workerd cancel the child outright; no need to wait.
            socket.transport.abort()

    async def _start(self, program: str, run: RunState) -> Turn:
        socket = await self._open(run)
        self._socket = socket
        start = {"type": "start", "program": program, "config": self._config_json}
        return await self._exchange(start)

    async def _open(self, run: RunState) -> ClientConnection:
        retry = Retry(self._url, run.deadline)
        while True:
            try:
                return await connect(
                    self._url,
                    additional_headers=self._headers,
                    max_size=MAX_MESSAGE_BYTES,
                    open_timeout=run.remaining() + 1,
                    ping_interval=None,
                    compression=None,
                    user_agent_header="codemode-cloudflare",
                )
            except InvalidStatus as exc:
                response = exc.response
                body = response.body.decode("utf-8", "replace") if response.body else ""
                raise http_refusal(self._url, response.status_code, body) from None
            except (OSError, InvalidHandshake, EOFError) as exc:
                # Refused, reset, or closed before any answer: no program has started.
                await retry.wait(f"{type(exc).__name__}: {exc}")

    async def _exchange(self, message: dict[str, Any]) -> Turn:
        socket = self._socket
        if socket is None:
            raise EngineStop("closed")
        try:
            await socket.send(json.dumps({"v": WIRE, **message}))
            while True:
                turn = self._receive(await socket.recv())
                if turn is not None:
                    return turn
        except ConnectionClosed as exc:
            if self._guard.closed:
                raise EngineStop("closed") from None
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == _TOO_BIG:
                raise limit_stop(
                    ErrorName.OUTPUT_LIMIT,
                    "a message between the host and the Worker was over the Worker's limit of"
                    f" {MAX_MESSAGE_BYTES // (1024 * 1024)} MiB (a tool result too large?)",
                ) from None
            raise unavailable(
                f"the connection to the Worker at {self._url} was lost mid-execution"
                f" ({exc}); the program did not finish"
            ) from None
        except OSError as exc:
            raise unavailable(
                f"the connection to the Worker at {self._url} failed: {exc}"
            ) from None

    def _receive(self, data: str | bytes) -> Turn | None:
        """The turn in a message, or None for a message that carries none (``ready``)."""
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise garbage(f"the Worker at {self._url} sent a message that is not JSON") from None
        if not isinstance(message, dict) or message.get("v") != WIRE:
            raise garbage(
                f"the Worker at {self._url} does not speak version {WIRE} of codemode's"
                f" connected protocol: {str(message)[:200]}"
            )
        kind = message.get("type")
        if kind == "ready":
            return None
        if kind == "turn" and isinstance(message.get("turn"), str):
            try:
                return decode_turn(message["turn"])
            except TooDeepError:
                raise
            except ProtocolError as exc:
                raise garbage(str(exc)) from None
        if kind == "error":
            name, text, stack = message.get("name"), message.get("message"), message.get("stack")
            if not isinstance(name, str) or not isinstance(text, str):
                raise garbage(f"the Worker at {self._url} sent an error without name or message")
            stack = stack if isinstance(stack, str) else None
            if name.startswith("Worker"):
                raise limit_stop(name, text)
            stop = TRAITS.classify(ProgramFailure(name, text, stack)) or "error"
            raise EngineStop(stop, name, text, stack)
        raise garbage(f"the Worker at {self._url} sent an unexpected message: {str(message)[:200]}")
