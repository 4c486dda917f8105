"""A small real tool set for the examples: weather lookups over a local data file.

The latency is simulated (each lookup waits a little, as a real API would), so running the
example programs shows concurrent calls overlapping.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from codemode import Tool, ToolExecutionContext, tool

DATA = Path(__file__).with_name("weather.json")
LATENCY_S = 0.05
Condition = Literal["sunny", "cloudy", "rain", "snow", "windy"]


class CurrentWeather(BaseModel):
    city: str
    country: str = Field(description="ISO 3166 country code")
    temp: float = Field(description="Temperature in °C")
    condition: Condition
    humidity: int = Field(description="Relative humidity in %")


class DayForecast(BaseModel):
    date: str = Field(description="ISO date, e.g. 2026-11-24")
    high: float = Field(description="°C")
    low: float = Field(description="°C")
    condition: Condition


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def _city(name: str) -> dict[str, Any]:
    for known, record in _data().items():
        if known.lower() == name.strip().lower():
            return {"city": known, **record}
    raise ValueError(f"unknown city {name!r}; known cities: {', '.join(sorted(_data()))}")


@tool
async def list_cities() -> list[str]:
    """List the cities this weather service knows."""
    await asyncio.sleep(LATENCY_S)
    return sorted(_data())


@tool
async def get_current_weather(city: str) -> CurrentWeather:
    """Get the current weather for a city."""
    await asyncio.sleep(LATENCY_S)
    record = _city(city)
    return CurrentWeather(city=record["city"], country=record["country"], **record["current"])


@tool
async def get_forecast(city: str, days: Annotated[int, Field(ge=1, le=7)] = 3) -> list[DayForecast]:
    """Get the daily forecast for a city, for 1 to 7 days starting today."""
    await asyncio.sleep(LATENCY_S)
    record = _city(city)
    today = date.today()
    return [
        DayForecast(date=(today + timedelta(days=i)).isoformat(), high=h, low=lo, condition=c)
        for i, (h, lo, c) in enumerate(record["forecast"][:days])
    ]


@tool
def celsius_to_fahrenheit(celsius: float, context: ToolExecutionContext) -> float:
    """Convert a temperature from °C to °F (a sync tool: it runs in a worker thread)."""
    context.emit_custom_event("weather:converted", {"celsius": celsius})
    return round(celsius * 9 / 5 + 32, 1)


tools: list[Tool] = [list_cities, get_current_weather, get_forecast, celsius_to_fahrenheit]
