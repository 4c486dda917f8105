"""Checks a skill must pass before it is saved: name, code, schemas, dependencies.

Each failure is a ``RegistrationProblem`` with a message the model can act on (and the line,
for code that does not parse); nothing is saved when any check fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema

from codemode.errors import SkillError, SkillNameError
from codemode.skills._model import Skill, check_skill_name
from codemode.typescript import TypeScriptSyntaxError, strip_types_cached

_CALLS = re.compile(r"\bskill_([a-z][a-z0-9_]*)\s*\(")


class RegistrationProblem(Exception):
    """Why a skill was not saved (a value to return to the model, not an error of the host)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"success": False, "error": self.message}
        if self.line is not None:
            answer["line"] = self.line
            answer["column"] = self.column
        return answer


def check_name(name: str) -> str:
    try:
        return check_skill_name(name)
    except SkillNameError as exc:
        raise RegistrationProblem(str(exc)) from None


def check_code(code: str, max_chars: int) -> None:
    if not code.strip():
        raise RegistrationProblem(
            "code is empty: give the body of the program, which reads `input`"
        )
    if len(code) > max_chars:
        raise RegistrationProblem(f"code is {len(code)} characters, over the limit of {max_chars}")
    try:
        strip_types_cached(code)
    except TypeScriptSyntaxError as exc:
        raise RegistrationProblem(
            f"code does not parse: {exc.message} (line {exc.line}, column {exc.column});"
            " nothing was saved",
            exc.line,
            exc.column,
        ) from None


def parse_schema(field: str, value: Any) -> dict[str, Any]:
    """A schema given as an object or as a JSON string, checked as JSON Schema."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise RegistrationProblem(f"{field} is a string but not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise RegistrationProblem(
            f"{field} must be a JSON Schema object, got {type(value).__name__}"
        )
    checker = jsonschema.validators.validator_for(value, default=jsonschema.Draft202012Validator)
    try:
        checker.check_schema(value)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(top level)"
        raise RegistrationProblem(
            f"{field} is not valid JSON Schema: at {where}: {exc.message}"
        ) from None
    return value


def check_input_schema(schema: dict[str, Any]) -> None:
    if schema.get("type") != "object":
        raise RegistrationProblem(
            'inputSchema must describe an object ({"type": "object", "properties": {...}}):'
            " a skill takes one object argument, like every sandbox function"
        )


Lookup = Callable[[str], Awaitable[Skill | None]]


async def check_dependencies(name: str, code: str, declared: list[str], get: Lookup) -> list[str]:
    """Declared dependencies plus the ``skill_<x>(`` calls in the code, each existing, with
    no cycle back to ``name``; the full list, in order."""
    wanted = list(dict.fromkeys([*declared, *_CALLS.findall(code)]))
    for dependency in wanted:
        check_name_of_dependency(dependency)
        if dependency == name:
            raise RegistrationProblem(
                f"skill {name} calls itself (skill_{name}); a skill may not call itself"
            )
        if await _get(get, dependency) is None:
            raise RegistrationProblem(
                f"skill {name} calls skill_{dependency}, but there is no skill {dependency!r};"
                " register it first"
            )
    # Walk what the dependencies depend on; any path back to ``name`` is a cycle.
    seen: set[str] = set()
    stack = [(dependency, [name, dependency]) for dependency in wanted]
    while stack:
        current, path = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        skill = await _get(get, current)
        for nxt in skill.depends_on if skill else []:
            if nxt == name:
                raise RegistrationProblem(
                    f"skill {name} would form a cycle: {' -> '.join([*path, name])}"
                )
            stack.append((nxt, [*path, nxt]))
    return wanted


def check_name_of_dependency(dependency: str) -> None:
    try:
        check_skill_name(dependency)
    except SkillNameError as exc:
        raise RegistrationProblem(f"dependsOn: {exc}") from None


async def _get(get: Lookup, name: str) -> Skill | None:
    try:
        return await get(name)
    except SkillError:
        return None
