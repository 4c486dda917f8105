"""Config-driven selection of drivers, storages and adapters.

``load_config()`` reads ``codemode.toml``, else ``[tool.codemode]`` of ``pyproject.toml``
(searching from the current directory upwards, as ruff does), then applies
``CODEMODE_<SECTION>_<KEY>`` environment variables, which win. Everything is validated with
pydantic at load time: an unknown key, a wrong type or a plugin name that is not installed
raises ``ConfigError`` naming the file (or variable), the key and the reason.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, PrivateAttr

from codemode import plugins
from codemode._pydantic_errors import Location, describe_validation_error, dotted_path
from codemode.errors import ConfigError, PluginNotFoundError
from codemode.isolate import (
    DEFAULT_MAX_LOG_BYTES,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_TOOL_CALLS,
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIMEOUT_MS,
)

_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


class DriverSection(BaseModel):
    """``[driver]``: which isolate driver, and its limits."""

    model_config = _STRICT
    name: str = "quickjs"
    timeout: PositiveInt = DEFAULT_TIMEOUT_MS
    """Wall-clock limit per execution, in ms."""
    memory_limit: PositiveInt = DEFAULT_MEMORY_LIMIT_MB
    """Heap limit per execution, in MB."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword arguments for the driver's factory (for example ``max_stack_size``)."""
    isolation: Literal["auto", "none", "process"] = "auto"
    """Where programs run: ``none`` in this process, ``process`` in worker processes,
    ``auto`` in worker processes for drivers that can abort the host (``node``)."""
    workers: PositiveInt = 4
    """How many worker processes a process-isolated driver keeps warm."""


class LimitsSection(BaseModel):
    """``[limits]``: per-execution bounds besides time and memory."""

    model_config = _STRICT
    max_tool_calls: PositiveInt = DEFAULT_MAX_TOOL_CALLS
    max_log_bytes: PositiveInt = DEFAULT_MAX_LOG_BYTES
    max_result_bytes: PositiveInt = DEFAULT_MAX_RESULT_BYTES
    max_code_chars: PositiveInt = 128 * 1024
    """The longest ``typescriptCode`` accepted, in characters."""


class SkillsSection(BaseModel):
    """``[skills]``: where skills are stored and how they earn trust."""

    model_config = _STRICT
    storage: str = "memory"
    directory: str = "./.skills"
    """Any fsspec URL, for the ``fs`` storage."""
    trust: str = "default"
    max_skills_in_context: PositiveInt = 5


class ModelSection(BaseModel):
    """``[model]``: the adapter and model for the chat loop."""

    model_config = _STRICT
    adapter: str = "litellm"
    model: str | None = None
    base_url: str | None = None


class CodeModeConfig(BaseModel):
    """The whole configuration. ``source`` says where it was read from, if anywhere."""

    model_config = _STRICT
    driver: DriverSection = Field(default_factory=DriverSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    skills: SkillsSection = Field(default_factory=SkillsSection)
    model: ModelSection = Field(default_factory=ModelSection)
    source: str | None = Field(default=None, exclude=True)
    _explicit: frozenset[tuple[str, str]] = PrivateAttr(default=frozenset())

    def is_set(self, section: str, key: str) -> bool:
        """Whether ``[section] key`` was given (in the file, an environment variable or the
        constructor) rather than left at its default."""
        if (section, key) in self._explicit:
            return True
        part = getattr(self, section, None)
        return isinstance(part, BaseModel) and key in part.model_fields_set


_SECTIONS = ("driver", "limits", "skills", "model")
# Plugin names a config may select, checked at load time when set explicitly.
_PLUGIN_KEYS: dict[tuple[str, str], plugins.Kind] = {
    ("driver", "name"): "driver",
    ("skills", "storage"): "storage",
    ("skills", "trust"): "trust_strategy",
    ("model", "adapter"): "adapter",
}


def _find_file(start: Path) -> tuple[Path, dict[str, Any]] | None:
    for folder in (start, *start.parents):
        candidate = folder / "codemode.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            section = data.get("tool", {}).get("codemode")
            if section is not None:
                return pyproject, section
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _data_of(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("codemode")
        if section is None:
            raise ConfigError(f"{path}: has no [tool.codemode] table")
        return dict(section)
    return data


def _env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, str], tuple[str, str]]:
    """``(section, key) -> (variable, value)`` for every ``CODEMODE_<SECTION>_<KEY>``."""
    found = {}
    for variable, value in environ.items():
        if not variable.startswith("CODEMODE_"):
            continue
        rest = variable[len("CODEMODE_") :].lower()
        for section in _SECTIONS:
            if rest.startswith(section + "_"):
                found[(section, rest[len(section) + 1 :])] = (variable, value)
                break
    return found


