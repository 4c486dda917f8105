"""The page's chat: a model from ``[model]`` of the config, Code Mode over the demo tools,
and skills kept under the app's data directory.

Without a model the chat is off and ``status()`` says how to configure one; the playground
works either way.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from ag_ui.core import BaseEvent

from codemode import plugins
from codemode.adapters import ModelAdapter
from codemode.agent import chat
from codemode.config import CodeModeConfig
from codemode.errors import PluginNotFoundError
from codemode.skills import SkillsConfig, SkillStorage, code_mode_with_skills
from codemode.skills._configured import load_configured_storage
from codemode.web._drivers import DriverPool

HOW_TO = """\
To chat, name a model in codemode.toml (in the folder you start codemode serve from):

    [model]
    adapter = "litellm"                  # any LiteLLM provider
    model = "anthropic/claude-sonnet-4-5"

or, for a local OpenAI-compatible server (llama.cpp, vLLM, Ollama, ...):

    [model]
    adapter = "openai"
    model = "qwen2.5-coder"
    base_url = "http://127.0.0.1:8080/v1"

The same as environment variables: CODEMODE_MODEL_ADAPTER, CODEMODE_MODEL_MODEL,
CODEMODE_MODEL_BASE_URL. Put the provider's API key in its usual variable
(ANTHROPIC_API_KEY, OPENAI_API_KEY, ...), then start codemode serve again.
"""


def skill_storage(config: CodeModeConfig, data_dir: Path) -> SkillStorage:
    """The configured ``[skills]`` storage, else files under ``data_dir/skills`` (memory when
    the ``fs`` storage is not installed)."""
    if config.is_set("skills", "storage") or config.is_set("skills", "directory"):
        return load_configured_storage(config)
    strategy = plugins.load_trust_strategy(config.skills.trust)
    try:
        storage: SkillStorage = plugins.load_storage(
            "fs", directory=str(data_dir / "skills"), trust_strategy=strategy
        )
    except PluginNotFoundError:
        storage = plugins.load_storage("memory", trust_strategy=strategy)
    return storage


class ChatService:
    """Turns a chat request into the AG-UI event stream of one agent run."""

    def __init__(self, config: CodeModeConfig, pool: DriverPool, storage: SkillStorage) -> None:
        self.config = config
        self.pool = pool
        self.storage = storage
        self._adapter: ModelAdapter | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.config.model.model)

    def status(self) -> dict[str, Any]:
        model = self.config.model
        return {
            "enabled": self.enabled,
            "adapter": model.adapter,
            "model": model.model,
            "baseUrl": model.base_url,
            "howTo": None if self.enabled else HOW_TO,
        }

    def adapter(self) -> ModelAdapter:
        if self._adapter is None:
            model = self.config.model
            assert model.model is not None
            options: dict[str, Any] = {}
            if model.base_url:
                options["base_url"] = model.base_url
                if model.adapter == "openai" and not os.environ.get("OPENAI_API_KEY"):
                    # Local OpenAI-compatible servers take any key; the SDK insists on one.
                    options["api_key"] = "local"
            self._adapter = plugins.load_adapter(model.adapter, model.model, **options)
        return self._adapter

    async def run(
        self, messages: Sequence[Any], driver: str, run_id: str, thread_id: str | None = None
    ) -> AsyncIterator[BaseEvent]:
        """The events of one chat run; raises ``ChatInputError`` for bad messages at once."""
        code_mode = await self.pool.code_mode(driver)
        tools, prompt, _selected = await code_mode_with_skills(
            code_mode,
            skills=SkillsConfig(
                storage=self.storage,
                max_skills_in_context=self.config.skills.max_skills_in_context,
            ),
            messages=messages,
        )
        return chat(
            adapter=self.adapter(),
            messages=messages,
            tools=tools,
            system_prompts=[prompt],
            thread_id=thread_id,
            run_id=run_id,
        )

    async def skills(self) -> list[dict[str, Any]]:
        """The stored skills, as the page lists them."""
        listed = []
        for entry in await self.storage.load_index():
            skill = await self.storage.get(entry.name)
            stats = skill.stats if skill is not None else None
            listed.append(
                {
                    "name": entry.name,
                    "description": entry.description,
                    "trustLevel": entry.trust_level.value,
                    "executions": stats.executions if stats else 0,
                    "successRate": stats.success_rate if stats else None,
                }
            )
        return listed
