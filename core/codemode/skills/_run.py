"""Running one skill: checks, its trust policy, its own sandbox, stats, events.

A skill runs the same way whether the model calls it as a tool or a program calls
``skill_<name>(input)``: the stored skill is read fresh (so what runs is what is stored, at its
current level), its input is validated against its schema, the cycle and depth rules and the
level's ``SkillPolicy`` are applied, its code runs in a fresh context of the code-mode
driver, its output is validated, and one run is recorded in its stats. Events
``code_mode:skill_call`` / ``skill_result`` / ``skill_error`` go to the caller's context.

What counts as a run: anything that reached the skill's program (a throw, a timeout, an output
that fails the skill's own output schema). What does not: bad input, a refused approval, a
cycle or depth error, a skill that does not exist: the skill never ran.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from codemode.code_mode import CodeModeRunner
from codemode.code_mode import _events as events
from codemode.code_mode._registry import EXTERNAL, SKILL, Entry, ToolRegistry
from codemode.context import EventSink
from codemode.errors import (
    SkillApprovalError,
    SkillCycleError,
    SkillDepthError,
    SkillError,
    SkillFailedError,
    SkillPermissionError,
    SkillRunError,
    ToolInputError,
    ToolOutputError,
)
from codemode.isolate import IsolateDriver
from codemode.sandbox._limit import ConcurrencyLimit
from codemode.sandbox._protocol import dumps
from codemode.skills._config import SkillPolicy, SkillsConfig, ask_approval
from codemode.skills._model import Skill
from codemode.skills._storage import SkillStorage
from codemode.tools import Tool, ToolExecutionContext
from codemode.tools._validation import JsonSchemaValidator, PassThrough
from codemode.trust import TrustLevel
from codemode.typescript import TypeScriptSyntaxError, strip_types_cached


class SkillWarning(UserWarning):
    """Something went wrong around a skill run that did not change its result (stats)."""


class SkillContext(ToolExecutionContext):
    """The context of the calls a skill's program makes: which skills are running (outermost
    first), at what level, and the policy they run under together."""

    __slots__ = ("chain", "policy")

    def __init__(
        self,
        emit_custom_event: EventSink | None,
        tool_call_id: str | None,
        chain: tuple[tuple[str, TrustLevel], ...],
        policy: SkillPolicy,
    ) -> None:
        super().__init__(emit_custom_event, tool_call_id)
        self.chain = chain
        self.policy = policy


def _chain_of(context: ToolExecutionContext) -> tuple[tuple[str, TrustLevel], ...]:
    return context.chain if isinstance(context, SkillContext) else ()


@dataclass
class SkillEngine:
    """Runs skills for one skills session (one ``code_mode_with_skills`` call)."""

    runner: CodeModeRunner
    storage: SkillStorage
    config: SkillsConfig
    _validators: dict[str, tuple[JsonSchemaValidator, JsonSchemaValidator]] = field(
        default_factory=dict, repr=False
    )
    _running: ConcurrencyLimit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Programs run their skills inside their own slot of the driver (see ConcurrencyLimit);
        # this bounds how many such skill programs one conversation runs at once. Skills
        # called by skills do not wait for it: their callers hold it already.
        self._running = ConcurrencyLimit(self.config.max_concurrent_runs)

    def sandbox_tool(self, name: str, description: str = "", skill: Skill | None = None) -> Tool:
        """The tool behind ``skill_<name>``: schemas only document it, ``run`` checks."""
        return self._tool(name, description, skill)

    def direct_tool(self, skill: Skill) -> Tool:
        """The skill as a tool the model calls directly."""
        return self._tool(skill.name, f"[SKILL] {skill.description}", skill)

    def _tool(self, name: str, description: str, skill: Skill | None) -> Tool:
        async def execute(args: Any, context: ToolExecutionContext) -> Any:
            return await self.run(name, args, context)

        return Tool(
            name=name,
            description=description,
            input_schema=skill.input_schema if skill else {"type": "object"},
            output_schema=skill.output_schema if skill else None,
            execute=execute,
            input_validator=PassThrough(),
            output_validator=PassThrough(),
        )

    async def run(self, name: str, input: Any, context: ToolExecutionContext | None = None) -> Any:
        """Run skill ``name`` on ``input``: its result, or a ``ToolError`` for the caller."""
        context = context or ToolExecutionContext()
        chain = _chain_of(context)
        self._check_chain(name, chain)
        skill = await self._load(name)
        check_input, check_output = self._validators_for(skill)
        if not isinstance(input, dict):
            raise ToolInputError(
                f"skill {name}: input must be an object like {{...}}, got {type(input).__name__}"
            )
        check_input.validate(input)
        policy = self.config.policy(skill.trust_level)
        if isinstance(context, SkillContext):
            policy = policy.combined(context.policy)
        await self._approve(skill, input)

        emit = context.emit_custom_event
        started = time.perf_counter()
        emit(events.SKILL_CALL, {"skill": name, "input": input, "timestamp": events.timestamp()})
        try:
            if chain:
                value = await self._execute(skill, input, context, chain, policy, check_output)
            else:
                async with self._running:
                    value = await self._execute(skill, input, context, chain, policy, check_output)
        except Exception as exc:
            emit(
                events.SKILL_ERROR,
                {
                    "skill": name,
                    "error": str(exc),
                    "duration": events.duration_ms(started),
                    "timestamp": events.timestamp(),
                },
            )
            raise
        emit(
            events.SKILL_RESULT,
            {
                "skill": name,
                "result": value,
                "duration": events.duration_ms(started),
                "timestamp": events.timestamp(),
            },
        )
        return value

    def _check_chain(self, name: str, chain: tuple[tuple[str, TrustLevel], ...]) -> None:
        names = [entry[0] for entry in chain]
        if name in names:
            cycle = " -> ".join([*names[names.index(name) :], name])
            raise SkillCycleError(
                f"skill cycle: {cycle}; a skill may not call itself, directly or through"
                " other skills"
            )
        if len(chain) >= self.config.max_depth:
            path = " -> ".join([*names, name])
            raise SkillDepthError(
                f"skills nested too deeply: {path} is deeper than the limit of"
                f" {self.config.max_depth} (SkillsConfig.max_depth)"
            )

    async def _load(self, name: str) -> Skill:
        try:
            skill = await self.storage.get(name)
        except SkillError as exc:
            raise SkillRunError(f"skill {name} cannot be loaded: {exc}") from None
        if skill is None:
            raise SkillRunError(
                f"there is no skill named {name!r} (it may have been deleted); use"
                " search_skills to find one"
            )
        return skill

    def _validators_for(self, skill: Skill) -> tuple[JsonSchemaValidator, JsonSchemaValidator]:
        key = skill.computed_hash()
        found = self._validators.get(key)
        if found is None:
            try:
                found = (
                    JsonSchemaValidator(
                        skill.input_schema, f"skill {skill.name}", ToolInputError, "input"
                    ),
                    JsonSchemaValidator(
                        skill.output_schema, f"skill {skill.name}", ToolOutputError, "output"
                    ),
                )
            except jsonschema.SchemaError as exc:
                raise SkillRunError(
                    f"skill {skill.name} has a stored schema that is not valid JSON Schema:"
                    f" {exc.message}"
                ) from None
            self._validators[key] = found
        return found

    async def _approve(self, skill: Skill, input: dict[str, Any]) -> None:
        approve = self.config.approve
        if (
            approve is None
            or skill.trust_level is not TrustLevel.UNTRUSTED
            or skill.stats.executions > 0
        ):
            return
        try:
            approved = await ask_approval(approve, skill, input)
        except Exception as exc:
            raise SkillApprovalError(
                f"skill {skill.name}: the approve callback failed ({type(exc).__name__}: {exc}),"
                " so its first run was refused"
            ) from None
        if not approved:
            raise SkillApprovalError(
                f"skill {skill.name} is untrusted and its first run was not approved"
            )

    async def _execute(
        self,
        skill: Skill,
        input: dict[str, Any],
        context: ToolExecutionContext,
        chain: tuple[tuple[str, TrustLevel], ...],
        policy: SkillPolicy,
        check_output: JsonSchemaValidator,
    ) -> Any:
        """Run the skill's program, check its output and record the run; its value."""
        try:
            body = strip_types_cached(skill.code)
        except TypeScriptSyntaxError as exc:
            await self._record(skill.name, success=False)
            raise SkillFailedError(
                f"skill {skill.name} does not parse: {exc.message} (line {exc.line} of its code)"
            ) from None
        # On the first line, so the code's own lines keep their numbers in errors.
        javascript = f"const input = {dumps(input)}; {body}"
        inner_chain = (*chain, (skill.name, skill.trust_level))
        inner = SkillContext(context.emit_custom_event, context.tool_call_id, inner_chain, policy)
        # The stats are written before the context is disposed: the engine's clean-up (QuickJS
        # prepares its next runtime then, holding the GIL) would otherwise slow the write.
        async with self.runner.sandbox(
            inner,
            registry=_SkillView(self, skill, inner_chain, policy),
            timeout_ms=policy.timeout,
            max_tool_calls=policy.max_tool_calls,
            driver=self.driver_for(skill),
        ) as execute:
            result = await execute(javascript)
            try:
                if not result.success:
                    error = result.error
                    where = f" (line {error.line} of its code)" if error and error.line else ""
                    detail = f"{error.name}: {error.message}" if error else "unknown error"
                    raise SkillFailedError(f"skill {skill.name} failed: {detail}{where}")
                value = check_output.validate(result.value)
            except Exception:
                await self._record(skill.name, success=False)
                raise
            await self._record(skill.name, success=True)
            return value

    def driver_for(self, skill: Skill) -> IsolateDriver | None:
        """The driver a skill's program runs on: None for the code mode's own, or a
        process-isolated one for an untrusted skill when ``untrusted_isolation`` says so."""
        if (
            self.config.untrusted_isolation == "process"
            and skill.trust_level is TrustLevel.UNTRUSTED
        ):
            return self.runner.isolated_driver()
        return None

    async def _record(self, name: str, *, success: bool) -> None:
        try:
            await self.storage.update_stats(name, success)
        except Exception as exc:
            # The run happened and its result stands; only its count is lost.
            warnings.warn(
                f"skill {name}: its run could not be recorded: {exc}", SkillWarning, stacklevel=2
            )


