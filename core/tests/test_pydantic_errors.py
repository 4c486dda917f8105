"""The one pydantic-error formatter, and the three styles built on it (tool, config, trust)."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from pydantic import BaseModel, ConfigDict

from codemode import create_custom_trust_strategy, tool
from codemode._pydantic_errors import (
    describe_validation_error,
    dotted_path,
    join_problems,
    short_repr,
)
from codemode.config import load_config
from codemode.errors import ConfigError, ToolInputError


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item]


def error_of(model: type[BaseModel], data: object) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(data)
    return caught.value


def test_dotted_path() -> None:
    assert dotted_path(("items", 0, "name"), "input") == "input.items[0].name"
    assert dotted_path(("items", 0, "name")) == "items[0].name"
    assert dotted_path((), "input") == "input"
    assert dotted_path(()) == ""


def test_short_repr_cuts_long_values() -> None:
    assert short_repr("abc") == "'abc'"
    long = short_repr("x" * 500)
    assert len(long) == 60
    assert long.endswith("...")


def test_join_problems_counts_what_it_leaves_out() -> None:
    assert join_problems(["a", "b"]) == "a; b"
    assert join_problems([str(n) for n in range(8)]) == "0; 1; 2; 3; 4; and 3 more"
    # ``total`` counts problems the caller did not even render.
    assert join_problems(["a"], total=4) == "a; and 3 more"


def test_reasons_values_and_locations() -> None:
    exc = error_of(Order, {"items": [{"name": "x", "count": "many", "colour": 1}, {"count": 2}]})
    assert describe_validation_error(exc, lambda loc: dotted_path(loc, "order")) == (
        "order.items[0].count: Input should be a valid integer, unable to parse string as an"
        " integer (got 'many'); order.items[0].colour: Extra inputs are not permitted;"
        " order.items[1].name: Field required"
    )


def test_unknown_key_wording_is_the_callers() -> None:
    exc = error_of(Item, {"name": "x", "count": 1, "colour": 1})
    assert describe_validation_error(exc, dotted_path, unknown_key="unknown key") == (
        "colour: unknown key"
    )


def test_an_error_without_location_is_just_the_reason() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        pydantic.TypeAdapter(int).validate_python("q")
    assert describe_validation_error(caught.value, dotted_path).startswith(
        "Input should be a valid integer"
    )


def test_many_errors_are_cut_at_five() -> None:
    exc = error_of(Order, {"items": [{"name": n} for n in "abcdefg"]})
    message = describe_validation_error(exc, dotted_path)
    assert message.count("Field required") == 5
    assert message.endswith("; and 2 more")


# --- The three call sites keep their own style ---------------------------------------------


async def test_tool_style() -> None:
    @tool
    def place(order: Order) -> int:
        """Place an order."""
        return len(order.items)

    with pytest.raises(ToolInputError) as caught:
        await place.execute({"order": {"items": [{"name": "a" * 100, "count": "x"}]}, "rush": 1})
    message = str(caught.value)
    assert message.startswith("place: input.order.items[0].count: Input should be a valid integer")
    assert "input.rush: unexpected field" in message


def test_config_style(tmp_path: Path) -> None:
    path = tmp_path / "codemode.toml"
    path.write_text("[driver]\ntimeout = 0\nname = 'quickjs'\nnam = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, check_plugins=False)
    assert str(caught.value) == (
        f"{path}: [driver] timeout: Input should be greater than 0 (got 0);"
        " [driver] nam: unknown key"
    )


def test_config_style_for_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "codemode.toml"
    path.write_text("driver = 5\n")
    with pytest.raises(ConfigError, match=r"codemode\.toml: \[driver\]: Input should be"):
        load_config(path, environ={}, check_plugins=False)


def test_trust_style() -> None:
    with pytest.raises(ConfigError) as caught:
        create_custom_trust_strategy(provisional_threshold={"executions": -1})
    assert str(caught.value) == (
        "provisional_threshold.executions: Input should be greater than or equal to 0 (got -1);"
        " provisional_threshold.success_rate: Field required"
    )
