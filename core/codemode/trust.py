"""Trust levels for saved skills, earned through executions.

A skill starts at a strategy's initial level and climbs ``untrusted -> provisional -> trusted``
as its run count and success rate reach the strategy's thresholds. A strategy only ever
promotes, one step per call, so a new skill is watched for a while before it is fully trusted,
and a bad streak does not silently take trust away. Strategies are registered by name through
the ``codemode_trust_strategies`` hook: ``default``, ``relaxed``, ``always_trusted``, ``custom``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from codemode._pydantic_errors import describe_validation_error, dotted_path
from codemode.errors import ConfigError
from codemode.hookspecs import hookimpl

__all__ = [
    "AlwaysTrustedStrategy",
    "SkillStats",
    "ThresholdTrustStrategy",
    "TrustLevel",
    "TrustStrategy",
    "TrustThreshold",
    "create_always_trusted_strategy",
    "create_custom_trust_strategy",
    "create_default_trust_strategy",
    "create_relaxed_trust_strategy",
]

# Success rates are running averages (see ``SkillStats.record``), so 40 successes in 50 runs can
# come out as 0.7999999999999997; without this slack such a skill would miss a 0.80 threshold.
_RATE_TOLERANCE = 1e-9


class TrustLevel(enum.StrEnum):
    """How far a skill is trusted, from least to most."""

    UNTRUSTED = "untrusted"
    PROVISIONAL = "provisional"
    TRUSTED = "trusted"


# Both models also read camelCase (``successRate``) so JSON configs and stored stats may use
# either spelling. Fields are strict so that ``True`` is not taken as a count of 1.
_MODEL_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    loc_by_alias=False,
    allow_inf_nan=False,
    strict=True,
)


class SkillStats(BaseModel):
    """How often a skill ran and what fraction of those runs succeeded."""

    model_config = ConfigDict(**_MODEL_CONFIG, validate_assignment=True)

    executions: int = Field(default=0, ge=0)
    success_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    def record(self, success: bool) -> SkillStats:
        """These stats with one more run added; ``self`` is left unchanged."""
        runs = self.executions + 1
        rate = (self.success_rate * self.executions + (1 if success else 0)) / runs
        return self.model_copy(update={"executions": runs, "success_rate": rate})


class TrustThreshold(BaseModel):
    """The least run count and success rate (both inclusive) needed to reach a level."""

    # Forbidding extra keys turns a typo such as ``success-rate`` into an error, not a default.
    model_config = ConfigDict(**_MODEL_CONFIG, frozen=True, extra="forbid")

    executions: int = Field(ge=0)
    success_rate: float = Field(ge=0.0, le=1.0)

    def is_met_by(self, stats: SkillStats) -> bool:
        return (
            stats.executions >= self.executions
            and stats.success_rate >= self.success_rate - _RATE_TOLERANCE
        )


@runtime_checkable
class TrustStrategy(Protocol):
    """Decides a new skill's level and when an existing skill moves up."""

    def get_initial_trust_level(self) -> TrustLevel: ...

    def calculate_trust_level(self, current_level: TrustLevel, stats: SkillStats) -> TrustLevel: ...


_LEVELS = ", ".join(repr(level.value) for level in TrustLevel)


def _parse_level(argument: str, value: object) -> TrustLevel:
    if isinstance(value, str):
        try:
            return TrustLevel(value)
        except ValueError:
            pass
    raise ConfigError(f"{argument} must be one of {_LEVELS}, got {value!r}")


def _parse_threshold(argument: str, value: object) -> TrustThreshold:
    if isinstance(value, TrustThreshold):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{argument} must be a TrustThreshold or a dict with 'executions' and"
            f" 'success_rate', got {value!r}"
        )
    try:
        return TrustThreshold.model_validate(dict(value))
    except ValidationError as exc:
        # Located like an attribute (``provisional_threshold.success_rate``) since the caller
        # passed a Python argument; an unknown key keeps pydantic's wording, which is what
        # ``TrustThreshold(succes=1)`` itself raises.
        detail = describe_validation_error(exc, lambda loc: dotted_path(loc, argument))
        raise ConfigError(detail) from None


