"""``code_mode_with_skills``: the tools, prompt and selection of one conversation, live."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codemode import CodeMode, SkillsConfig, code_mode_with_skills, create_code_mode
from codemode.adapters import ModelAdapter, TextDelta, ToolCallDelta
from codemode.config import CodeModeConfig
from codemode.errors import ConfigError
from codemode.skills import LivePrompt, Skill
from codemode.testing import ScriptedAdapter
from codemode.tools import ToolSet
from codemode_storage_memory import create_memory_skill_storage

from .conftest import add  # type: ignore[import-not-found]


def skill(name: str, description: str) -> Skill:
    return Skill(
        name=name,
        description=description,
        code="return input.x + 1;",
        input_schema={"type": "object", "properties": {"x": {"type": "number"}}},
        output_schema={"type": "number"},
    )


async def test_the_tools_prompt_and_selection(code_mode: CodeMode) -> None:
    storage = create_memory_skill_storage()
    await storage.save(skill("increment", "Add one to a number"))
    await storage.save(skill("weather_report", "Weather of a city"))
    tools, prompt, selected = await code_mode_with_skills(
        code_mode,
        skills=SkillsConfig(storage=storage),
        messages=[{"role": "user", "content": "increment 41 please"}],
    )
    assert isinstance(tools, ToolSet)
    assert isinstance(prompt, LivePrompt)
    assert [item.name for item in selected] == ["increment"]
    assert tools.names() == [
        "execute_typescript",
        "search_skills",
        "get_skill",
        "register_skill",
        "increment",
    ]
    assert tools.get("increment").description == "[SKILL] Add one to a number"  # type: ignore[union-attr]
    assert "declare function skill_increment(" in prompt
    assert "library of 2 saved skills (reusable programs); 1 is loaded" in prompt
    assert "weather_report" not in prompt
    assert await tools.get("increment").execute({"x": 41}) == 42  # type: ignore[union-attr]


async def test_skills_as_tools_can_be_turned_off(code_mode: CodeMode) -> None:
    storage = create_memory_skill_storage()
    await storage.save(skill("increment", "Add one to a number"))
    tools, _prompt, _ = await code_mode_with_skills(
        code_mode,
        skills=SkillsConfig(storage=storage, skills_as_tools=False),
        messages=[{"role": "user", "content": "increment"}],
    )
    assert "increment" not in tools
    result = await tools.get("execute_typescript").execute(  # type: ignore[union-attr]
        {"typescriptCode": "return await skill_increment({ x: 1 });"}
    )
    assert result["result"] == 2


async def test_a_conversation_does_not_change_the_code_mode_it_was_given(
    code_mode: CodeMode,
) -> None:
    storage = create_memory_skill_storage()
    await storage.save(skill("increment", "Add one"))
    before = code_mode.registry.entries()
    await code_mode_with_skills(
        code_mode,
        skills=SkillsConfig(storage=storage),
        messages=[{"role": "user", "content": "increment"}],
    )
    assert code_mode.registry.entries() == before


async def test_from_a_config(tmp_path: Any) -> None:
    config = CodeModeConfig.model_validate(
        {"driver": {"name": "quickjs"}, "skills": {"storage": "memory"}}
    )
    tools, prompt, selected = await code_mode_with_skills(config, tools=[add])
    assert "declare function external_add(" in prompt
    assert selected == []
    assert "register_skill" in tools


async def test_bad_arguments(code_mode: CodeMode) -> None:
    with pytest.raises(ConfigError, match="give tools to create_code_mode"):
        await code_mode_with_skills(code_mode, tools=[add])
    with pytest.raises(ConfigError, match="config must be a CodeMode"):
        await code_mode_with_skills("quickjs")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"SkillsConfig\.storage must be a SkillStorage"):
        await code_mode_with_skills(code_mode, skills=SkillsConfig(storage=object()))  # type: ignore[arg-type]


def tool_call(index: int, name: str, arguments: dict[str, Any]) -> list[Any]:
    return [
        ToolCallDelta(index, id=f"call_{name}_{index}", name=name, arguments=json.dumps(arguments))
    ]


async def converse(
    adapter: ModelAdapter, tools: ToolSet, prompt: LivePrompt, text: str
) -> list[Any]:
    """A minimal model loop: each turn re-reads the tools and the prompt, runs tool calls."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    results = []
    for _ in range(5):
        calls: dict[int, dict[str, str]] = {}
        answer = ""
        async for chunk in adapter.stream(
            messages, tools=list(tools), system_prompts=[prompt.render()]
        ):
            if isinstance(chunk, ToolCallDelta):
                call = calls.setdefault(chunk.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = chunk.id or call["id"]
                call["name"] = chunk.name or call["name"]
                call["arguments"] += chunk.arguments
            elif isinstance(chunk, TextDelta):
                answer += chunk.text
        if not calls:
            return results
        messages.append(
            {"role": "assistant", "content": answer, "tool_calls": list(calls.values())}
        )
        for call in calls.values():
            found = tools.get(call["name"])
            assert found is not None, f"the model called {call['name']}, which it was not given"
            result = await found.execute(json.loads(call["arguments"]))
            results.append(result)
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}
            )
    raise AssertionError("the conversation did not end")


