"""Process isolation: crashes, kills, timeouts and memory caps end one run with a named
error, the worker is replaced, other runs carry on, and no process is left behind.

These run on the QuickJS driver (the V8 driver's own are in plugins/node_v8/tests). The
hostile programs of issue 12 are in each driver plugin's ``test_isolation_hostile.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codemode import create_code_mode, load_config, tool
from codemode.errors import ConfigError
from codemode.isolate import IsolateConfig
from codemode.isolation import (
    ProcessIsolatedDriver,
    WorkerPool,
    check_isolation,
    isolated_driver,
    resolve_isolation,
)
from codemode.isolation import _wire as wire
from codemode.isolation._worker import FAULT_MARKER_ENV
from codemode.testing import run_program
from codemode.trust import TrustLevel

psutil = pytest.importorskip("psutil")  # a dev dependency, absent from the lowest-versions run

MARKER = "__codemode_test_abort__"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


_before: set[int] = set()


@pytest.fixture(autouse=True)
def _children_before() -> None:
    # Processes other tests of this session left running on purpose (a shared pool lives until
    # interpreter exit) are not this test's to end.
    _before.clear()
    _before.update(c.pid for c in psutil.Process().children(recursive=True))


def no_children() -> None:
    """No process this test started is left."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        children = [
            c
            for c in psutil.Process().children(recursive=True)
            if c.is_running() and c.pid not in _before
        ]
        if not children:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes left behind: {children}")


@pytest.fixture
async def driver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ProcessIsolatedDriver]:
    monkeypatch.setenv(FAULT_MARKER_ENV, MARKER)
    async with ProcessIsolatedDriver("quickjs", workers=2) as made:
        assert await asyncio.to_thread(made.pool.wait_warm, 60)
        yield made
    no_children()


