"""Workers that are not ours, for the error cases and replay mode.

``tanstack_worker`` is a minimal re-implementation of TanStack AI's Cloudflare Worker protocol
(its ``wrap-code.ts``: tool wrappers that throw once a result is missing, sequential ``tc_<n>``
ids, ``need_tools`` / ``done`` / ``error``), running programs in QuickJS instead of a child
isolate. ``garbage_socket`` speaks WebSocket but not codemode's protocol; ``http_app`` answers
every request with what a test chose.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.server import ServerConnection, serve

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_WRAPPER = """
(async function() {
  let __toolCallIdx = 0;
  const __pendingToolCalls = [];
  const __toolResults = %(results)s;
  const __logs = [];
  class __ToolCallNeeded extends Error {
    constructor(callId) { super('Tool call needed: ' + callId); this.callId = callId; }
  }
  const __fmt = (args) => args.map(a => typeof a === 'object' ? JSON.stringify(a) : String(a)).join(' ');
  const console = {
    log: (...args) => __logs.push(__fmt(args)),
    error: (...args) => __logs.push('ERROR: ' + __fmt(args)),
    warn: (...args) => __logs.push('WARN: ' + __fmt(args)),
    info: (...args) => __logs.push('INFO: ' + __fmt(args)),
  };
  %(wrappers)s
  try {
    const __userResult = await (async function() {
%(code)s
    })();
    return { status: 'done', success: true, value: __userResult, logs: __logs };
  } catch (__error) {
    if (__error instanceof __ToolCallNeeded) {
      return { status: 'need_tools', toolCalls: __pendingToolCalls, logs: __logs };
    }
    return { status: 'done', success: false,
             error: { name: __error.name || 'Error', message: __error.message || String(__error), stack: __error.stack },
             logs: __logs };
  }
})()
"""

_TOOL = """
async function %(name)s(input) {
  const callId = 'tc_' + (__toolCallIdx++);
  const result = __toolResults[callId];
  if (!result) {
    __pendingToolCalls.push({ id: callId, name: '%(name)s', args: input });
    throw new __ToolCallNeeded(callId);
  }
  if (!result.success) throw new Error(result.error || 'Tool call failed');
  return result.value;
}
"""


def run_tanstack_round(body: dict[str, Any]) -> dict[str, Any]:
    """One request of TanStack AI's protocol, answered as its Worker would."""
    import quickjs

    results = body.get("toolResults") or {}
    wrappers = "\n".join(_TOOL % {"name": tool["name"]} for tool in body["tools"])
    source = _WRAPPER % {"results": json.dumps(results), "wrappers": wrappers, "code": body["code"]}
    context = quickjs.Context()
    context.set_time_limit(5)
    context.eval("globalThis.__out = null")
    context.eval(f"({source}).then(r => {{ globalThis.__out = JSON.stringify(r); }})")
    while context.execute_pending_job():
        pass
    out = context.eval("__out")
    answer: dict[str, Any] = json.loads(out)
    if answer["status"] == "need_tools":
        answer["continuationId"] = f"c{len(results)}"
    return answer


@dataclass
class Recorded:
    """What an HTTP fake received."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _answer(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def tanstack_app(recorded: Recorded) -> Callable[..., Awaitable[None]]:
    """An ASGI app speaking TanStack AI's Worker protocol."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = json.loads(await _read_body(receive))
        recorded.bodies.append(body)
        recorded.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        answer = await asyncio.to_thread(run_tanstack_round, body)
        await _answer(send, 200, json.dumps(answer))

    return app


def http_app(status: int, text: str, delay: float = 0.0) -> Callable[..., Awaitable[None]]:
    """An ASGI app answering every request with ``status`` and ``text`` after ``delay``."""

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await _read_body(receive)
        await asyncio.sleep(delay)
        await _answer(send, status, text)

    return app


@contextmanager
def socket_server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    """A WebSocket server on loopback, in a thread; yields its http:// base URL."""
    server = serve(handler, "127.0.0.1", 0, close_timeout=0.2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.socket.getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)


def garbage_socket(messages: list[str]) -> Callable[[ServerConnection], None]:
    """A handler that sends ``messages`` once the host has sent its first message."""

    def handler(connection: ServerConnection) -> None:
        try:
            connection.recv(timeout=5)
            for message in messages:
                connection.send(message)
            connection.recv(timeout=1)
        except Exception:  # the host closes the connection: the test is over
            return

    return handler
