"""Tools: schemas from signatures, validation both ways, contexts, sync and async.

Secret-looking parameters are tested in test_secrets.py.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from codemode import Tool, ToolExecutionContext, tool, tool_definition
from codemode.errors import (
    ToolDefinitionError,
    ToolInputError,
    ToolOutputError,
)


class Weather(BaseModel):
    temp: float
    condition: str


class CityInput(BaseModel):
    city: str


@tool(description="Get current weather for a city")
async def fetch_weather(city: str, units: Literal["metric", "imperial"] = "metric") -> Weather:
    return Weather(temp=21.5 if units == "metric" else 70.7, condition=f"sunny in {city}")


async def test_schema_from_signature() -> None:
    schema = fetch_weather.input_schema
    assert schema["required"] == ["city"]
    assert schema["properties"]["units"]["enum"] == ["metric", "imperial"]
    assert schema["additionalProperties"] is False
    assert fetch_weather.output_schema is not None
    assert fetch_weather.output_schema["required"] == ["temp", "condition"]
    assert fetch_weather.description == "Get current weather for a city"


async def test_execute_returns_json_data() -> None:
    result = await fetch_weather.execute({"city": "Paris"})
    assert result == {"temp": 21.5, "condition": "sunny in Paris"}


async def test_wrong_input_type_names_tool_and_field() -> None:
    with pytest.raises(
        ToolInputError, match=r"fetch_weather: input\.city: Input should be a valid string"
    ):
        await fetch_weather.execute({"city": 42})


async def test_missing_and_unexpected_fields() -> None:
    with pytest.raises(ToolInputError) as info:
        await fetch_weather.execute({"cty": "Paris"})
    message = str(info.value)
    assert "input.city: Field required" in message
    assert "input.cty: unexpected field" in message


async def test_non_object_input() -> None:
    with pytest.raises(ToolInputError, match="must be an object"):
        await fetch_weather.execute(["Paris"])  # type: ignore[arg-type]


async def test_bad_output_names_field() -> None:
    @tool
    async def broken() -> Weather:
        """Return a malformed weather."""
        return {"temp": "hot", "condition": "sunny"}  # type: ignore[return-value]

    with pytest.raises(ToolOutputError, match=r"broken: output\.temp"):
        await broken.execute({})


async def test_docstring_is_the_description_and_annotated_fields() -> None:
    @tool
    def add(a: int, b: Annotated[int, Field(description="second term", ge=0)] = 1) -> int:
        """Add two integers.

        More text that is not part of the description.
        """
        return a + b

    assert add.description == "Add two integers."
    assert add.input_schema["properties"]["b"]["description"] == "second term"
    assert await add.execute({"a": 2, "b": 3}) == 5
    with pytest.raises(ToolInputError, match=r"input\.b"):
        await add.execute({"a": 2, "b": -1})


async def test_sync_tool_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()

    @tool
    def where() -> bool:
        """Whether this ran on the event loop's thread."""
        return threading.get_ident() == loop_thread

    assert await where.execute({}) is False


async def test_context_parameter_receives_events() -> None:
    seen: list[tuple[str, Any]] = []

    @tool
    async def progress(steps: int, context: ToolExecutionContext) -> int:
        """Report progress."""
        for step in range(steps):
            context.emit_custom_event("progress", {"step": step})
        return steps

    assert "context" not in progress.input_schema["properties"]
    await progress.execute({"steps": 2}, ToolExecutionContext(lambda n, d: seen.append((n, d))))
    assert seen == [("progress", {"step": 0}), ("progress", {"step": 1})]
    # Without a context, a no-op one is supplied.
    assert await progress.execute({"steps": 1}) == 1


async def test_tool_definition_with_models() -> None:
    definition = tool_definition(
        name="fetchWeather",
        description="Get weather",
        input_schema=CityInput,
        output_schema=Weather,
    )

    async def impl(data: CityInput) -> Weather:
        return Weather(temp=1.0, condition=data.city)

    weather = definition.server(impl)
    assert isinstance(weather, Tool)
    assert await weather.execute({"city": "Oslo"}) == {"temp": 1.0, "condition": "Oslo"}
    with pytest.raises(ToolInputError, match=r"fetchWeather: input\.city"):
        await weather.execute({})


async def test_tool_definition_with_json_schema_and_context() -> None:
    seen: list[str | None] = []

    def impl(data: dict[str, Any], context: ToolExecutionContext) -> dict[str, Any]:
        seen.append(context.tool_call_id)
        return {"n": data["n"] * 2}

    double = tool_definition(
        name="double",
        description="Double n",
        input_schema={
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"],
        },
        output_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
    ).server(impl)
    assert await double.execute({"n": 4}, ToolExecutionContext(tool_call_id="call-1")) == {"n": 8}
    assert seen == ["call-1"]
    with pytest.raises(ToolInputError, match=r"double: input\.n: 'x' is not of type 'integer'"):
        await double.execute({"n": "x"})


async def test_to_openai() -> None:
    assert fetch_weather.to_openai() == {
        "type": "function",
        "function": {
            "name": "fetch_weather",
            "description": "Get current weather for a city",
            "parameters": fetch_weather.input_schema,
        },
    }


def test_bad_definitions() -> None:
    def undocumented(x: int) -> int:
        return x

    with pytest.raises(ToolDefinitionError, match="no description"):
        tool(undocumented)
    with pytest.raises(ToolDefinitionError, match="valid identifier"):
        tool_definition(name="get-weather", description="d", input_schema={"type": "object"})

    def star(*args: int) -> int:
        """Variadic."""
        return 0

    with pytest.raises(ToolDefinitionError, match=r"\*args"):
        tool(star)
    with pytest.raises(ToolDefinitionError, match="pydantic model class or a JSON Schema dict"):
        tool_definition(name="x", description="d", input_schema=42)  # type: ignore[arg-type]


async def test_untyped_output_must_be_json() -> None:
    @tool
    async def odd():  # type: ignore[no-untyped-def]
        """Return a set, which JSON cannot hold."""
        return {1, 2}

    assert sorted(await odd.execute({})) == [1, 2]  # sets become lists

    @tool
    async def worse():  # type: ignore[no-untyped-def]
        """Return an object JSON cannot hold."""
        return threading.Lock()

    with pytest.raises(ToolOutputError, match="not JSON-compatible"):
        await worse.execute({})


async def test_never_returning_tool_can_be_cancelled() -> None:
    @tool
    async def hang() -> None:
        """Never return."""
        await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(hang.execute({}), 0.05)


async def test_sync_tool_events_are_delivered_on_the_loop_thread() -> None:
    loop_thread = threading.get_ident()
    delivered_on: list[int] = []

    @tool
    def work(context: ToolExecutionContext) -> str:
        """Emit from a worker thread."""
        context.emit_custom_event("step", {"on_loop": threading.get_ident() == loop_thread})
        return "done"

    sink = ToolExecutionContext(lambda name, data: delivered_on.append(threading.get_ident()))
    assert await work.execute({}, sink) == "done"
    assert delivered_on == [loop_thread]
