"""The plugin manager: entry points, built-ins through the same hooks, typed lookups."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import codemode
from codemode import plugins
from codemode.errors import PluginNotFoundError
from codemode.isolate import IsolateConfig, IsolateContext


class FakeDriver:
    def __init__(self, **options: Any) -> None:
        self.options = options

    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        raise NotImplementedError


class ThirdParty:
    @codemode.hookimpl
    def codemode_isolate_drivers(self) -> dict[str, Any]:
        return {"fake": FakeDriver}


def test_entry_points_register_quickjs() -> None:
    assert "quickjs" in plugins.names("driver")


def test_builtins_register_through_hooks() -> None:
    pm = plugins.create_plugin_manager(autoload=False)
    with plugins.use_plugin_manager(pm):
        assert plugins.names("trust_strategy") == ["always_trusted", "custom", "default", "relaxed"]
        assert plugins.names("driver") == []


def test_third_party_plugin_and_options() -> None:
    pm = plugins.create_plugin_manager(autoload=False)
    pm.register(ThirdParty())
    with plugins.use_plugin_manager(pm):
        driver = plugins.load_driver("fake", timeout=5)
        assert isinstance(driver, FakeDriver)
        assert driver.options == {"timeout": 5}


def test_unknown_name_lists_installed_and_pip_line() -> None:
    # A known name whose plugin is not installed here (blocked, since the workspace has it).
    pm = plugins.create_plugin_manager(autoload=True)
    pm.set_blocked("cloudflare")
    with plugins.use_plugin_manager(pm), pytest.raises(PluginNotFoundError) as info:
        plugins.load_driver("cloudflare")
    message = str(info.value)
    assert "no isolate driver named 'cloudflare'" in message
    assert "quickjs" in message
    assert "pip install codemode-cloudflare" in message


def test_unknown_storage_and_adapter() -> None:
    # A manager without the installed plugins, as for a user who has not installed them.
    with (
        plugins.use_plugin_manager(plugins.create_plugin_manager(autoload=False)),
        pytest.raises(PluginNotFoundError, match="pip install codemode-storage-memory"),
    ):
        plugins.load_storage("memory")
    with pytest.raises(PluginNotFoundError, match="no model adapter named 'nope'"):
        plugins.load_adapter("nope", "openai/gpt-4o-mini")


def test_trust_strategy_lookup() -> None:
    strategy = plugins.load_trust_strategy("relaxed")
    assert strategy.get_initial_trust_level() == "untrusted"


def test_disable_autoload_environment_variable() -> None:
    code = (
        "from codemode import plugins; "
        "print(plugins.names('driver'), plugins.names('trust_strategy'))"
    )
    env_off = {"CODEMODE_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env_off, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] ['always_trusted', 'custom', 'default', 'relaxed']"
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PATH": ""}, capture_output=True, text=True, check=True
    ).stdout
    assert "'quickjs'" in out


def test_installed_plugins_reports_versions() -> None:
    infos = {info.name: info for info in plugins.installed_plugins()}
    assert infos["codemode-quickjs"].version == "0.1.0"
    assert infos["codemode-quickjs"].kinds == {"driver": ["quickjs"]}
    assert infos["codemode.trust"].kinds["trust_strategy"] == [
        "always_trusted",
        "custom",
        "default",
        "relaxed",
    ]


def test_a_broken_plugin_does_not_break_the_others(tmp_path: Path) -> None:
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[codemode]\nbroken = no_such_module_anywhere\n")
    code = (
        "from codemode import plugins\n"
        "print(plugins.names('driver'))\n"
        "try:\n    plugins.load_driver('broken')\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "'quickjs'" in out
    assert "PluginNotFoundError no isolate driver named 'broken'" in out
    assert "broken (broken-plugin): ModuleNotFoundError" in out
