"""Running skills: direct and nested, validation, stats, events, cycles and depth."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codemode.code_mode import events
from codemode.errors import SkillCycleError, SkillDepthError, SkillFailedError, ToolInputError
from codemode.skills import Skill
from codemode.trust import TrustLevel

NUMBER_IN = {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}


def skill(name: str, code: str, **fields: Any) -> Skill:
    fields.setdefault("input_schema", {"type": "object"})
    fields.setdefault("output_schema", {})
    return Skill(name=name, description=f"{name} skill", code=code, **fields)


async def stats(session: Any, name: str) -> tuple[int, float]:
    stored = await session.storage.get(name)
    assert stored is not None
    return stored.stats.executions, stored.stats.success_rate


async def test_direct_and_nested_runs_both_count_and_emit(make_session: Any) -> None:
    session = await make_session()
    await session.register("double", "return input.n * 2;", inputSchema=NUMBER_IN)
    assert await session.call("double", {"n": 5}) == 10
    result = await session.program("return await skill_double({ n: 1 });")
    assert result["result"] == 2
    assert await stats(session, "double") == (2, 1.0)
    calls = [data for name, data in session.events if name == events.SKILL_CALL]
    results = [data for name, data in session.events if name == events.SKILL_RESULT]
    assert [(c["skill"], c["input"]) for c in calls] == [("double", {"n": 5}), ("double", {"n": 1})]
    assert [r["result"] for r in results] == [10, 2]
    assert all(r["duration"] >= 0 for r in results)
    # A skill called from a program reports itself; it is not an external_* call.
    assert not any(
        data["function"] == "skill_double"
        for name, data in session.events
        if name == events.EXTERNAL_CALL
    )


async def test_skills_call_tools_and_skills(make_session: Any) -> None:
    session = await make_session()
    await session.register(
        "add3",
        "const ab = await external_add({ a: input.a, b: input.b });\n"
        "return await external_add({ a: ab, b: input.c });",
    )
    await session.register("add3_twice", "return 2 * await skill_add3(input);")
    result = await session.program("return await skill_add3_twice({ a: 1, b: 2, c: 3 });")
    assert result["result"] == 12
    assert await stats(session, "add3") == (1, 1.0)
    assert await stats(session, "add3_twice") == (1, 1.0)


async def test_input_is_validated_before_the_skill_runs(make_session: Any) -> None:
    session = await make_session()
    await session.register("double", "return input.n * 2;", inputSchema=NUMBER_IN)
    with pytest.raises(ToolInputError, match=r"skill double: input: 'n' is a required property"):
        await session.call("double", {})
    result = await session.program("return await skill_double({ n: 'x' });")
    assert result["error"]["name"] == "ToolInputError"
    assert "input.n: 'x' is not of type 'number'" in result["error"]["message"]
    assert await stats(session, "double") == (0, 0.0)


async def test_an_output_that_no_longer_matches_its_schema_fails_and_counts(
    make_session: Any,
) -> None:
    session = await make_session()
    await session.storage.save(
        skill(
            "total",
            "return { total: String(input.n) };",
            output_schema={
                "type": "object",
                "properties": {"total": {"type": "number"}},
            },
        )
    )
    await session.call("get_skill", {"name": "total"})
    result = await session.program(
        "try { await skill_total({ n: 3 }); } catch (e) { return [e.name, e.message]; }"
    )
    assert result["result"][0] == "ToolOutputError"
    assert "skill total: output.total: '3' is not of type 'number'" in result["result"][1]
    assert await stats(session, "total") == (1, 0.0)
    errors = [data for name, data in session.events if name == events.SKILL_ERROR]
    assert errors[0]["skill"] == "total"
    assert "output.total" in errors[0]["error"]


async def test_a_failing_skill_reports_its_error_and_line(make_session: Any) -> None:
    session = await make_session()
    await session.register("boom", "const x = 1;\nthrow new TypeError('no good ' + x);")
    with pytest.raises(
        SkillFailedError, match=r"skill boom failed: TypeError: no good 1 \(line 2 of its code\)"
    ):
        await session.call("boom", {})
    result = await session.program("return await skill_boom({});")
    assert result["error"]["name"] == "SkillFailedError"
    assert await stats(session, "boom") == (2, 0.0)


async def test_a_runtime_cycle_is_stopped_and_named(make_session: Any) -> None:
    session = await make_session()
    # Saved directly, past register_skill's checks, as a hand-edited library could be.
    await session.storage.save(
        skill("ping", "return await skill_pong(input);", depends_on=["pong"])
    )
    await session.storage.save(
        skill("pong", "return await skill_ping(input);", depends_on=["ping"])
    )
    await session.call("get_skill", {"name": "ping"})
    with pytest.raises(
        SkillFailedError, match=r"SkillCycleError: skill cycle: ping -> pong -> ping"
    ):
        await session.call("ping", {})
    result = await session.program("return await skill_ping({});")
    assert result["error"]["name"] == "SkillFailedError"
    assert "skill cycle: ping -> pong -> ping" in result["error"]["message"]


async def test_a_skill_calling_itself_at_run_time_is_a_cycle(make_session: Any) -> None:
    session = await make_session()
    await session.storage.save(
        skill("again", "return await skill_again({});", depends_on=["again"])
    )
    engine_tool = await session.call("get_skill", {"name": "again"})
    assert engine_tool["callAs"] == "skill_again"
    with pytest.raises(SkillFailedError, match=r"skill cycle: again -> again"):
        await session.call("again", {})


async def test_depth_is_limited(make_session: Any) -> None:
    session = await make_session(max_depth=2)
    await session.storage.save(skill("level3", "return 3;"))
    await session.storage.save(
        skill("level2", "return await skill_level3({});", depends_on=["level3"])
    )
    await session.storage.save(
        skill("level1", "return await skill_level2({});", depends_on=["level2"])
    )
    await session.call("get_skill", {"name": "level1"})
    await session.call("get_skill", {"name": "level2"})
    assert await session.call("level2", {}) == 3
    with pytest.raises(
        SkillFailedError, match=r"level1 -> level2 -> level3 is deeper than the limit of 2"
    ):
        await session.call("level1", {})


def test_the_errors_keep_their_sandbox_names() -> None:
    assert SkillCycleError.name == "SkillCycleError"
    assert SkillDepthError.name == "SkillDepthError"


async def test_a_deleted_skill_fails_clearly(make_session: Any) -> None:
    session = await make_session()
    await session.register("gone", "return 1;")
    await session.storage.delete("gone")
    result = await session.program("return await skill_gone({});")
    assert result["error"]["name"] == "SkillError"
    assert "there is no skill named 'gone'" in result["error"]["message"]


async def test_the_stored_version_is_what_runs(make_session: Any) -> None:
    session = await make_session()
    await session.register("version", "return 1;")
    stored = await session.storage.get("version")
    assert stored is not None
    await session.storage.save(stored.model_copy(update={"code": "return 2;"}))
    assert await session.call("version", {}) == 2


async def test_get_skill_loads_a_skill_into_the_session(make_session: Any, storage: Any) -> None:
    await storage.save(skill("hidden", "return 'found';", usage_hints=["when hidden"]))
    session = await make_session(messages=[{"role": "user", "content": "unrelated words"}])
    assert "hidden" not in session.tools
    missing = await session.program("return await skill_hidden({});")
    assert missing["error"]["name"] == "ReferenceError"
    shown = await session.call("get_skill", {"name": "hidden"})
    assert shown["code"] == "return 'found';"
    assert shown["trustLevel"] == TrustLevel.UNTRUSTED.value
    assert "contentHash" not in shown
    assert (await session.program("return await skill_hidden({});"))["result"] == "found"
    assert "hidden" in session.tools
    assert (await session.call("get_skill", {"name": "nope"}))["error"].startswith(
        "there is no skill"
    )


async def test_search_skills_answers_index_entries(make_session: Any, storage: Any) -> None:
    await storage.save(skill("fetch_weather", "return 1;", usage_hints=["forecast for a city"]))
    await storage.save(skill("sum_orders", "return 2;"))
    session = await make_session()
    found = await session.call("search_skills", {"query": "weather forecast"})
    assert found == [
        {
            "name": "fetch_weather",
            "description": "fetch_weather skill",
            "usageHints": ["forecast for a city"],
            "trustLevel": "untrusted",
        }
    ]


async def test_programs_calling_skills_cannot_starve_each_other(storage: Any) -> None:
    # Two slots, four programs each waiting on a skill: if a skill's program needed a slot
    # of its own, all four would wait until they timed out.
    from codemode import SkillsConfig, code_mode_with_skills, create_code_mode
    from codemode_quickjs import create_quickjs_isolate_driver

    code_mode = create_code_mode(
        driver=create_quickjs_isolate_driver(max_concurrency=2), timeout=20_000
    )
    await storage.save(skill("inner", "return input.n + 1;"))
    await storage.save(skill("outer", "return await skill_inner(input);", depends_on=["inner"]))
    tools, _, _ = await code_mode_with_skills(code_mode, skills=SkillsConfig(storage=storage))
    await tools.get("get_skill").execute({"name": "outer"})  # type: ignore[union-attr]
    run = tools.get("execute_typescript")
    assert run is not None
    started = asyncio.get_running_loop().time()
    results = await asyncio.gather(
        *(
            run.execute({"typescriptCode": f"return await skill_outer({{ n: {n} }});"})
            for n in range(4)
        )
    )
    assert [r["result"] for r in results] == [1, 2, 3, 4]
    assert asyncio.get_running_loop().time() - started < 10