class _SkillView:
    """The functions one skill's program may call: the session's, its declared dependencies,
    and in place of each tool with side effects that its policy withholds, one that refuses."""

    def __init__(
        self,
        engine: SkillEngine,
        skill: Skill,
        chain: tuple[tuple[str, TrustLevel], ...],
        policy: SkillPolicy,
    ) -> None:
        self._engine = engine
        self._skill = skill
        self._chain = chain
        self._policy = policy

    def entries(self) -> list[Entry]:
        registry: ToolRegistry = self._engine.runner.registry
        entries = []
        for entry in registry.entries():
            if entry.kind is EXTERNAL and entry.tool.side_effects and not self._policy.side_effects:
                entries.append(Entry(EXTERNAL, self._refusal(entry.tool)))
            else:
                entries.append(entry)
        bound = {entry.function_name for entry in entries}
        for name in self._skill.depends_on:
            if SKILL.function_name(name) not in bound:
                entries.append(Entry(SKILL, self._engine.sandbox_tool(name)))
        return entries

    def _refusal(self, tool: Tool) -> Tool:
        level_of = dict(self._chain)
        policies = self._engine.config
        blocker = next(
            (name for name, level in self._chain if not policies.policy(level).side_effects),
            self._skill.name,
        )
        level = level_of.get(blocker, self._skill.trust_level).value
        who = "it" if blocker == self._skill.name else f"its caller, skill {blocker},"
        message = (
            f"skill {self._skill.name} may not call external_{tool.name}: that tool has side"
            f" effects, and {who} is {level}. {level.capitalize()} skills may not cause side"
            " effects, directly or through other skills; this is lifted as the skill earns"
            " trust through successful runs, or by SkillsConfig(policies=...)"
        )

        async def refuse(args: Any, context: ToolExecutionContext) -> Any:
            raise SkillPermissionError(message)

        return Tool(
            name=tool.name,
            description=tool.description,
            input_schema=tool.input_schema,
            output_schema=tool.output_schema,
            execute=refuse,
            input_validator=PassThrough(),
            output_validator=PassThrough(),
        )
