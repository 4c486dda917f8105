"""``register_skill``: what it saves, and every input it refuses with nothing saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codemode.code_mode import events
from codemode.trust import TrustLevel

OBJECT_IN = {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}


async def test_saves_and_reports_the_skill(make_session: Any) -> None:
    session = await make_session()
    answer = await session.register(
        "double", "return input.n * 2;", inputSchema=OBJECT_IN, usageHints=["Use to double"]
    )
    assert answer["success"] is True
    assert answer["updated"] is False
    assert answer["trustLevel"] == "untrusted"
    stored = await session.storage.get("double")
    assert stored is not None
    assert stored.id == answer["skillId"]
    assert stored.code == "return input.n * 2;"
    assert stored.input_schema == OBJECT_IN
    assert stored.usage_hints == ["Use to double"]
    registered = [data for name, data in session.events if name == events.SKILL_REGISTERED]
    assert registered == [
        {
            "id": stored.id,
            "name": "double",
            "description": "The double skill",
            "timestamp": registered[0]["timestamp"],
        }
    ]


async def test_schemas_may_be_json_strings(make_session: Any) -> None:
    session = await make_session()
    answer = await session.register(
        "double",
        "return input.n * 2;",
        inputSchema=json.dumps(OBJECT_IN),
        outputSchema='{"type": "number"}',
    )
    assert answer["success"] is True
    stored = await session.storage.get("double")
    assert stored is not None
    assert stored.output_schema == {"type": "number"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("fetchStats", "snake_case"),
        ("fetch-stats", "snake_case"),
        ("external_fetch", "must not start with 'external_'"),
        ("skill_fetch", "must not start with 'skill_'"),
        ("a/b", "snake_case"),
        ("a\\b", "snake_case"),
        ("..", "snake_case"),
        ("x..y", "snake_case"),
        ("", "must not be empty"),
        ("a" * 65, "the limit is 64"),
        ("1abc", "snake_case"),
        ("register_skill", "built-in tool"),
    ],
)
async def test_bad_names_are_refused(make_session: Any, name: str, reason: str) -> None:
    session = await make_session()
    answer = await session.register(name, "return 1;")
    assert answer["success"] is False
    assert reason in answer["error"]
    assert await session.storage.load_index() == []


async def test_an_existing_name_is_updated_not_duplicated(make_session: Any) -> None:
    session = await make_session()
    first = await session.register("double", "return input.n * 2;", inputSchema=OBJECT_IN)
    second = await session.register(
        "double", "return input.n + input.n;", inputSchema=OBJECT_IN, description="Doubles n"
    )
    assert second["success"] is True
    assert second["updated"] is True
    assert second["skillId"] == first["skillId"]
    index = await session.storage.load_index()
    assert [entry.name for entry in index] == ["double"]
    stored = await session.storage.get("double")
    assert stored is not None
    assert stored.code == "return input.n + input.n;"
    assert stored.description == "Doubles n"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("inputSchema", {"type": "objekt"}, "inputSchema is not valid JSON Schema"),
        (
            "inputSchema",
            {"type": "object", "required": "n"},
            "inputSchema is not valid JSON Schema",
        ),
        ("outputSchema", {"minimum": "zero"}, "outputSchema is not valid JSON Schema"),
        ("outputSchema", "{not json", "outputSchema is a string but not valid JSON"),
        ("outputSchema", "[1, 2]", "outputSchema must be a JSON Schema object"),
        ("inputSchema", {"type": "string"}, "inputSchema must describe an object"),
    ],
)
async def test_bad_schemas_are_refused(
    make_session: Any, field: str, value: Any, reason: str
) -> None:
    session = await make_session()
    answer = await session.register("double", "return 1;", **{field: value})
    assert answer["success"] is False
    assert reason in answer["error"]
    assert await session.storage.get("double") is None


async def test_code_that_does_not_parse_is_refused_with_its_line(make_session: Any) -> None:
    session = await make_session()
    answer = await session.register("broken", "const a = 1;\nreturn a +;\n")
    assert answer["success"] is False
    assert answer["line"] == 2
    assert "does not parse" in answer["error"]
    assert "nothing was saved" in answer["error"]
    assert await session.storage.get("broken") is None


async def test_empty_code_and_description_are_refused(make_session: Any) -> None:
    session = await make_session()
    assert "code is empty" in (await session.register("empty", "  \n"))["error"]
    assert (
        "description is empty"
        in (await session.register("nodesc", "return 1;", description=" "))["error"]
    )


async def test_dependencies_must_exist_and_come_from_the_code_too(make_session: Any) -> None:
    session = await make_session()
    missing = await session.register("outer", "return await skill_inner({});")
    assert missing["success"] is False
    assert "skill_inner, but there is no skill 'inner'" in missing["error"]
    assert (await session.register("inner", "return 1;"))["success"] is True
    assert (await session.register("outer", "return await skill_inner({});"))["success"] is True
    outer = await session.storage.get("outer")
    assert outer is not None
    assert outer.depends_on == ["inner"]


async def test_a_skill_calling_itself_is_refused(make_session: Any) -> None:
    session = await make_session()
    answer = await session.register("again", "return await skill_again({});")
    assert answer["success"] is False
    assert "calls itself" in answer["error"]


async def test_a_cycle_through_other_skills_is_refused(make_session: Any) -> None:
    session = await make_session()
    assert (await session.register("c", "return 1;"))["success"]
    assert (await session.register("b", "return await skill_c({});"))["success"]
    assert (await session.register("a", "return await skill_b({});"))["success"]
    answer = await session.register("c", "return await skill_a({});")
    assert answer["success"] is False
    assert "would form a cycle: c -> a -> b -> c" in answer["error"]
    stored = await session.storage.get("c")
    assert stored is not None
    assert stored.code == "return 1;"


async def test_changed_code_goes_back_to_the_initial_level(make_session: Any) -> None:
    session = await make_session()
    await session.register("double", "return input.n * 2;", inputSchema=OBJECT_IN)
    stored = await session.storage.get("double")
    assert stored is not None
    await session.storage.save(
        stored.model_copy(update={"trust_level": TrustLevel.TRUSTED}),
    )
    same_code = await session.register(
        "double", "return input.n * 2;", inputSchema=OBJECT_IN, description="new words"
    )
    assert same_code["trustLevel"] == "trusted"
    new_code = await session.register("double", "return 2 * input.n;", inputSchema=OBJECT_IN)
    assert new_code["trustLevel"] == "untrusted"


async def test_a_registered_skill_is_usable_at_once(make_session: Any) -> None:
    session = await make_session()
    assert "double" not in session.tools
    before = session.prompt.render()
    await session.register("double", "return input.n * 2;", inputSchema=OBJECT_IN)
    assert "double" in session.tools
    assert await session.call("double", {"n": 4}) == 8
    result = await session.program("return await skill_double({ n: 21 });")
    assert result == {"success": True, "result": 42, "logs": [], "error": None}
    after = session.prompt.render()
    assert "skill_double" not in before
    assert "declare function skill_double(input: DoubleInput)" in after
    assert "- `double` [untrusted]: The double skill" in after
    assert str(session.prompt) == before
