"""``code_mode_with_skills``: the code-mode tool, the skill tools and the loaded skills, live.

One call is one conversation's view of the skill library: it picks the skills relevant to
``messages``, and returns the tools to give the model (a live ``ToolSet``), the system prompt
(a ``LivePrompt``) and the skills it loaded. A skill registered or fetched with ``get_skill``
during the conversation is loaded at once: a tool in the set, a ``skill_<name>`` function in
the next program, and described by the prompt's next ``render()``.

Build the ``CodeMode`` once and pass it as ``config``: each call then costs a read of the
skill index and the selection, not a new driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codemode import plugins
from codemode.adapters import ModelAdapter
from codemode.code_mode import SKILL, CodeMode, CodeModeRunner, create_code_mode
from codemode.config import CodeModeConfig
from codemode.errors import ConfigError
from codemode.skills._config import SkillsConfig
from codemode.skills._configured import load_configured_storage
from codemode.skills._model import Skill
from codemode.skills._prompt import LivePrompt, render_skills_prompt
from codemode.skills._run import SkillEngine
from codemode.skills._select import select_relevant_skills
from codemode.skills._storage import SkillStorage
from codemode.skills._tools import get_skill_tool, register_skill_tool, search_skills_tool
from codemode.tools import Tool, ToolSet
from codemode.trust import TrustStrategy


@dataclass
class SkillSession:
    """The loaded skills of one conversation and the tools and prompt built from them."""

    code_mode: CodeMode
    storage: SkillStorage
    config: SkillsConfig
    strategy: TrustStrategy
    engine: SkillEngine
    tools: ToolSet = field(default_factory=ToolSet)
    loaded: dict[str, Skill] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)
    """Names in the library when the conversation started."""

    @property
    def total(self) -> int:
        """Skills in the library, counting those registered since the start."""
        return len(self.indexed | set(self.loaded))

    def activate(self, skill: Skill) -> None:
        """Load ``skill`` (or its newer version): callable now, described from now on."""
        self.loaded[skill.name] = skill
        description = f"{skill.description} (skill, {skill.trust_level.value})"
        self.code_mode.registry.add(
            self.engine.sandbox_tool(skill.name, description, skill), SKILL, replace=True
        )
        if self.config.skills_as_tools:
            self.tools.add(self.engine.direct_tool(skill), replace=True)

    def render_prompt(self) -> str:
        return (
            self.code_mode.system_prompt
            + "\n"
            + render_skills_prompt(
                list(self.loaded.values()),
                self.total,
                self.config,
                as_tools=self.config.skills_as_tools,
            )
        )


def _code_mode(config: CodeMode | CodeModeConfig | None, tools: Sequence[Tool]) -> CodeMode:
    if isinstance(config, CodeMode):
        if tools:
            raise ConfigError(
                "code_mode_with_skills: give tools to create_code_mode, not with a CodeMode"
            )
        # A registry of our own, so skills loaded here do not leak into other conversations.
        base = config.runner
        runner = CodeModeRunner(
            driver=base.driver,
            registry=base.registry.copy(),
            timeout=base.timeout,
            memory_limit=base.memory_limit,
            max_tool_calls=base.max_tool_calls,
            max_log_bytes=base.max_log_bytes,
            max_result_bytes=base.max_result_bytes,
            max_code_chars=base.max_code_chars,
            driver_name=base.driver_name,
            driver_options=base.driver_options,
            workers=base.workers,
        )
        return CodeMode(runner)
    if config is None or isinstance(config, CodeModeConfig):
        return create_code_mode(config=config, tools=tools)
    raise ConfigError(
        "code_mode_with_skills: config must be a CodeMode (from create_code_mode), a"
        f" CodeModeConfig (from load_config) or None, got {config!r}"
    )


def _skills_config(skills: SkillsConfig | None, config: Any) -> SkillsConfig:
    if skills is not None:
        if not isinstance(skills, SkillsConfig):
            raise ConfigError(f"skills must be a SkillsConfig, got {skills!r}")
        return skills
    if isinstance(config, CodeModeConfig):
        return SkillsConfig(
            storage=load_configured_storage(config),
            max_skills_in_context=config.skills.max_skills_in_context,
        )
    return SkillsConfig()


def _storage(config: SkillsConfig) -> SkillStorage:
    storage = config.storage
    if isinstance(storage, str):
        storage = plugins.load_storage(storage)
    if not isinstance(storage, SkillStorage):
        raise ConfigError(
            f"SkillsConfig.storage must be a SkillStorage or a storage name, got {storage!r}"
        )
    return storage


async def code_mode_with_skills(
    config: CodeMode | CodeModeConfig | None = None,
    *,
    adapter: ModelAdapter | None = None,
    skills: SkillsConfig | None = None,
    messages: Sequence[Any] = (),
    tools: Sequence[Tool] = (),
) -> tuple[ToolSet, LivePrompt, list[Skill]]:
    """``(tools_registry, system_prompt, selected_skills)`` for one conversation.

    ``config`` is the ``CodeMode`` to run programs with (its driver, limits and tools), or a
    ``CodeModeConfig`` (then ``tools`` are the tools, and ``skills`` defaults to its
    ``[skills]`` section). ``adapter`` is a cheap model for picking skills (None: BM25
    ranking). ``messages`` is the conversation so far (chat message dicts).
    """
    code_mode = _code_mode(config, tools)
    skills_config = _skills_config(skills, config)
    storage = _storage(skills_config)
    strategy = skills_config.trust_strategy or getattr(storage, "trust_strategy", None)
    if strategy is None:
        raise ConfigError(
            "the skill storage has no trust_strategy; set SkillsConfig.trust_strategy"
        )
    engine = SkillEngine(runner=code_mode.runner, storage=storage, config=skills_config)
    if skills_config.untrusted_isolation == "process":
        code_mode.runner.isolated_driver()  # a driver given as an object fails here, early
    index = await storage.load_index()
    selected = await select_relevant_skills(
        messages, storage, adapter, skills_config.max_skills_in_context
    )
    session = SkillSession(
        code_mode=code_mode,
        storage=storage,
        config=skills_config,
        strategy=strategy,
        engine=engine,
        tools=ToolSet(code_mode.tools),
        indexed={entry.name for entry in index},
    )
    for tool in (
        search_skills_tool(session),
        get_skill_tool(session),
        register_skill_tool(session),
    ):
        session.tools.add(tool)
    for skill in selected:
        session.activate(skill)
    return session.tools, LivePrompt(session.render_prompt), selected
