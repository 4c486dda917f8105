"""Fixtures for the skill tests: a memory storage, tools, and a skills session on QuickJS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from codemode import CodeMode, ToolExecutionContext, create_code_mode, tool
from codemode.skills import LivePrompt, Skill, SkillsConfig, code_mode_with_skills
from codemode.tools import ToolSet
from codemode_storage_memory import MemorySkillStorage, create_memory_skill_storage


@tool(description="Add two numbers")
def add(a: float, b: float) -> float:
    return a + b


SENT: list[str] = []


@tool(description="Send a message to someone", side_effects=True)
def send_message(to: str) -> str:
    SENT.append(to)
    return f"sent to {to}"


@dataclass
class Session:
    tools: ToolSet
    prompt: LivePrompt
    selected: list[Skill]
    storage: MemorySkillStorage
    events: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def context(self) -> ToolExecutionContext:
        return ToolExecutionContext(lambda name, data: self.events.append((name, data)))

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        tool_ = self.tools.get(name)
        assert tool_ is not None, f"no tool {name} in {self.tools}"
        return await tool_.execute(args, self.context)

    async def program(self, code: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("execute_typescript", {"typescriptCode": code})
        return result

    async def register(self, name: str, code: str, **fields: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "name": name,
            "description": fields.pop("description", f"The {name} skill"),
            "code": code,
            "inputSchema": fields.pop("inputSchema", {"type": "object"}),
            "outputSchema": fields.pop("outputSchema", {}),
            **fields,
        }
        result: dict[str, Any] = await self.call("register_skill", args)
        return result

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


@pytest.fixture
def sent() -> list[str]:
    """Who ``send_message`` (the tool with side effects) sent to in this test."""
    return SENT


@pytest.fixture
def code_mode() -> CodeMode:
    return create_code_mode(driver="quickjs", tools=[add, send_message], timeout=10_000)


@pytest.fixture
def storage() -> MemorySkillStorage:
    return create_memory_skill_storage()


MakeSession = Callable[..., Any]


@pytest.fixture
async def make_session(
    code_mode: CodeMode, storage: MemorySkillStorage
) -> AsyncIterator[MakeSession]:
    async def make(**config: Any) -> Session:
        messages = config.pop("messages", [{"role": "user", "content": "hello"}])
        adapter = config.pop("adapter", None)
        config.setdefault("storage", storage)
        chosen = config["storage"]
        tools, prompt, selected = await code_mode_with_skills(
            code_mode, adapter=adapter, skills=SkillsConfig(**config), messages=messages
        )
        return Session(tools, prompt, selected, chosen)

    SENT.clear()
    yield make
    SENT.clear()
