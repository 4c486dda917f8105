"""Config loading: files, pyproject, environment, and errors that name file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemode import load_config, plugins
from codemode.errors import ConfigError, PluginNotFoundError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    config = load_config(search_from=tmp_path, environ={})
    assert config.driver.name == "quickjs"
    assert config.driver.timeout == 30_000
    assert config.source is None


def test_codemode_toml(tmp_path: Path) -> None:
    write(
        tmp_path / "codemode.toml",
        '[driver]\nname = "quickjs"\ntimeout = 5000\nmemory_limit = 64\n',
    )
    config = load_config(search_from=tmp_path, environ={})
    assert (config.driver.timeout, config.driver.memory_limit) == (5000, 64)
    assert config.source == str(tmp_path / "codemode.toml")


def test_pyproject_section_found_from_a_subfolder(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n[tool.codemode.driver]\ntimeout = 1234\n',
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert load_config(search_from=sub, environ={}).driver.timeout == 1234


def test_environment_wins(tmp_path: Path) -> None:
    write(tmp_path / "codemode.toml", "[driver]\ntimeout = 5000\n")
    config = load_config(
        search_from=tmp_path,
        environ={"CODEMODE_DRIVER_TIMEOUT": "700", "CODEMODE_SKILLS_DIRECTORY": "s3://b/p"},
    )
    assert config.driver.timeout == 700
    assert config.skills.directory == "s3://b/p"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", "[driver]\ntimeuot = 5000\n")
    with pytest.raises(ConfigError, match=r"codemode\.toml: \[driver\] timeuot: unknown key"):
        load_config(path, environ={})


def test_wrong_type_names_file_key_and_value(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", '[driver]\ntimeout = "soon"\n')
    with pytest.raises(
        ConfigError, match=r"\[driver\] timeout: Input should be a valid integer.*'soon'"
    ):
        load_config(path, environ={})


def test_zero_timeout_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", "[driver]\ntimeout = 0\n")
    with pytest.raises(ConfigError, match=r"\[driver\] timeout: Input should be greater than 0"):
        load_config(path, environ={})


def test_unknown_section(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", "[drivers]\nname = 'quickjs'\n")
    with pytest.raises(ConfigError, match=r"\[drivers\]: unknown key"):
        load_config(path, environ={})


def test_unknown_plugin_names_file_key_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", '[driver]\nname = "cloudflare"\n')
    # A known name whose plugin is not installed here (blocked, since the workspace has it).
    pm = plugins.create_plugin_manager(autoload=True)
    pm.set_blocked("cloudflare")
    with plugins.use_plugin_manager(pm), pytest.raises(PluginNotFoundError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: [driver] name: no isolate driver named 'cloudflare'")
    assert "pip install codemode-cloudflare" in message


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable CODEMODE_DRIVER_MEMORY_LIMIT"):
        load_config(search_from=tmp_path, environ={"CODEMODE_DRIVER_MEMORY_LIMIT": "lots"})
    with pytest.raises(
        ConfigError, match=r"environment variable CODEMODE_DRIVER_NAM: \[driver\] nam: unknown key"
    ):
        load_config(search_from=tmp_path, environ={"CODEMODE_DRIVER_NAM": "quickjs"})


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path / "codemode.toml", "[driver\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml", environ={})