def _config_key(loc: Location) -> str:
    """``("driver", "timeout")`` -> ``[driver] timeout``: the section as written in the file."""
    if not loc:
        return ""
    section = f"[{loc[0]}]"
    return f"{section} {dotted_path(loc[1:])}" if len(loc) > 1 else section


def _describe(exc: pydantic.ValidationError, where: str, prefix: str) -> ConfigError:
    detail = describe_validation_error(
        exc, lambda loc: prefix + _config_key(loc), unknown_key="unknown key"
    )
    return ConfigError(f"{where}: {detail}")


def _validate(data: dict[str, Any], where: str) -> CodeModeConfig:
    try:
        return CodeModeConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _describe(exc, where, "") from None


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    search_from: str | os.PathLike[str] | None = None,
    check_plugins: bool = True,
) -> CodeModeConfig:
    """Read and validate the configuration.

    ``path`` names a ``codemode.toml`` or ``pyproject.toml`` directly; without it the nearest
    one from ``search_from`` (default: the current directory) upwards is used, or defaults if
    there is none. Environment variables (``environ``, default ``os.environ``) win.
    """
    environ = os.environ if environ is None else environ
    source: str | None = None
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"{file}: no such config file")
        source, data = str(file), _data_of(file)
    else:
        found = _find_file(Path(search_from or Path.cwd()).resolve())
        if found is not None:
            source, data = str(found[0]), dict(found[1])
    where = source or "config"
    config = _validate(data, where)
    explicit: dict[tuple[str, str], str] = {}
    for section, values in data.items():
        if isinstance(values, dict):
            for key in values:
                explicit[(section, key)] = where
    for (section, key), (variable, value) in _env_overrides(environ).items():
        merged = config.model_dump()
        merged.setdefault(section, {})[key] = value
        try:
            config = CodeModeConfig.model_validate(merged)
        except pydantic.ValidationError as exc:
            raise _describe(exc, f"environment variable {variable}", "") from None
        explicit[(section, key)] = f"environment variable {variable}"
    config.source = source
    config._explicit = frozenset(explicit)
    if check_plugins:
        for (section, key), kind in _PLUGIN_KEYS.items():
            origin = explicit.get((section, key))
            if origin is None:
                continue
            name = getattr(getattr(config, section), key)
            if kind == "storage" and ("://" in name or name.startswith((".", "/", "~"))):
                name = "fs"
            try:
                plugins.lookup(kind, name)
            except PluginNotFoundError as exc:
                raise PluginNotFoundError(f"{origin}: [{section}] {key}: {exc}") from None
        _check_driver_options(config, explicit.get(("driver", "options"), where))
    _check_isolation(config, explicit.get(("driver", "isolation"), where))
    return config


def _check_driver_options(config: CodeModeConfig, origin: str) -> None:
    """``[driver] options`` must be keyword arguments the chosen driver's factory takes."""
    options = config.driver.options
    if not options:
        return
    try:
        plugins.check_options("driver", config.driver.name, options)
    except PluginNotFoundError:
        return  # the default driver is not installed: create_code_mode says so when used
    except ConfigError as exc:
        raise ConfigError(f"{origin}: [driver] options: {exc}") from None


def _check_isolation(config: CodeModeConfig, origin: str) -> None:
    """``[driver] isolation = "process"`` must name a driver that runs in this process."""
    from codemode.isolation import resolve_isolation

    try:
        resolve_isolation(config.driver.isolation, config.driver.name)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: [driver] {exc}") from None