@dataclass(frozen=True, slots=True)
class ThresholdTrustStrategy:
    """Promotes one level per call once that level's threshold is met; never demotes."""

    initial_level: TrustLevel
    provisional: TrustThreshold
    trusted: TrustThreshold

    def __post_init__(self) -> None:
        # Here, not in the factory, so a directly built strategy is held to it as well.
        if self.trusted.executions < self.provisional.executions:
            raise ConfigError(
                f"trusted_threshold.executions ({self.trusted.executions}) is lower than"
                f" provisional_threshold.executions ({self.provisional.executions});"
                " trusted must require at least as many runs as provisional"
            )

    def __repr__(self) -> str:
        return (
            f"ThresholdTrustStrategy(initial_level={self.initial_level.value!r},"
            f" provisional={self.provisional!r}, trusted={self.trusted!r})"
        )

    def get_initial_trust_level(self) -> TrustLevel:
        return self.initial_level

    def calculate_trust_level(self, current_level: TrustLevel, stats: SkillStats) -> TrustLevel:
        level = _parse_level("current_level", current_level)
        if level is TrustLevel.UNTRUSTED and self.provisional.is_met_by(stats):
            return TrustLevel.PROVISIONAL
        if level is TrustLevel.PROVISIONAL and self.trusted.is_met_by(stats):
            return TrustLevel.TRUSTED
        return level


@dataclass(frozen=True, slots=True)
class AlwaysTrustedStrategy:
    """Every skill is trusted from its first save (for development and trusted authors)."""

    def get_initial_trust_level(self) -> TrustLevel:
        return TrustLevel.TRUSTED

    def calculate_trust_level(self, current_level: TrustLevel, stats: SkillStats) -> TrustLevel:
        return TrustLevel.TRUSTED


_DEFAULT_PROVISIONAL = TrustThreshold(executions=10, success_rate=0.90)
_DEFAULT_TRUSTED = TrustThreshold(executions=100, success_rate=0.95)


def create_default_trust_strategy() -> ThresholdTrustStrategy:
    """Provisional at 10 runs with 90% success, trusted at 100 runs with 95%."""
    return ThresholdTrustStrategy(TrustLevel.UNTRUSTED, _DEFAULT_PROVISIONAL, _DEFAULT_TRUSTED)


def create_relaxed_trust_strategy() -> ThresholdTrustStrategy:
    """Provisional at 3 runs with 80% success, trusted at 10 runs with 90%."""
    return ThresholdTrustStrategy(
        TrustLevel.UNTRUSTED,
        TrustThreshold(executions=3, success_rate=0.80),
        TrustThreshold(executions=10, success_rate=0.90),
    )


def create_always_trusted_strategy() -> AlwaysTrustedStrategy:
    """Every skill is trusted at once and stays trusted."""
    return AlwaysTrustedStrategy()


def create_custom_trust_strategy(
    initial_level: TrustLevel | str = TrustLevel.UNTRUSTED,
    provisional_threshold: TrustThreshold | Mapping[str, Any] = _DEFAULT_PROVISIONAL,
    trusted_threshold: TrustThreshold | Mapping[str, Any] = _DEFAULT_TRUSTED,
) -> ThresholdTrustStrategy:
    """A threshold strategy with your own levels; thresholds may be dicts (snake or camelCase).

    Raises ``ConfigError`` naming the argument for an unknown level, an out-of-range or missing
    threshold field, or a trusted threshold needing fewer runs than the provisional one.
    """
    return ThresholdTrustStrategy(
        _parse_level("initial_level", initial_level),
        _parse_threshold("provisional_threshold", provisional_threshold),
        _parse_threshold("trusted_threshold", trusted_threshold),
    )


@hookimpl
def codemode_trust_strategies() -> dict[str, Callable[..., TrustStrategy]]:
    return {
        "default": create_default_trust_strategy,
        "relaxed": create_relaxed_trust_strategy,
        "always_trusted": create_always_trusted_strategy,
        "custom": create_custom_trust_strategy,
    }
