from __future__ import annotations

import dataclasses
from typing import Any

import pydantic
import pytest

from codemode import trust
from codemode.errors import ConfigError
from codemode.plugins import create_plugin_manager, load_trust_strategy, use_plugin_manager
from codemode.trust import (
    AlwaysTrustedStrategy,
    SkillStats,
    ThresholdTrustStrategy,
    TrustLevel,
    TrustStrategy,
    TrustThreshold,
    create_always_trusted_strategy,
    create_custom_trust_strategy,
    create_default_trust_strategy,
    create_relaxed_trust_strategy,
)

U, P, T = TrustLevel.UNTRUSTED, TrustLevel.PROVISIONAL, TrustLevel.TRUSTED


def stats(executions: int, success_rate: float) -> SkillStats:
    return SkillStats(executions=executions, success_rate=success_rate)


def run(outcomes: list[bool]) -> SkillStats:
    result = SkillStats()
    for outcome in outcomes:
        result = result.record(outcome)
    return result


# --- TrustLevel -------------------------------------------------------------------------------


def test_trust_level_is_a_str_enum_with_the_three_values() -> None:
    assert [level.value for level in TrustLevel] == ["untrusted", "provisional", "trusted"]
    assert TrustLevel("trusted") is T
    assert T == "trusted"
    assert f"{P}" == "provisional"


# --- SkillStats -------------------------------------------------------------------------------


def test_skill_stats_start_at_zero() -> None:
    assert SkillStats() == stats(0, 0.0)


@pytest.mark.parametrize(
    ("before", "success", "after"),
    [
        (stats(0, 0.0), True, stats(1, 1.0)),
        (stats(0, 0.0), False, stats(1, 0.0)),
        (stats(1, 1.0), False, stats(2, 0.5)),
        (stats(3, 2 / 3), True, stats(4, 0.75)),
        (stats(4, 0.75), False, stats(5, 0.6)),
        (stats(9, 1.0), False, stats(10, 0.9)),
    ],
)
def test_record_updates_the_running_average(
    before: SkillStats, success: bool, after: SkillStats
) -> None:
    recorded = before.record(success)
    assert recorded.executions == after.executions
    assert recorded.success_rate == pytest.approx(after.success_rate)


def test_record_returns_new_stats_and_leaves_the_original_alone() -> None:
    before = stats(2, 0.5)
    after = before.record(True)
    assert after is not before
    assert before == stats(2, 0.5)


def test_a_sequence_of_records_matches_the_plain_ratio() -> None:
    outcomes = [True, False, True, True, False, True, True, True]
    result = run(outcomes)
    assert result.executions == 8
    assert result.success_rate == pytest.approx(6 / 8)


def test_skill_stats_read_camel_case() -> None:
    assert SkillStats.model_validate({"executions": 4, "successRate": 0.5}) == stats(4, 0.5)
    assert SkillStats.model_validate_json('{"executions": 4, "successRate": 1}') == stats(4, 1.0)


@pytest.mark.parametrize(
    "data",
    [
        {"executions": -1, "success_rate": 0.5},
        {"executions": 1, "success_rate": 1.01},
        {"executions": 1, "success_rate": -0.1},
        {"executions": 1, "success_rate": float("nan")},
        {"executions": True, "success_rate": 0.5},
    ],
)
def test_skill_stats_reject_out_of_range_values(data: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        SkillStats.model_validate(data)


def test_skill_stats_validate_assignment() -> None:
    recorded = stats(1, 1.0)
    with pytest.raises(pydantic.ValidationError):
        recorded.success_rate = 2.0


# --- TrustThreshold ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"executions": 5, "success_rate": 0.85},
        {"executions": 5, "successRate": 0.85},
    ],
)
def test_threshold_reads_snake_and_camel_case(data: dict[str, Any]) -> None:
    assert TrustThreshold.model_validate(data) == TrustThreshold(executions=5, success_rate=0.85)


def test_threshold_is_frozen() -> None:
    threshold = TrustThreshold(executions=5, success_rate=0.85)
    with pytest.raises(pydantic.ValidationError):
        threshold.executions = 6


# --- Default and relaxed strategies: boundaries ------------------------------------------------


