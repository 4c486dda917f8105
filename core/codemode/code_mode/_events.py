"""Names and payloads of the events code mode emits (camelCase, as TanStack AI clients expect)."""

from __future__ import annotations

import time
from typing import Any, Final

EXECUTION_STARTED: Final = "code_mode:execution_started"
CONSOLE: Final = "code_mode:console"
EXTERNAL_CALL: Final = "code_mode:external_call"
EXTERNAL_RESULT: Final = "code_mode:external_result"
EXTERNAL_ERROR: Final = "code_mode:external_error"
EXECUTION_FINISHED: Final = "code_mode:execution_finished"
SKILL_CALL: Final = "code_mode:skill_call"
SKILL_RESULT: Final = "code_mode:skill_result"
SKILL_ERROR: Final = "code_mode:skill_error"
SKILL_REGISTERED: Final = "skill:registered"


def timestamp() -> int:
    """Milliseconds since the epoch, as JavaScript's ``Date.now()``."""
    return time.time_ns() // 1_000_000


def duration_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), to 0.01 ms."""
    return round((time.perf_counter() - started) * 1000, 2)


def payload(**fields: Any) -> dict[str, Any]:
    return fields
