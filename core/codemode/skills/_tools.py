"""The skill tools the model is given: ``search_skills``, ``get_skill``, ``register_skill``.

They answer with plain dicts (``{"success": false, "error": ...}`` for a refused
registration) rather than raising, so the model reads why and tries again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from codemode.code_mode import _events as events
from codemode.errors import SkillError, ToolInputError
from codemode.skills._model import Skill
from codemode.skills._register import (
    RegistrationProblem,
    check_code,
    check_dependencies,
    check_input_schema,
    check_name,
    parse_schema,
)
from codemode.tools import Tool, ToolExecutionContext
from codemode.tools._validation import PassThrough, PydanticValidator
from codemode.trust import SkillStats

if TYPE_CHECKING:
    from codemode.skills._session import SkillSession

_CAMEL = ConfigDict(extra="forbid", populate_by_name=True)


class SearchSkillsInput(BaseModel):
    model_config = _CAMEL
    query: str = Field(description="What you want to do, in a few words")
    limit: int = Field(default=5, ge=1, le=50, description="How many results at most")


class GetSkillInput(BaseModel):
    model_config = _CAMEL
    name: str = Field(description="The skill's name (without the skill_ prefix)")


class RegisterSkillInput(BaseModel):
    model_config = _CAMEL
    name: str = Field(description="snake_case name, e.g. compare_npm_packages")
    description: str = Field(description="What the skill does, in one sentence")
    code: str = Field(
        description=(
            "TypeScript body of an async function: reads its argument as `input`, may await"
            " external_* and skill_* functions, and returns the result"
        )
    )
    input_schema: dict[str, Any] | str = Field(
        alias="inputSchema", description="JSON Schema of `input` (an object schema)"
    )
    output_schema: dict[str, Any] | str = Field(
        alias="outputSchema", description="JSON Schema of the returned value"
    )
    usage_hints: list[str] = Field(
        default_factory=list, alias="usageHints", description="When to use it"
    )
    depends_on: list[str] = Field(
        default_factory=list, alias="dependsOn", description="Skills this one calls"
    )


def _validator(model: type[BaseModel], tool: str) -> PydanticValidator:
    return PydanticValidator(pydantic.TypeAdapter(model), tool, ToolInputError, "input")


_ENTRY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "usageHints": {"type": "array", "items": {"type": "string"}},
        "trustLevel": {"type": "string", "enum": ["untrusted", "provisional", "trusted"]},
    },
    "required": ["name", "description", "usageHints", "trustLevel"],
}


def search_skills_tool(session: SkillSession) -> Tool:
    async def execute(args: SearchSkillsInput, context: ToolExecutionContext) -> Any:
        found = await session.storage.search(args.query, args.limit)
        return [
            {
                "name": entry.name,
                "description": entry.description,
                "usageHints": entry.usage_hints,
                "trustLevel": entry.trust_level.value,
            }
            for entry in found
        ]

    return Tool(
        name="search_skills",
        description=(
            "Search the library of saved skills (reusable programs) by what you want to do."
            " Call get_skill with a name to load it: it then runs as a tool and as"
            " skill_<name>(input) in execute_typescript programs."
        ),
        input_schema=SearchSkillsInput.model_json_schema(by_alias=True),
        output_schema={"type": "array", "items": _ENTRY_SCHEMA},
        execute=execute,
        input_validator=_validator(SearchSkillsInput, "search_skills"),
        output_validator=PassThrough(),
    )


def get_skill_tool(session: SkillSession) -> Tool:
    async def execute(args: GetSkillInput, context: ToolExecutionContext) -> Any:
        try:
            skill = await session.storage.get(args.name)
        except SkillError as exc:
            return {"error": f"skill {args.name!r} cannot be read: {exc}"}
        if skill is None:
            return {"error": f"there is no skill named {args.name!r}; try search_skills"}
        session.activate(skill)
        shown = skill.to_json()
        shown.pop("contentHash", None)
        shown["callAs"] = f"skill_{skill.name}"
        return shown

    return Tool(
        name="get_skill",
        description=(
            "Get a saved skill's code, schemas, trust level and stats, and load it: from then"
            " on it can be called as a tool and as skill_<name>(input) in programs."
        ),
        input_schema=GetSkillInput.model_json_schema(by_alias=True),
        output_schema={"type": "object"},
        execute=execute,
        input_validator=_validator(GetSkillInput, "get_skill"),
        output_validator=PassThrough(),
    )


def register_skill_tool(session: SkillSession) -> Tool:
    async def execute(args: RegisterSkillInput, context: ToolExecutionContext) -> Any:
        try:
            skill, updated = await _prepare(session, args)
        except RegistrationProblem as problem:
            return problem.to_json()
        try:
            saved = await session.storage.save(skill)
        except SkillError as exc:
            return {"success": False, "error": f"the skill could not be saved: {exc}"}
        session.activate(saved)
        context.emit_custom_event(
            events.SKILL_REGISTERED,
            {
                "id": saved.id,
                "name": saved.name,
                "description": saved.description,
                "timestamp": events.timestamp(),
            },
        )
        verb = "updated" if updated else "registered"
        return {
            "success": True,
            "skillId": saved.id,
            "name": saved.name,
            "updated": updated,
            "trustLevel": saved.trust_level.value,
            "message": (
                f"Skill {saved.name!r} {verb}. It is available now as the {saved.name!r} tool"
                f" and as skill_{saved.name}(input) in execute_typescript programs."
            ),
        }

    return Tool(
        name="register_skill",
        description=(
            "Save a working program as a reusable skill. Only register code that you ran and"
            " that worked. Registering an existing name updates that skill."
        ),
        input_schema=RegisterSkillInput.model_json_schema(by_alias=True),
        output_schema={"type": "object"},
        execute=execute,
        input_validator=_validator(RegisterSkillInput, "register_skill"),
        output_validator=PassThrough(),
    )


async def _prepare(session: SkillSession, args: RegisterSkillInput) -> tuple[Skill, bool]:
    name = check_name(args.name)
    if not args.description.strip():
        raise RegistrationProblem("description is empty: say what the skill does")
    check_code(args.code, session.engine.runner.max_code_chars)
    input_schema = parse_schema("inputSchema", args.input_schema)
    check_input_schema(input_schema)
    output_schema = parse_schema("outputSchema", args.output_schema)
    depends_on = await check_dependencies(name, args.code, args.depends_on, session.storage.get)
    try:
        existing = await session.storage.get(name)
    except SkillError:
        existing = None  # a broken stored copy is replaced by this one
    fields: dict[str, Any] = {
        "name": name,
        "description": args.description.strip(),
        "code": args.code,
        "input_schema": input_schema,
        "output_schema": output_schema,
        "usage_hints": [hint for hint in args.usage_hints if hint.strip()],
        "depends_on": depends_on,
    }
    if existing is not None:
        fields.update(id=existing.id, trust_level=existing.trust_level, stats=existing.stats)
    else:
        fields.update(trust_level=session.strategy.get_initial_trust_level(), stats=SkillStats())
    return Skill(**fields), existing is not None
