"""``select_relevant_skills``: a cheap model's pick, and the BM25 fallback."""

from __future__ import annotations

import pytest

from codemode.skills import Skill, select_relevant_skills
from codemode.testing import ScriptedAdapter
from codemode_storage_memory import MemorySkillStorage, create_memory_skill_storage

CONVERSATION = [
    {"role": "user", "content": "What is the weather in Paris tomorrow?"},
    {"role": "assistant", "content": "Let me check."},
    {"role": "user", "content": [{"type": "text", "text": "And the forecast for Oslo?"}]},
]


def skill(name: str, description: str, hints: list[str] | None = None) -> Skill:
    return Skill(
        name=name,
        description=description,
        code="return 1;",
        input_schema={"type": "object"},
        output_schema={},
        usage_hints=hints or [],
    )


@pytest.fixture
async def library() -> MemorySkillStorage:
    storage = create_memory_skill_storage()
    for item in (
        skill("weather_forecast", "Forecast the weather for a city", ["when asked about weather"]),
        skill("sum_orders", "Total of a customer's orders"),
        skill("compare_packages", "Compare npm package downloads"),
    ):
        await storage.save(item)
    return storage


async def names(picked: list[Skill]) -> list[str]:
    return [item.name for item in picked]


async def test_the_model_picks(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter(['["sum_orders", "compare_packages"]'])
    picked = await select_relevant_skills(CONVERSATION, library, adapter, max_skills=5)
    assert await names(picked) == ["sum_orders", "compare_packages"]
    (request,) = adapter.requests
    prompt = request.messages[0]["content"]
    assert "user: And the forecast for Oslo?" in prompt
    assert (
        "- weather_forecast: Forecast the weather for a city (when asked about weather)" in prompt
    )
    assert "at most 5 skill names" in prompt


async def test_a_fenced_answer_is_read(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter(['```json\n["sum_orders"]\n```'])
    assert await names(await select_relevant_skills(CONVERSATION, library, adapter)) == [
        "sum_orders"
    ]


async def test_max_skills_is_kept(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter(['["sum_orders", "compare_packages", "weather_forecast"]'])
    picked = await select_relevant_skills(CONVERSATION, library, adapter, max_skills=2)
    assert await names(picked) == ["sum_orders", "compare_packages"]


async def test_unknown_names_are_dropped(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter(['["nope", "sum_orders", "sum_orders"]'])
    assert await names(await select_relevant_skills(CONVERSATION, library, adapter)) == [
        "sum_orders"
    ]


async def test_none_relevant_is_respected(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter(["[]"])
    assert await select_relevant_skills(CONVERSATION, library, adapter) == []


@pytest.mark.parametrize(
    "answer",
    ["I think weather_forecast", '{"skills": ["sum_orders"]}', '["nope", "missing"]', "[1, 2]"],
)
async def test_an_unusable_answer_falls_back_to_bm25(
    library: MemorySkillStorage, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ScriptedAdapter([answer])
    picked = await select_relevant_skills(CONVERSATION, library, adapter)
    assert await names(picked) == ["weather_forecast"]
    assert "using BM25" in caplog.text


async def test_a_failing_model_falls_back_to_bm25(library: MemorySkillStorage) -> None:
    adapter = ScriptedAdapter([ConnectionError("model is down")])
    assert await names(await select_relevant_skills(CONVERSATION, library, adapter)) == [
        "weather_forecast"
    ]


async def test_without_an_adapter_bm25_decides(library: MemorySkillStorage) -> None:
    picked = await select_relevant_skills(CONVERSATION, library, None)
    assert await names(picked) == ["weather_forecast"]
    orders = [{"role": "user", "content": "sum the orders of customer 7"}]
    assert await names(await select_relevant_skills(orders, library)) == ["sum_orders"]


async def test_nothing_to_select_from(library: MemorySkillStorage) -> None:
    empty = create_memory_skill_storage()
    adapter = ScriptedAdapter([])
    assert await select_relevant_skills(CONVERSATION, empty, adapter) == []
    assert await select_relevant_skills([], library, adapter) == []
    assert adapter.requests == []
