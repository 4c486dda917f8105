"""A kit for host-driven isolate drivers: the in-sandbox prelude and the host loop.

A driver for a new engine implements ``EngineSession`` (start, resume, close, all on one
thread) on top of ``PRELUDE``, and gets tool dispatch, concurrency, deadlines, limits, console
streaming and error normalization from ``HostDrivenContext``. The QuickJS and V8 drivers are
built this way.
"""

from importlib.resources import files

from codemode.sandbox._errors import (
    PROGRAM_FILE,
    PROGRAM_PREFIX,
    Frame,
    limit_error,
    normalize,
    program_frames,
    wrap_program,
)
from codemode.sandbox._runner import (
    EngineSession,
    EngineStop,
    HostDrivenContext,
    StopKind,
    prelude_config,
)
from codemode.sandbox._thread import EnginePool, EngineThread, pool

PRELUDE: str = files(__package__).joinpath("prelude.js").read_text(encoding="utf-8")
"""JavaScript that evaluates to ``install(configJson) -> api(operation, argument)``."""

__all__ = [
    "PRELUDE",
    "PROGRAM_FILE",
    "PROGRAM_PREFIX",
    "EnginePool",
    "EngineSession",
    "EngineStop",
    "EngineThread",
    "Frame",
    "HostDrivenContext",
    "StopKind",
    "limit_error",
    "normalize",
    "pool",
    "prelude_config",
    "program_frames",
    "wrap_program",
]
