"""The tool registry: looked up at every execution, and the prompt is rendered from it."""

from __future__ import annotations

from typing import Any

import pytest

from codemode import create_code_mode, tool
from codemode.code_mode import EXTERNAL, SKILL, ToolRegistry
from codemode.errors import ConfigError


@tool(description="Add one.")
def add_one(i: int) -> int:
    return i + 1


@tool(description="Send an email.", side_effects=True)
async def send_email(to: str) -> dict[str, str]:
    return {"sent": to}


async def test_a_tool_added_later_is_callable_and_described() -> None:
    code_mode = create_code_mode(driver="quickjs", tools=[add_one])
    assert "external_send_email" not in code_mode.system_prompt
    missing = await code_mode.run("return await external_send_email({ to: 'a@b.c' })")
    assert missing["error"]["name"] == "ReferenceError"
    code_mode.registry.add(send_email)
    assert "declare function external_send_email" in code_mode.system_prompt
    result = await code_mode.run("return await external_send_email({ to: 'a@b.c' })")
    assert result["result"] == {"sent": "a@b.c"}


async def test_a_removed_tool_is_gone_from_the_next_execution() -> None:
    code_mode = create_code_mode(driver="quickjs", tools=[add_one, send_email])
    assert code_mode.registry.remove("send_email")
    assert not code_mode.registry.remove("send_email")
    assert "external_send_email" not in code_mode.system_prompt
    result = await code_mode.run("return typeof external_send_email")
    assert result["result"] == "undefined"


async def test_binding_kinds_name_the_sandbox_functions() -> None:
    registry = ToolRegistry([add_one])
    registry.add(add_one, SKILL)
    assert "external_add_one" in registry
    assert "skill_add_one" in registry
    code_mode = create_code_mode(driver="quickjs", tools=registry)
    result = await code_mode.run(
        "return [await external_add_one({ i: 1 }), await skill_add_one({ i: 5 })]"
    )
    assert result["result"] == [2, 6]
    assert "declare function skill_add_one" in code_mode.system_prompt


def test_duplicates_and_non_tools_are_refused() -> None:
    registry = ToolRegistry([add_one])
    with pytest.raises(ConfigError, match="two tools are named 'add_one'"):
        registry.add(add_one)
    registry.add(add_one, replace=True)
    bad: Any = lambda: 1  # noqa: E731 (a value that is not a Tool)
    with pytest.raises(ConfigError, match="must be Tool objects"):
        registry.add(bad)
    assert registry.get("add_one") is add_one
    assert registry.get("add_one", EXTERNAL) is add_one


def test_a_misspelled_secret_policy_is_refused_even_without_tools() -> None:
    with pytest.raises(ConfigError, match="warn"):
        ToolRegistry([], on_secret_parameter="warm")  # type: ignore[arg-type]


def test_side_effects_is_kept_on_the_tool() -> None:
    assert send_email.side_effects is True
    assert add_one.side_effects is False
    assert "side_effects=True" in repr(send_email)


def test_the_prompt_is_rendered_again_only_when_the_registry_changed() -> None:
    code_mode = create_code_mode(driver="quickjs", tools=[add_one])
    first = code_mode.system_prompt
    assert code_mode.system_prompt is first
    code_mode.registry.add(send_email)
    assert code_mode.system_prompt is not first