async def wait_for_workers(driver: ProcessIsolatedDriver, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = driver.pool.pids()
        if len(pids) == count:
            return pids
        await asyncio.sleep(0.05)
    raise AssertionError(f"the pool has {driver.pool.pids()}, not {count} workers")


async def test_a_program_runs_with_tools_and_console(driver: ProcessIsolatedDriver) -> None:
    result = await run_program(
        driver,
        "console.warn('w'); const r = await external_echo({ value: 'x' });\nreturn r",
    )
    assert result.success, result.error
    assert result.value == {"value": "x"}
    assert result.logs == ["[warn] w"]
    assert result.tool_calls == 1


async def test_a_killed_worker_is_a_named_error_and_is_replaced(
    driver: ProcessIsolatedDriver,
) -> None:
    context = await driver.create_context(IsolateConfig(timeout=20_000))
    running = asyncio.ensure_future(context.execute("while (true) {}"))
    await asyncio.sleep(0.5)
    pid = context.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    result = await asyncio.wait_for(running, 5)
    assert result.error is not None
    assert result.error.name == "WorkerCrashedError"
    assert "SIGKILL" in result.error.message
    assert (await run_program(driver, "return 'next'")).value == "next"
    after = await wait_for_workers(driver, 2)
    assert pid not in after


async def test_an_engine_abort_is_a_crash_with_the_stderr_tail(
    driver: ProcessIsolatedDriver,
) -> None:
    result = await run_program(driver, f"'{MARKER}'; return 1")
    assert result.error is not None
    assert result.error.name == "WorkerCrashedError"
    assert "SIGABRT" in result.error.message
    assert "fault hook" in result.error.message  # the worker's last words, from its stderr
    assert (await run_program(driver, "return 'next'")).value == "next"


async def test_garbage_from_a_worker_is_a_driver_error(driver: ProcessIsolatedDriver) -> None:
    result = await run_program(driver, f"'{MARKER}:garbage'; return 1")
    assert result.error is not None
    assert result.error.name == "DriverError"
    assert "wire protocol" in result.error.message
    assert (await run_program(driver, "return 'next'")).value == "next"


async def test_a_timeout_recycles_the_worker(driver: ProcessIsolatedDriver) -> None:
    before = set(await wait_for_workers(driver, 2))
    started = time.monotonic()
    result = await run_program(driver, "while (true) {}", timeout=300)
    assert time.monotonic() - started < 2.0
    assert result.error is not None
    assert result.error.name == "TimeoutError"
    for _ in range(400):  # the one that ran it is gone (a replacement may still start)
        if len(before - set(driver.pool.pids())) == 1:
            break
        await asyncio.sleep(0.05)
    assert len(before - set(await wait_for_workers(driver, 2))) == 1
    assert (await run_program(driver, "return 'next'")).value == "next"


async def test_the_memory_cap_kills_a_growing_worker(driver: ProcessIsolatedDriver) -> None:
    pid = (await wait_for_workers(driver, 2))[0]
    driver.memory_cap = psutil.Process(pid).memory_info().rss // 2**20 + 64
    code = "const a = []; for (let i = 0; ; i++) a.push('x'.repeat(1 << 20) + i)"
    result = await run_program(driver, code, memory_limit=4096, timeout=20_000)
    assert result.error is not None
    assert result.error.name == "MemoryLimitError"
    assert "was killed" in result.error.message
    driver.memory_cap = None
    assert (await run_program(driver, "return 'next'")).value == "next"


async def test_other_runs_carry_on_when_one_crashes(driver: ProcessIsolatedDriver) -> None:
    slow = asyncio.ensure_future(
        run_program(driver, "await external_sleep({ ms: 800 }); return 'slow'")
    )
    await asyncio.sleep(0.2)
    crashed = await run_program(driver, f"'{MARKER}'")
    assert crashed.error is not None
    assert crashed.error.name == "WorkerCrashedError"
    assert (await slow).value == "slow"


async def test_a_nested_run_takes_an_extra_worker_instead_of_waiting() -> None:
    async with ProcessIsolatedDriver("quickjs", workers=1) as driver:

        @tool(description="Run a program in another context of the same driver.")
        async def inner(code: str) -> Any:
            return (await run_program(driver, code)).value

        mode = create_code_mode(driver=driver, tools=[inner])
        result = await asyncio.wait_for(
            mode.run("return await external_inner({ code: 'return 6 * 7' })"), 30
        )
        assert result["result"] == 42, result
    no_children()


async def test_aclose_ends_every_worker() -> None:
    driver = ProcessIsolatedDriver("quickjs", workers=3)
    assert (await run_program(driver, "return 1")).value == 1
    pids = await wait_for_workers(driver, 3)
    await driver.aclose()
    assert not any(alive(pid) for pid in pids)
    assert driver.pool.pids() == []
    no_children()
    with pytest.raises(RuntimeError):
        await driver.create_context(IsolateConfig())


def test_workers_die_with_their_host(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, os, sys, time
        from codemode.isolation import ProcessIsolatedDriver
        from codemode.testing import run_program
        async def main():
            driver = ProcessIsolatedDriver("quickjs", workers=2)
            await run_program(driver, "return 1")
            while len(driver.pool.pids()) < 2:
                await asyncio.sleep(0.05)
            print(*driver.pool.pids(), flush=True)
            os.kill(os.getpid(), 9)  # no clean-up of any kind
        asyncio.run(main())
        """
    )
    host = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert host.returncode == -signal.SIGKILL, host.stderr
    pids = [int(word) for word in host.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_interpreter_exit_ends_the_workers() -> None:
    script = textwrap.dedent(
        """
        import asyncio
        from codemode.isolation import ProcessIsolatedDriver
        from codemode.testing import run_program
        driver = ProcessIsolatedDriver("quickjs", workers=2)
        asyncio.run(run_program(driver, "return 1"))
        print(*driver.pool.pids(), flush=True)
        """
    )
    host = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert host.returncode == 0, host.stderr
    pids = [int(word) for word in host.stdout.split()]
    assert pids
    assert not any(alive(pid) for pid in pids)


async def test_a_driver_that_cannot_load_fails_with_its_own_error() -> None:
    async with ProcessIsolatedDriver("quickjs", {"memory_limit": -1}, workers=1) as driver:
        with pytest.raises(ConfigError, match="memory_limit"):
            await run_program(driver, "return 1")
    no_children()


# The wire --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"not json\n",
        b"[1, 2]\n",
        b'{"v": 2, "type": "ready", "pid": 1}\n',
        b'{"v": 1, "type": "nope"}\n',
        b'{"v": 1, "type": "tool_call", "run": 1, "call": "x", "binding": "b", "args": "{}"}\n',
        b'{"v": 1, "type": "console", "run": 1, "level": "shout", "message": "m"}\n',
        b'{"v": 1, "type": "result", "run": 1, "success": true, "value": "1", "error":'
        b' ["E", "m", null, null, null], "logs": [], "tool_calls": 0, "tool_result_bytes": 0}\n',
    ],
)
def test_garbage_on_the_wire_is_a_wire_error(line: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode_from_worker(line)


def test_messages_round_trip() -> None:
    from codemode.isolate import ConsoleEntry, ExecutionResult, NormalizedError

    for message in (
        wire.Ready(7),
        wire.Failed("ConfigError", "bad"),
        wire.ToolCall(1, 2, "external_x", '{"a":1}'),
        wire.Console(1, ConsoleEntry("warn", "careful\nnow")),
        wire.Result(1, ExecutionResult(success=True, value={"deep": [[[1]]]}, logs=["a"])),
        wire.Result(1, ExecutionResult(success=False, error=NormalizedError("E", "m", "s", 1, 2))),
    ):
        assert wire.decode_from_worker(wire.encode(message)) == message
    run = wire.Run(3, "return 1", 100, 16, 5, 10, 10, (wire.BindingSpec("k", "n", "d", {}, None),))
    assert wire.decode_from_host(wire.encode(run)) == run


# Configuration ---------------------------------------------------------------------------


def test_isolation_values_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"isolation: must be one of 'auto', 'none', 'process'"):
        check_isolation("sometimes", 4)
    for workers in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="workers: must be an integer >= 1"):
            check_isolation("process", workers)
    with pytest.raises(ConfigError, match="cloudflare"):
        resolve_isolation("process", "cloudflare")
    assert resolve_isolation("auto", "cloudflare") == "none"
    assert resolve_isolation("auto", "node") == "process"
    assert resolve_isolation("auto", "quickjs") == "none"
    with pytest.raises(ConfigError, match="workers"):
        create_code_mode(driver="quickjs", isolation="process", workers=0)
    with pytest.raises(ConfigError, match="isolation"):
        create_code_mode(driver="quickjs", isolation="bogus")  # type: ignore[arg-type]


def test_process_isolation_needs_the_driver_by_name() -> None:
    from codemode_quickjs import create_quickjs_isolate_driver

    with pytest.raises(ConfigError, match="by name"):
        create_code_mode(driver=create_quickjs_isolate_driver(), isolation="process")


def test_config_selects_isolation(tmp_path: Path) -> None:
    file = tmp_path / "codemode.toml"
    file.write_text('[driver]\nname = "quickjs"\nisolation = "process"\nworkers = 2\n')
    config = load_config(file, environ={})
    mode = create_code_mode(config=config)
    assert isinstance(mode.runner.driver, ProcessIsolatedDriver)
    assert mode.runner.driver.workers == 2
    file.write_text('[driver]\nisolation = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"\[driver\] isolation.*'auto'.*'none'.*'process'"):
        load_config(file, environ={})
    file.write_text("[driver]\nworkers = 0\n")
    with pytest.raises(ConfigError, match=r"\[driver\] workers"):
        load_config(file, environ={})
    file.write_text('[driver]\nname = "cloudflare"\nisolation = "process"\n')
    with pytest.raises(ConfigError, match=r"\[driver\] isolation"):
        load_config(file, environ={}, check_plugins=False)
    env = {"CODEMODE_DRIVER_ISOLATION": "none"}
    file.write_text('[driver]\nname = "quickjs"\n')
    assert load_config(file, environ=env).driver.isolation == "none"


def test_auto_isolates_v8_by_name_only() -> None:
    pytest.importorskip("codemode_node_v8")
    assert isinstance(create_code_mode(driver="node").runner.driver, ProcessIsolatedDriver)
    assert not isinstance(
        create_code_mode(driver="node", isolation="none").runner.driver, ProcessIsolatedDriver
    )
    assert not isinstance(create_code_mode(driver="quickjs").runner.driver, ProcessIsolatedDriver)
    # Code modes on the same driver share one pool of workers.
    first = create_code_mode(driver="node", isolation="process").runner.driver
    second = create_code_mode(driver="node", isolation="process").runner.driver
    assert isinstance(first, ProcessIsolatedDriver)
    assert isinstance(second, ProcessIsolatedDriver)
    assert first.pool is second.pool


async def test_code_mode_in_process_isolation_emits_the_same_events() -> None:
    @tool(description="Add two numbers.")
    def add(a: int, b: int) -> int:
        return a + b

    results = {}
    for isolation in ("none", "process"):
        seen: list[str] = []
        from codemode.tools import ToolExecutionContext

        context = ToolExecutionContext(lambda name, data, seen=seen: seen.append(name))
        mode = create_code_mode(driver="quickjs", tools=[add], isolation=isolation, workers=1)
        result = await mode.run(
            "console.log('x'); return await external_add({ a: 1, b: 2 })", context
        )
        results[isolation] = (result, seen)
    assert results["none"] == results["process"]
    assert results["process"][0]["result"] == 3


# Skills ----------------------------------------------------------------------------------


async def test_untrusted_skills_run_in_worker_processes(
    make_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated: list[str] = []
    original = ProcessIsolatedDriver.create_context

    async def spy(self: ProcessIsolatedDriver, config: Any) -> Any:
        isolated.append("run")
        return await original(self, config)

    monkeypatch.setattr(ProcessIsolatedDriver, "create_context", spy)
    session = await make_session(untrusted_isolation="process")
    await session.register("fresh", "return input.n + 1;")
    await session.register("proven", "return input.n + 2;")
    stored = await session.storage.get("proven")
    assert stored is not None
    await session.storage.save(stored.model_copy(update={"trust_level": TrustLevel.TRUSTED}))
    assert await session.call("fresh", {"n": 1}) == 2
    assert isolated == ["run"]
    assert await session.call("proven", {"n": 1}) == 3
    result = await session.program("return await skill_proven({ n: 1 })")
    assert result["result"] == 3, result
    assert isolated == ["run"]  # the program and the trusted skill stayed in-process


async def test_untrusted_isolation_needs_a_driver_by_name(make_session: Any) -> None:
    from codemode import SkillsConfig, code_mode_with_skills
    from codemode_quickjs import create_quickjs_isolate_driver

    mode = create_code_mode(driver=create_quickjs_isolate_driver())
    with pytest.raises(ConfigError, match="by name"):
        await code_mode_with_skills(mode, skills=SkillsConfig(untrusted_isolation="process"))
    with pytest.raises(ConfigError, match="untrusted_isolation"):
        SkillsConfig(untrusted_isolation="sometimes")  # type: ignore[arg-type]


def test_isolated_driver_loads_in_process_for_none() -> None:
    from codemode_quickjs import QuickJSIsolateDriver

    assert isinstance(isolated_driver("quickjs", isolation="none"), QuickJSIsolateDriver)


def test_a_pool_refuses_options_that_are_not_json() -> None:
    with pytest.raises(ConfigError, match="JSON"):
        WorkerPool("quickjs", {"x": object()})