@pytest.mark.parametrize(
    ("current", "executions", "success_rate", "expected"),
    [
        # untrusted -> provisional at 10 runs and 90%
        (U, 9, 1.0, U),
        (U, 10, 0.90, P),
        (U, 10, 0.899, U),
        (U, 11, 0.95, P),
        (U, 0, 0.0, U),
        # provisional -> trusted at 100 runs and 95%
        (P, 99, 1.0, P),
        (P, 100, 0.95, T),
        (P, 100, 0.949, P),
        (P, 500, 0.99, T),
    ],
)
def test_default_strategy_boundaries(
    current: TrustLevel, executions: int, success_rate: float, expected: TrustLevel
) -> None:
    strategy = create_default_trust_strategy()
    assert strategy.calculate_trust_level(current, stats(executions, success_rate)) is expected


@pytest.mark.parametrize(
    ("current", "executions", "success_rate", "expected"),
    [
        # untrusted -> provisional at 3 runs and 80%
        (U, 2, 1.0, U),
        (U, 3, 0.80, P),
        (U, 3, 0.799, U),
        # provisional -> trusted at 10 runs and 90%
        (P, 9, 1.0, P),
        (P, 10, 0.90, T),
        (P, 10, 0.899, P),
    ],
)
def test_relaxed_strategy_boundaries(
    current: TrustLevel, executions: int, success_rate: float, expected: TrustLevel
) -> None:
    strategy = create_relaxed_trust_strategy()
    assert strategy.calculate_trust_level(current, stats(executions, success_rate)) is expected


def test_recorded_runs_promote_at_exactly_the_threshold() -> None:
    strategy = create_default_trust_strategy()
    nine_perfect = run([True] * 9)
    assert strategy.calculate_trust_level(U, nine_perfect) is U
    assert strategy.calculate_trust_level(U, nine_perfect.record(False)) is P
    assert strategy.calculate_trust_level(U, run([False, False] + [True] * 8)) is U


def test_running_average_drift_does_not_block_an_exact_threshold() -> None:
    # 40 successes in 50 runs, in an order whose running average lands just under 0.8.
    failures = {0, 1, 13, 14, 15, 19, 21, 44, 47, 49}
    recorded = run([index not in failures for index in range(50)])
    assert recorded.success_rate < 0.8  # the drift this test is about
    strategy = create_custom_trust_strategy(
        provisional_threshold={"executions": 50, "success_rate": 0.8}
    )
    assert strategy.calculate_trust_level(U, recorded) is P


# --- Rules for every strategy ------------------------------------------------------------------

THRESHOLD_FACTORIES = [
    pytest.param(create_default_trust_strategy, id="default"),
    pytest.param(create_relaxed_trust_strategy, id="relaxed"),
    pytest.param(create_custom_trust_strategy, id="custom"),
]
# Thresholds of zero are met by any stats, so only the one-step rule holds back ``trusted``.
ZERO_THRESHOLDS = pytest.param(
    lambda: create_custom_trust_strategy(
        provisional_threshold={"executions": 0, "success_rate": 0.0},
        trusted_threshold={"executions": 0, "successRate": 0.0},
    ),
    id="custom-zero",
)


@pytest.mark.parametrize("factory", [*THRESHOLD_FACTORIES, ZERO_THRESHOLDS])
def test_untrusted_moves_one_step_per_call(factory: Any) -> None:
    strategy = factory()
    perfect = stats(10_000, 1.0)  # meets every trusted threshold
    assert strategy.calculate_trust_level(U, perfect) is P
    assert strategy.calculate_trust_level(P, perfect) is T


@pytest.mark.parametrize("factory", THRESHOLD_FACTORIES)
def test_threshold_strategies_start_untrusted(factory: Any) -> None:
    assert factory().get_initial_trust_level() is U


@pytest.mark.parametrize("factory", THRESHOLD_FACTORIES)
@pytest.mark.parametrize("current", [P, T])
@pytest.mark.parametrize("bad", [stats(0, 0.0), stats(10_000, 0.0), stats(1, 0.5)])
def test_levels_never_go_down(factory: Any, current: TrustLevel, bad: SkillStats) -> None:
    assert factory().calculate_trust_level(current, bad) is current


def test_trusted_stays_trusted_when_its_success_rate_drops() -> None:
    strategy = create_default_trust_strategy()
    level = strategy.calculate_trust_level(P, stats(100, 0.95))
    assert level is T
    assert strategy.calculate_trust_level(level, stats(200, 0.10)) is T


def test_current_level_may_be_given_as_a_string() -> None:
    strategy = create_default_trust_strategy()
    assert strategy.calculate_trust_level("untrusted", stats(10, 1.0)) is P  # type: ignore[arg-type]


