"""When the agent loop stops: ``max_iterations(n)``, or any callable of the same shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codemode.errors import ConfigError


@dataclass(frozen=True, slots=True)
class LoopState:
    """What a strategy sees before each model turn."""

    iteration: int
    """Model turns done so far in this run (0 before the first)."""
    tool_calls: int
    """Tool calls run so far in this run."""


AgentLoopStrategy = Callable[[LoopState], bool]
"""Called before each model turn: True to go on, False to stop the run there."""


@dataclass(frozen=True, slots=True)
class MaxIterations:
    """Go on while fewer than ``limit`` model turns were made."""

    limit: int

    def __call__(self, state: LoopState) -> bool:
        return state.iteration < self.limit


def max_iterations(limit: int = 15) -> MaxIterations:
    """At most ``limit`` model turns per run (the run then finishes with that reason)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"max_iterations: the limit must be an integer >= 1, got {limit!r}")
    return MaxIterations(limit)
