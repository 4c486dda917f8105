"""A kit for host-driven isolate drivers: the in-sandbox prelude and the host loop.

A driver for a new engine implements ``EngineSession`` (start, resume, close, all on one
thread) on top of ``PRELUDE`` and wraps it in a ``ThreadedEngine``; or, for an engine that
already runs on a thread of its own and can be driven asynchronously, implements ``Engine``
directly (serving inline tool calls with ``serve_inline``). ``HostDrivenContext`` adds tool
dispatch, concurrency, deadlines, limits, console streaming and error normalization.
"""

from importlib.resources import files

from codemode.sandbox._errors import (
    PROGRAM_FILE,
    PROGRAM_PREFIX,
    Frame,
    check_driver_options,
    limit_error,
    normalize,
    program_frames,
    wrap_program,
)
from codemode.sandbox._runner import (
    Engine,
    EngineSession,
    EngineStop,
    HostDrivenContext,
    RunState,
    StopKind,
    ThreadedEngine,
    Turn,
    parse_turn,
    prelude_config,
    serve_inline,
)
from codemode.sandbox._thread import EnginePool, EngineThread, pool

PRELUDE: str = files(__package__).joinpath("prelude.js").read_text(encoding="utf-8")
"""JavaScript that evaluates to ``install(configJson) -> api(operation, argument)``."""

__all__ = [
    "PRELUDE",
    "PROGRAM_FILE",
    "PROGRAM_PREFIX",
    "Engine",
    "EnginePool",
    "EngineSession",
    "EngineStop",
    "EngineThread",
    "Frame",
    "HostDrivenContext",
    "RunState",
    "StopKind",
    "ThreadedEngine",
    "Turn",
    "check_driver_options",
    "limit_error",
    "normalize",
    "parse_turn",
    "pool",
    "prelude_config",
    "program_frames",
    "serve_inline",
    "wrap_program",
]
