"""One V8 context running codemode's prelude: the ``EngineSession`` of the V8 driver.

V8 runs on mini-racer's own thread; the session's methods run on the context's engine thread
(``codemode.sandbox.EngineThread``) and block it, never the event loop, while V8 works. Each
turn posts two scripts at once: the first starts the program or delivers tool results, then
the engine runs every microtask (the program's continuations), then the second collects the
turn. Only the second's result is waited for; a failure of the first is kept until then.

At the deadline the isolate is freed, which terminates whatever runs, a script or a microtask
(``mr_cancel_task`` cannot stop microtasks). Out of memory, V8 terminates the program itself
and the session reports it from mini-racer's sticky flag.
"""

from __future__ import annotations

import json
import queue
import re
import secrets
import weakref
from importlib.resources import files
from typing import Final

from codemode.sandbox import PRELUDE, EngineStop
from codemode_node_v8._native import (
    OOM_EXCEPTION,
    PARSE_EXCEPTION,
    STRING,
    TERMINATED_EXCEPTION,
    NativeContext,
)

SETUP: Final = files(__package__).joinpath("setup.js").read_text(encoding="utf-8")
"""The driver's own in-sandbox code: removes host hooks, returns the program starter."""

_DISCARD: Final = 1  # callback id of scripts whose result only matters if it is an error
_HEAD = re.compile(r"^<anonymous>:(?P<line>\d+): (?P<name>[A-Za-z_$][\w$]*): (?P<message>.*)$")
_Reply = tuple[int, int, str | None]
# V8 names a method frame "at Object.__cm_start [as start] (...)"; the kit drops prelude frames
# by a leading "__cm_" only.
_METHOD_FRAME = re.compile(r"(\s+at (?:async )?)[\w$.]+\.(__cm_[\w$]+) \[as [\w$]+\]")


class _Replies:
    """Receives results on the isolate's thread. Kept apart from the session so that the
    native context, which holds this, does not keep the session alive."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[_Reply] = queue.SimpleQueue()
        self.failure: tuple[int, str | None] | None = None

    def __call__(self, callback_id: int, kind: int, text: str | None) -> None:
        if callback_id != _DISCARD:
            self.queue.put((callback_id, kind, text))
        elif kind >= 200 and self.failure is None:
            self.failure = (kind, text)


def _plain_prelude_frames(turn_json: str) -> str:
    """The turn with V8's method frames of the prelude named as the kit recognizes them."""
    turn = json.loads(turn_json)
    error = turn.get("error") or {}
    if isinstance(error.get("stack"), str):
        error["stack"] = _METHOD_FRAME.sub(r"\1\2", error["stack"])
    return json.dumps(turn)


def _engine_error(text: str) -> EngineStop:
    """An exception mini-racer reported for a script: ``<anonymous>:LINE: Name: message``,
    then the source line and a caret line under the position."""
    lines = text.split("\n")
    match = _HEAD.match(lines[0])
    if match is None:
        return EngineStop("error", "Error", lines[0])
    name, message = match["name"], match["message"]
    column = lines[2].find("^") + 1 if len(lines) > 2 and "^" in lines[2] else 1
    stack = f"{name}: {message}\n    at <anonymous>:{match['line']}:{column}"
    if name == "RangeError" and "call stack" in message:
        return EngineStop("stack", name, message, stack)
    return EngineStop("error", name, message, stack)


class V8Session:
    """The prelude's turn protocol on one new mini-racer context."""

    def __init__(self, config_json: str, memory_limit_bytes: int) -> None:
        self._replies = _Replies()
        self._native = native = NativeContext(self._replies)
        # Frees the isolate if the session is dropped undisposed, and at interpreter exit.
        self._free = weakref.finalize(self, native.free)
        native.set_memory_limit(memory_limit_bytes)
        # Names no program can guess: the host reaches its functions through lexical
        # bindings, which are not properties of globalThis.
        token = secrets.token_hex(8)
        self._api = f"__cm_api_{token}"
        self._starter = f"__cm_go_{token}"
        self._collect = f"{self._api}('collect')"
        self._next_id = _DISCARD + 1
        # Not waited for: the first turn queues behind it, and reports it if it failed.
        native.post(
            f"const {self._api} = ({PRELUDE})({json.dumps(config_json)});\n"
            f"const {self._starter} = ({SETUP})({self._api});",
            _DISCARD,
        )

    def start(self, program: str, time_limit: float) -> str:
        """Start ``program`` (``wrap_program`` output), run it until it waits, collect."""
        return self._turn(f"{program} instanceof {self._starter}", time_limit)

    def resume(self, results_json: str, time_limit: float) -> str:
        """Deliver tool results, run the program until it waits again, collect."""
        return self._turn(f"{self._api}('deliver',{json.dumps(results_json)})", time_limit)

    def close(self) -> None:
        self._free()

    def _turn(self, script: str, time_limit: float) -> str:
        native = self._native
        if not native.alive:
            raise EngineStop("error", "Error", "this V8 context was closed")
        callback_id = self._next_id
        self._next_id += 1
        native.post(script, _DISCARD)
        native.post(self._collect, callback_id)
        try:
            while True:
                got, kind, text = self._replies.queue.get(timeout=time_limit)
                if got == callback_id:
                    break
        except queue.Empty:
            self._free()
            raise EngineStop("timeout") from None
        failure, self._replies.failure = self._replies.failure, None
        if failure is not None:
            kind, text = failure
        if kind == OOM_EXCEPTION or native.memory_limit_reached():
            self._free()
            raise EngineStop("memory")
        if kind == STRING and text is not None:
            # Only the turn that ends a failed program carries a stack.
            return _plain_prelude_frames(text) if text.startswith('{"state":2') else text
        if kind == TERMINATED_EXCEPTION:
            self._free()
            raise EngineStop("timeout")
        if kind == PARSE_EXCEPTION or text:
            raise _engine_error(text or "")
        raise EngineStop("error", "Error", f"the V8 engine returned an unexpected value ({kind})")
