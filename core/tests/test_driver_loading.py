"""Limits have one owner: a driver factory receives only the options the user gave; a driver
that fails in any way gives a DriverError result, never an exception into the model loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import codemode
from codemode import create_code_mode, load_config, plugins
from codemode.errors import ConfigError, DriverUnavailableError
from codemode.isolate import ExecutionResult, IsolateConfig, IsolateContext


class _Context:
    def __init__(self, value: Any) -> None:
        self.value = value

    async def execute(self, code: str) -> ExecutionResult:
        return ExecutionResult(success=True, value=self.value)

    async def dispose(self) -> None:
        return None


class MinimalDriver:
    """A third-party driver as the README shows it: a factory with no parameters."""

    made = 0

    def __init__(self) -> None:
        MinimalDriver.made += 1

    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        return _Context(config.timeout)


def create_my_driver() -> MinimalDriver:
    return MinimalDriver()


class OptionsDriver:
    def __init__(self, *, depth: int = 1, timeout: int = 7_000) -> None:
        self.depth = depth
        self.timeout = timeout

    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        return _Context([self.depth, config.timeout])


class BrokenDriver:
    def __init__(self, where: str = "create") -> None:
        self.where = where

    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        if self.where == "create":
            raise OSError("the engine is gone")
        if self.where == "unavailable":
            raise DriverUnavailableError("no engine on this machine")
        driver = self

        class Context:
            async def execute(self, code: str) -> ExecutionResult:
                if driver.where == "execute":
                    raise KeyError("state")
                return ExecutionResult(success=True, value=1)

            async def dispose(self) -> None:
                if driver.where == "dispose":
                    raise RuntimeError("cannot dispose")

        return Context()


class ThirdParty:
    @codemode.hookimpl
    def codemode_isolate_drivers(self) -> dict[str, Any]:
        return {
            "mine": create_my_driver,
            "withoptions": OptionsDriver,
            "broken": BrokenDriver,
        }


@pytest.fixture(autouse=True)
def _third_party() -> Any:
    pm = plugins.create_plugin_manager(autoload=True)
    pm.register(ThirdParty())
    with plugins.use_plugin_manager(pm):
        yield


async def test_a_no_argument_factory_works_by_name() -> None:
    code_mode = create_code_mode(driver="mine")
    result = await code_mode.run("return 1")
    assert result == {"success": True, "result": 30_000, "logs": [], "error": None}


async def test_a_no_argument_factory_works_through_config(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text('[driver]\nname = "mine"\ntimeout = 4000\n')
    config = load_config(search_from=tmp_path, environ={})
    result = await create_code_mode(config=config).run("return 1")
    # The config's timeout is code mode's, not an option of the factory.
    assert result["result"] == 4000


def test_driver_options_are_checked_against_the_factory_at_load(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text(
        '[driver]\nname = "withoptions"\noptions = { depth = 2, colour = "red" }\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(search_from=tmp_path, environ={})
    message = str(caught.value)
    assert "codemode.toml" in message
    assert "[driver] options" in message
    assert "colour" in message
    assert "depth, timeout" in message


async def test_options_go_to_the_driver_the_config_names_only(tmp_path: Path) -> None:
    (tmp_path / "codemode.toml").write_text(
        '[driver]\nname = "withoptions"\noptions = { depth = 3 }\n'
    )
    config = load_config(search_from=tmp_path, environ={})
    own = await create_code_mode(config=config).run("return 1")
    assert own["result"] == [3, 7_000]  # the driver's own timeout is code mode's default
    # Another driver by name: the [driver] options are not carried to it.
    other = await create_code_mode(driver="mine", config=config).run("return 1")
    assert other["success"], other


def test_load_driver_refuses_options_the_factory_does_not_take() -> None:
    with pytest.raises(ConfigError, match=r"does not take \['timeout'\].*no options"):
        plugins.load_driver("mine", timeout=5)


async def test_limits_come_from_the_argument_then_config_then_driver(tmp_path: Path) -> None:
    assert (await create_code_mode(driver="withoptions").run(""))["result"] == [1, 7_000]
    assert (await create_code_mode(driver="withoptions", timeout=9).run(""))["result"] == [1, 9]
    (tmp_path / "codemode.toml").write_text('[driver]\nname = "withoptions"\ntimeout = 8000\n')
    config = load_config(search_from=tmp_path, environ={})
    assert (await create_code_mode(config=config).run(""))["result"] == [1, 8000]


@pytest.mark.parametrize(
    ("where", "detail"),
    [("create", "OSError: the engine is gone"), ("execute", "KeyError: 'state'")],
)
async def test_a_failing_driver_gives_a_driver_error_result(where: str, detail: str) -> None:
    result = await create_code_mode(driver=BrokenDriver(where)).run("return 1")
    assert result["success"] is False
    assert result["error"]["name"] == "DriverError"
    assert detail in result["error"]["message"]


async def test_a_driver_that_cannot_dispose_still_gives_its_result() -> None:
    result = await create_code_mode(driver=BrokenDriver("dispose")).run("return 1")
    assert result["result"] == 1


async def test_an_unavailable_engine_is_the_hosts_problem() -> None:
    with pytest.raises(DriverUnavailableError):
        await create_code_mode(driver=BrokenDriver("unavailable")).run("return 1")


async def test_program_text_over_the_size_limit_is_a_tool_input_error() -> None:
    code_mode = create_code_mode(driver="mine")
    result = await code_mode.run("//" + "x" * (128 * 1024))
    assert result["error"]["name"] == "ToolInputError"
    assert "131074 characters, over the limit of 131072" in result["error"]["message"]