def test_an_unknown_current_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="current_level"):
        create_default_trust_strategy().calculate_trust_level("banned", stats(10, 1.0))  # type: ignore[arg-type]


# --- Always trusted ---------------------------------------------------------------------------


@pytest.mark.parametrize("current", list(TrustLevel))
@pytest.mark.parametrize("observed", [stats(0, 0.0), stats(1000, 0.0), stats(5, 1.0)])
def test_always_trusted_is_always_trusted(current: TrustLevel, observed: SkillStats) -> None:
    strategy = create_always_trusted_strategy()
    assert strategy.get_initial_trust_level() is T
    assert strategy.calculate_trust_level(current, observed) is T


# --- Custom strategy --------------------------------------------------------------------------


def test_custom_defaults_equal_the_default_strategy() -> None:
    assert create_custom_trust_strategy() == create_default_trust_strategy()


@pytest.mark.parametrize(
    "provisional",
    [
        pytest.param(TrustThreshold(executions=5, success_rate=0.85), id="model"),
        pytest.param({"executions": 5, "success_rate": 0.85}, id="dict"),
        pytest.param({"executions": 5, "successRate": 0.85}, id="camel-dict"),
    ],
)
@pytest.mark.parametrize(
    "trusted_threshold",
    [
        pytest.param(TrustThreshold(executions=20, success_rate=0.9), id="model"),
        pytest.param({"executions": 20, "success_rate": 0.9}, id="dict"),
        pytest.param({"executions": 20, "successRate": 0.9}, id="camel-dict"),
    ],
)
def test_custom_thresholds(provisional: Any, trusted_threshold: Any) -> None:
    strategy = create_custom_trust_strategy(
        provisional_threshold=provisional, trusted_threshold=trusted_threshold
    )
    assert strategy.provisional == TrustThreshold(executions=5, success_rate=0.85)
    assert strategy.trusted == TrustThreshold(executions=20, success_rate=0.9)
    assert strategy.calculate_trust_level(U, stats(4, 1.0)) is U
    assert strategy.calculate_trust_level(U, stats(5, 0.849)) is U
    assert strategy.calculate_trust_level(U, stats(5, 0.85)) is P
    assert strategy.calculate_trust_level(P, stats(19, 1.0)) is P
    assert strategy.calculate_trust_level(P, stats(20, 0.899)) is P
    assert strategy.calculate_trust_level(P, stats(20, 0.9)) is T


@pytest.mark.parametrize(
    ("initial_level", "expected"),
    [("untrusted", U), ("provisional", P), ("trusted", T), (P, P), (T, T)],
)
def test_custom_initial_level_accepts_enum_or_string(
    initial_level: TrustLevel | str, expected: TrustLevel
) -> None:
    level = create_custom_trust_strategy(initial_level=initial_level).get_initial_trust_level()
    assert level is expected


def test_custom_trusted_may_equal_provisional_in_executions() -> None:
    strategy = create_custom_trust_strategy(
        provisional_threshold={"executions": 5, "success_rate": 0.8},
        trusted_threshold={"executions": 5, "success_rate": 0.9},
    )
    assert strategy.calculate_trust_level(P, stats(5, 0.9)) is T


def test_untrusted_does_not_jump_when_only_the_trusted_threshold_is_met() -> None:
    # A trusted threshold may ask for a lower rate than provisional; that must not open a
    # shortcut from untrusted straight to trusted.
    strategy = create_custom_trust_strategy(
        provisional_threshold={"executions": 5, "success_rate": 0.9},
        trusted_threshold={"executions": 10, "success_rate": 0.5},
    )
    assert strategy.calculate_trust_level(U, stats(10, 0.6)) is U
    assert strategy.calculate_trust_level(P, stats(10, 0.6)) is T


