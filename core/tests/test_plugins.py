"""The plugin manager: entry points, built-ins through the same hooks, typed lookups."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import metadata
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


# Factories imported on first use -----------------------------------------------------------


def test_a_lazy_factory_imports_its_module_when_called() -> None:
    factory = plugins.LazyFactory("json:dumps")
    assert factory([1, 2]) == "[1, 2]"
    assert "sort_keys" in str(inspect.signature(factory))
    assert repr(factory) == "LazyFactory('json:dumps')"


@pytest.mark.parametrize("target", ["json", ":dumps", "json:"])
def test_a_lazy_factory_needs_module_and_attribute(target: str) -> None:
    with pytest.raises(ValueError, match="module:attribute"):
        plugins.LazyFactory(target)


@pytest.mark.parametrize("target", ["no_such_module_here:create", "json:no_such_factory"])
def test_a_lazy_factory_that_fails_to_load_says_which_and_why(target: str) -> None:
    factory = plugins.LazyFactory(target)
    with pytest.raises(PluginNotFoundError, match=f"{target} fails to load: .*Error"):
        factory()


def test_options_are_checked_against_a_lazy_factorys_real_signature() -> None:
    class Lazy:
        @codemode.hookimpl
        def codemode_isolate_drivers(self) -> dict[str, Any]:
            return {"lazy": plugins.LazyFactory(f"{__name__}:FakeDriver")}

    pm = plugins.create_plugin_manager(autoload=False)
    pm.register(Lazy())
    with plugins.use_plugin_manager(pm):
        driver = plugins.load_driver("lazy", timeout=5)
        assert isinstance(driver, FakeDriver)
        assert driver.options == {"timeout": 5}


def test_codemode_plugins_reports_a_lazy_factory_that_fails_to_load() -> None:
    class Broken:
        @codemode.hookimpl
        def codemode_isolate_drivers(self) -> dict[str, Any]:
            return {"broken": plugins.LazyFactory("no_such_engine_binding:create")}

    pm = plugins.create_plugin_manager(autoload=False)
    pm.register(Broken(), name="broken-plugin")
    with plugins.use_plugin_manager(pm):
        (info,) = [i for i in plugins.installed_plugins() if i.name == "broken-plugin"]
    assert info.error is not None
    assert "no_such_engine_binding" in info.error


# What a run does not need is not imported (a fresh process each) ---------------------------

_ENGINES_AND_CLIENTS = ("py_mini_racer", "quickjs", "httpx", "websockets", "jsonschema")


def _modules_after(script: str) -> set[str]:
    code = script + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_finding_the_installed_plugins_imports_no_engine_and_no_client() -> None:
    loaded = _modules_after("from codemode import plugins\nprint(plugins.names('driver'))")
    # Every installed plugin was found (imported), whichever of them this environment has:
    # the run with the lowest dependency versions installs QuickJS but not V8.
    installed = {entry.value.split(".")[0] for entry in metadata.entry_points(group="codemode")}
    assert "codemode_quickjs" in installed
    assert installed <= loaded
    assert not {m for m in loaded if m.split(".")[0] in _ENGINES_AND_CLIENTS}
    assert not {m for m in loaded if m.endswith(("._driver", "._storage", "._native"))}


def test_a_quickjs_run_imports_neither_v8_nor_an_http_client() -> None:
    script = (
        "import asyncio\n"
        "from codemode import create_code_mode, tool\n"
        "@tool\n"
        "def echo(i: int) -> int:\n"
        "    'Echo.'\n"
        "    return i\n"
        "code_mode = create_code_mode(driver='quickjs', tools=[echo], isolation='none')\n"
        "print(asyncio.run(code_mode.run('return await external_echo({i: 2})'))['result'])\n"
    )
    loaded = _modules_after(script)
    assert "quickjs" in loaded
    unneeded = {m for m in loaded if m.split(".")[0] in ("py_mini_racer", "httpx", "websockets")}
    assert not unneeded
    assert "jsonschema" not in loaded  # a typed tool needs pydantic only
