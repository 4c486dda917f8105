"""The public surface is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

import codemode
import codemode.adapters
import codemode.code_mode
import codemode.demo
import codemode.isolation
import codemode.sandbox
import codemode.skills
import codemode.testing
import codemode.tools
import codemode.typescript
import codemode.web
import codemode_quickjs


def test_codemode_top_level() -> None:
    assert codemode.__all__ == [
        "CodeMode",
        "Skill",
        "SkillsConfig",
        "Tool",
        "ToolExecutionContext",
        "chat",
        "code_mode_with_skills",
        "create_always_trusted_strategy",
        "create_code_mode",
        "create_code_mode_system_prompt",
        "create_code_mode_tool",
        "create_custom_trust_strategy",
        "create_default_trust_strategy",
        "create_relaxed_trust_strategy",
        "hookimpl",
        "litellm_text",
        "load_config",
        "max_iterations",
        "openai_text",
        "to_server_sent_events",
        "to_server_sent_events_response",
        "tool",
        "tool_definition",
    ]


def test_all_names_resolve() -> None:
    # Sortedness is ruff's job (RUF022).
    for module in (
        codemode,
        codemode.code_mode,
        codemode.isolation,
        codemode.sandbox,
        codemode.skills,
        codemode.adapters,
        codemode.testing,
        codemode.tools,
        codemode.typescript,
        codemode.demo,
        codemode.web,
        codemode_quickjs,
    ):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_subpackages() -> None:
    assert codemode.testing.__all__ == [
        "AdapterConformance",
        "DelayReply",
        "DriverConformance",
        "DropReply",
        "ErrorReply",
        "RecordedRequest",
        "Recorder",
        "Reply",
        "ScriptedAdapter",
        "ScriptedOpenAIServer",
        "ScriptedRequest",
        "ScriptedToolCall",
        "SkillStorageConformance",
        "TextReply",
        "ToolCallsReply",
        "bindings",
        "echo",
        "fail",
        "run_program",
        "serve_asgi",
        "sleep",
    ]
    assert codemode.demo.__all__ == ["SCHEMA_VERSION", "demo_tools", "ensure_database"]
    assert codemode.web.__all__ == ["WebApp", "create_app"]
    assert codemode.isolation.__all__ == [
        "DEFAULT_WORKERS",
        "ISOLATION_MODES",
        "WIRE_VERSION",
        "Isolation",
        "ProcessIsolatedDriver",
        "WireError",
        "WorkerPool",
        "check_isolation",
        "close_shared_pools",
        "isolated_driver",
        "resolve_isolation",
    ]
    assert codemode_quickjs.__all__ == [
        "DEFAULT_MAX_STACK_SIZE",
        "QuickJSIsolateDriver",
        "create_quickjs_isolate_driver",
    ]


@pytest.mark.parametrize("package", ["codemode", "codemode_quickjs"])
def test_installed_packages_are_typed(package: str) -> None:
    # Checked on the installed package: a wheel that left py.typed out would fail here
    # (scripts/test.py runs these tests on a non-editable install too).
    assert files(package).joinpath("py.typed").is_file()


def test_every_plugin_ships_py_typed() -> None:
    plugins = Path(__file__).resolve().parents[2] / "plugins"
    packages = sorted(plugins.glob("*/codemode_*/__init__.py"))
    assert packages
    for init in packages:
        assert (init.parent / "py.typed").is_file(), init.parent
