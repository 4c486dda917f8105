"""A kit for host-driven isolate drivers: the in-sandbox prelude, the turn protocol and the
host loop.

A driver for a new engine implements ``EngineSession`` (start, resume, interrupt, close) on
top of ``PRELUDE`` and wraps it in a ``ThreadedEngine``; or, for an engine that already runs
on a thread of its own and can be driven asynchronously, implements ``Engine`` directly
(serving inline tool calls with ``serve_inline``). Subclassing ``HostDrivenDriver`` with a
``make_engine`` gives contexts with tool dispatch, concurrency, deadlines, the host's own
bounds, console streaming, error normalization, cancellation and ``aclose()``.
"""

from importlib.resources import files

from codemode.sandbox._context import HostDrivenContext, HostDrivenDriver, driver_error
from codemode.sandbox._engine import (
    Engine,
    EngineSession,
    EngineStop,
    EngineTraits,
    RunState,
    StopKind,
    ThreadedEngine,
    limit_stop,
    prelude_config,
    serve_inline,
)
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
from codemode.sandbox._execution import ENGINE_GRACE_S, Execution
from codemode.sandbox._limit import DEFAULT_MAX_CONCURRENCY, ConcurrencyLimit
from codemode.sandbox._protocol import (
    PROTOCOL_VERSION,
    ProgramFailure,
    ProtocolError,
    TooDeepError,
    ToolRequest,
    Turn,
    decode_turn,
    encode_delivery,
    encode_result,
)
from codemode.sandbox._scripts import compact, load
from codemode.sandbox._thread import EnginePool, EngineThread, pool

PRELUDE: str = load(files(__package__).joinpath("prelude.js"))
"""JavaScript that evaluates to ``install(config, outOfMemory?) -> api(operation, argument)``."""
GUARDS: str = load(files(__package__).joinpath("guards.js"))
"""JavaScript that evaluates to ``guards(FAST, SORT)``: run it after the prelude, before the
program (see the file): builtins that loop natively over a program-chosen length stop at the
deadline."""
GUARD_FAST = 2**20
"""Native steps a guarded builtin may run unchecked."""
GUARD_SORT = 2**14
"""Above this many elements, a default-order sort compares in JavaScript."""

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "ENGINE_GRACE_S",
    "GUARDS",
    "GUARD_FAST",
    "GUARD_SORT",
    "PRELUDE",
    "PROGRAM_FILE",
    "PROGRAM_PREFIX",
    "PROTOCOL_VERSION",
    "ConcurrencyLimit",
    "Engine",
    "EnginePool",
    "EngineSession",
    "EngineStop",
    "EngineThread",
    "EngineTraits",
    "Execution",
    "Frame",
    "HostDrivenContext",
    "HostDrivenDriver",
    "ProgramFailure",
    "ProtocolError",
    "RunState",
    "StopKind",
    "ThreadedEngine",
    "TooDeepError",
    "ToolRequest",
    "Turn",
    "check_driver_options",
    "compact",
    "decode_turn",
    "driver_error",
    "encode_delivery",
    "encode_result",
    "limit_error",
    "limit_stop",
    "load",
    "normalize",
    "pool",
    "prelude_config",
    "program_frames",
    "serve_inline",
    "wrap_program",
]
