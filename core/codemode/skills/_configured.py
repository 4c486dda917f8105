"""The skill storage a config's ``[skills]`` section names, made with what that section says.

``storage`` names the plugin (or is a folder / fsspec URL for ``fs``), ``trust`` the strategy it
gets, and ``directory`` goes to the storage when it is ``fs`` or when the section sets it and
the storage's factory takes a ``directory`` (a third party's, such as the SQLite example).
"""

from __future__ import annotations

from typing import Any

from codemode import plugins
from codemode.config import CodeModeConfig
from codemode.errors import ConfigError
from codemode.skills._storage import SkillStorage


def _is_location(name: str) -> bool:
    return "://" in name or name.startswith((".", "/", "~"))


def load_configured_storage(config: CodeModeConfig, name: str | None = None) -> SkillStorage:
    """The storage of ``config``'s ``[skills]`` (or the one called ``name``, with the same
    trust strategy)."""
    section = config.skills
    chosen = name or section.storage
    options: dict[str, Any] = {"trust_strategy": plugins.load_trust_strategy(section.trust)}
    if name is None and not _is_location(chosen):
        if chosen in ("fs", "file"):
            options["directory"] = section.directory
        elif config.is_set("skills", "directory"):
            with_directory = {**options, "directory": section.directory}
            try:
                plugins.check_options("storage", chosen, with_directory)
            except ConfigError:
                pass  # its factory takes no directory: the setting is for fs storages
            else:
                options = with_directory
    storage: SkillStorage = plugins.load_storage(chosen, **options)
    return storage