async def test_a_scripted_conversation_registers_a_skill_then_calls_it(code_mode: CodeMode) -> None:
    storage = create_memory_skill_storage()
    adapter = ScriptedAdapter(
        [
            tool_call(
                0,
                "execute_typescript",
                {"typescriptCode": "return await external_add({ a: 2, b: 3 });"},
            ),
            tool_call(
                0,
                "register_skill",
                {
                    "name": "add_pair",
                    "description": "Add two numbers with the add tool",
                    "code": "return await external_add({ a: input.a, b: input.b });",
                    "inputSchema": {
                        "type": "object",
                        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                        "required": ["a", "b"],
                    },
                    "outputSchema": {"type": "number"},
                    "usageHints": ["Use to add two numbers"],
                },
            ),
            tool_call(
                0,
                "execute_typescript",
                {
                    "typescriptCode": "const [x, y] = await Promise.all([skill_add_pair({ a: 1, b: 2 }), skill_add_pair({ a: 10, b: 20 })]);\nreturn x + y;"
                },
            ),
            tool_call(0, "add_pair", {"a": 100, "b": 1}),
            "The answers are 33 and 101.",
        ]
    )
    tools, prompt, _ = await code_mode_with_skills(
        code_mode,
        skills=SkillsConfig(storage=storage),
        messages=[{"role": "user", "content": "add"}],
    )
    results = await converse(adapter, tools, prompt, "add some numbers, and keep the code")
    assert results[0]["result"] == 5
    assert results[1]["success"] is True
    assert results[2] == {"success": True, "result": 33, "logs": [], "error": None}
    assert results[3] == 101
    turns = adapter.requests
    assert "skill_add_pair" not in turns[1].system_prompts[0]
    assert (
        "declare function skill_add_pair(input: AddPairInput): Promise<AddPairOutput>;"
        in turns[2].system_prompts[0]
    )
    assert "add_pair" not in turns[1].tools
    assert "add_pair" in turns[2].tools
    stored = await storage.get("add_pair")
    assert stored is not None
    assert stored.stats.executions == 3
    assert stored.stats.success_rate == 1.0


async def test_a_skill_saved_elsewhere_is_picked_up_by_the_next_conversation(
    code_mode: CodeMode,
) -> None:
    storage = create_memory_skill_storage()
    first, _, _ = await code_mode_with_skills(code_mode, skills=SkillsConfig(storage=storage))
    await first.get("register_skill").execute(  # type: ignore[union-attr]
        {
            "name": "increment",
            "description": "Add one to x",
            "code": "return input.x + 1;",
            "inputSchema": {"type": "object"},
            "outputSchema": {"type": "number"},
        }
    )
    second, _prompt, selected = await code_mode_with_skills(
        create_code_mode(driver="quickjs"),
        skills=SkillsConfig(storage=storage),
        messages=[{"role": "user", "content": "please increment x"}],
    )
    assert [item.name for item in selected] == ["increment"]
    assert "increment" in second