@pytest.mark.parametrize(
    ("kwargs", "argument", "reason"),
    [
        pytest.param({"initial_level": "banned"}, "initial_level", "must be one of", id="level"),
        pytest.param({"initial_level": "Trusted"}, "initial_level", "must be one of", id="case"),
        pytest.param({"initial_level": 2}, "initial_level", "must be one of", id="level-type"),
        pytest.param(
            {"provisional_threshold": {"executions": 5, "success_rate": 1.5}},
            "provisional_threshold",
            "success_rate: Input should be less than or equal to 1",
            id="rate-above-1",
        ),
        pytest.param(
            {"provisional_threshold": {"executions": 5, "successRate": -0.1}},
            "provisional_threshold",
            "success_rate: Input should be greater than or equal to 0",
            id="rate-below-0",
        ),
        pytest.param(
            {"trusted_threshold": {"executions": -1, "success_rate": 0.9}},
            "trusted_threshold",
            "executions: Input should be greater than or equal to 0",
            id="negative-executions",
        ),
        pytest.param(
            {"trusted_threshold": {"executions": 200}},
            "trusted_threshold",
            "success_rate: Field required",
            id="missing-field",
        ),
        pytest.param(
            {"provisional_threshold": {"executions": 5, "success_rate": 0.9, "succes": 1}},
            "provisional_threshold",
            "succes: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            {"provisional_threshold": {"executions": True, "success_rate": 0.9}},
            "provisional_threshold",
            "executions: Input should be a valid integer",
            id="bool-executions",
        ),
        pytest.param(
            {"provisional_threshold": 5},
            "provisional_threshold",
            "must be a TrustThreshold or a dict",
            id="not-a-mapping",
        ),
        pytest.param(
            {"trusted_threshold": {"executions": 9, "success_rate": 0.99}},
            "trusted_threshold.executions (9)",
            "is lower than provisional_threshold.executions (10)",
            id="trusted-below-provisional",
        ),
        pytest.param(
            {
                "provisional_threshold": TrustThreshold(executions=50, success_rate=0.5),
                "trusted_threshold": {"executions": 49, "successRate": 0.9},
            },
            "trusted_threshold.executions (49)",
            "is lower than provisional_threshold.executions (50)",
            id="trusted-below-custom-provisional",
        ),
    ],
)
def test_custom_rejects_bad_arguments(kwargs: dict[str, Any], argument: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_custom_trust_strategy(**kwargs)
    message = str(caught.value)
    assert message.startswith(argument)
    assert reason in message


def test_a_directly_built_strategy_checks_the_order_too() -> None:
    with pytest.raises(ConfigError, match="is lower than"):
        ThresholdTrustStrategy(
            U,
            TrustThreshold(executions=10, success_rate=0.9),
            TrustThreshold(executions=1, success_rate=0.9),
        )


# --- Shape: repr, frozen, protocol --------------------------------------------------------------


def test_strategies_have_a_readable_repr() -> None:
    assert repr(create_relaxed_trust_strategy()) == (
        "ThresholdTrustStrategy(initial_level='untrusted',"
        " provisional=TrustThreshold(executions=3, success_rate=0.8),"
        " trusted=TrustThreshold(executions=10, success_rate=0.9))"
    )
    assert repr(create_always_trusted_strategy()) == "AlwaysTrustedStrategy()"


def test_strategies_are_frozen() -> None:
    strategy = create_default_trust_strategy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.initial_level = T  # type: ignore[misc]


@pytest.mark.parametrize(
    "strategy",
    [
        create_default_trust_strategy(),
        create_relaxed_trust_strategy(),
        create_always_trusted_strategy(),
        create_custom_trust_strategy(),
    ],
)
def test_every_strategy_satisfies_the_protocol(strategy: object) -> None:
    assert isinstance(strategy, TrustStrategy)
    assert isinstance(strategy, ThresholdTrustStrategy | AlwaysTrustedStrategy)


# --- Plugin hook ------------------------------------------------------------------------------


def test_hook_returns_the_four_strategies() -> None:
    factories = trust.codemode_trust_strategies()
    assert set(factories) == {"default", "relaxed", "always_trusted", "custom"}
    assert factories["default"]() == create_default_trust_strategy()
    assert factories["relaxed"]() == create_relaxed_trust_strategy()
    assert factories["always_trusted"]() == AlwaysTrustedStrategy()
    assert factories["custom"] is create_custom_trust_strategy


def test_strategies_load_by_name_through_the_plugin_manager() -> None:
    pm = create_plugin_manager(autoload=False)
    with use_plugin_manager(pm):
        relaxed = load_trust_strategy("relaxed")
        custom = load_trust_strategy(
            "custom",
            initial_level="provisional",
            trusted_threshold={"executions": 20, "successRate": 1},
        )
    assert relaxed == create_relaxed_trust_strategy()
    assert custom.get_initial_trust_level() is P
    assert custom.trusted == TrustThreshold(executions=20, success_rate=1.0)
