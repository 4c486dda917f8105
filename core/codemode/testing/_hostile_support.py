"""The machinery of the hostile-program conformance cases (``_hostile_*.py``).

Every case has one shape: ``hostile()`` runs a program in a fresh context through the public
contract only, fails the test if anything escapes ``create_context``, ``execute`` or
``dispose``, checks what every run must satisfy (``check_contract``: a named error or a
success, bounded UTF-8 text, tool-call and console bounds, an end within the timeout), then
checks that the driver still runs a normal program in a new context. The case itself then
asserts its specific outcome on the returned ``Run``.

Cases that can take the whole process down run in a child process (``_hostile_child``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from codemode.isolate import (
    ConsoleEntry,
    ExecutionResult,
    IsolateConfig,
    IsolateDriver,
    ToolBinding,
)
from codemode.testing._harness import run_program
from codemode.testing._hostile_watch import RssWatch, require_psutil
from codemode.testing._hostile_watch import (  # re-exported: other suites import it from here
    assert_no_busy_thread as assert_no_busy_thread,
)
from codemode.testing._tools import Recorder, echo, fail, sleep
from codemode.tools import ToolExecutionContext

MAX_NAME = 200
MAX_MESSAGE = 10_000 + 200
MAX_STACK = 20_000 + 200
GRACE_S = 3.0
"""How long past its timeout a run may take to come back."""
LIMIT_ERRORS = frozenset(
    {"TimeoutError", "MemoryLimitError", "ToolCallLimitError", "OutputLimitError"}
)


# Tools ---------------------------------------------------------------------------------------


class _Logged:
    """A binding that writes every call reaching the host into a shared ledger."""

    def __init__(self, inner: ToolBinding, calls: list[tuple[str, Any]]) -> None:
        self._inner = inner
        self._calls = calls

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def description(self) -> str:
        return self._inner.description

    @property
    def input_schema(self) -> dict[str, Any]:
        return self._inner.input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self._inner.output_schema

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None, /
    ) -> Any:
        self._calls.append((self._inner.name, args))
        return await self._inner.execute(args, context)


@dataclass
class Returning:
    """A binding that returns ``value`` as it is, unvalidated (for values a tool should not
    return but might, such as text with a lone surrogate)."""

    name: str
    value: Any
    description: str = "Return a fixed value."
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        return self.value


@dataclass
class Raising:
    """A binding that raises ``RuntimeError(message)``, whatever the message holds."""

    name: str
    message: str
    description: str = "Raise a fixed error."
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] | None = None

    async def execute(
        self, args: dict[str, Any], context: ToolExecutionContext | None = None
    ) -> Any:
        raise RuntimeError(self.message)


def standard_tools() -> list[ToolBinding]:
    """``external_echo``, ``external_sleep``, ``external_fail`` and ``external_record``."""
    return [echo, sleep, fail, Recorder()]


# Running one hostile program -----------------------------------------------------------------


@dataclass
class Run:
    """What one hostile program did, as the host saw it."""

    config: IsolateConfig
    result: ExecutionResult | None = None
    raised: str | None = None
    """``Type: message`` of an exception that escaped the contract, if one did."""
    elapsed: float = 0.0
    calls: list[tuple[str, Any]] = field(default_factory=list)
    """Every tool call that reached the host: (tool name, arguments)."""
    console: list[ConsoleEntry] = field(default_factory=list)
    """What reached ``IsolateConfig.on_console``."""
    rss_growth: int | None = None
    """Peak resident memory above the start of the run, in bytes (when watched)."""

    @property
    def error_name(self) -> str | None:
        return self.result.error.name if self.result and self.result.error else None

    def describe(self) -> str:
        """The result in a line, for assertion messages."""
        if self.raised is not None:
            return f"raised {self.raised}"
        result = self.result
        if result is None:
            return "no result"
        if result.success:
            return f"success with {_short(result.value)} (logs {_short(result.logs)})"
        error = result.error
        if error is None:
            return "failure without an error"
        return f"{_short(error.name, 80)}: {_short(error.message)}"


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, the message cut short."""
    return f"{type(exc).__name__}: {_short(str(exc), 500)}"


async def run_hostile(
    driver: IsolateDriver,
    code: str,
    *,
    tools: Sequence[ToolBinding] = (),
    watch_rss: bool = False,
    **limits: Any,
) -> Run:
    """Run ``code`` once in a fresh context with the standard tools (and ``tools``), with the
    ``IsolateConfig`` limits given (a timeout of 2000 ms unless one is)."""
    limits.setdefault("timeout", 2000)
    calls: list[tuple[str, Any]] = []
    console: list[ConsoleEntry] = []
    bound = {f"external_{t.name}": _Logged(t, calls) for t in [*standard_tools(), *tools]}
    config = IsolateConfig(bindings=dict(bound), on_console=console.append, **limits)
    run = Run(config=config, calls=calls, console=console)
    bound_s = config.timeout / 1000 + GRACE_S + 5
    started = time.perf_counter()
    try:
        context = await asyncio.wait_for(driver.create_context(config), 30)
    except Exception as exc:
        run.raised = f"create_context raised {describe_exception(exc)}"
        return run
    with RssWatch(enabled=watch_rss) as rss:
        try:
            run.result = await asyncio.wait_for(context.execute(code), bound_s)
        except TimeoutError:
            run.raised = f"execute did not return within {bound_s:.0f} s"
        except Exception as exc:
            run.raised = f"execute raised {describe_exception(exc)}"
        run.elapsed = time.perf_counter() - started
    run.rss_growth = rss.growth
    try:
        await asyncio.wait_for(context.dispose(), 10)
    except Exception as exc:
        run.raised = run.raised or f"dispose raised {describe_exception(exc)}"
    return run


async def hostile(driver: IsolateDriver, code: str, **options: Any) -> Run:
    """``run_hostile``, then the checks every run must pass and a health check of the driver."""
    run = await run_hostile(driver, code, **options)
    check_contract(run)
    await assert_driver_healthy(driver)
    return run


async def assert_driver_healthy(driver: IsolateDriver) -> None:
    """A new context of ``driver`` still runs a plain program and one that calls a tool."""
    programs = (("return 1 + 1", 2), ('return (await external_echo({ value: "ok" })).value', "ok"))
    for code, expected in programs:
        try:
            result = await asyncio.wait_for(run_program(driver, code, timeout=3000), 15)
        except Exception as exc:
            pytest.fail(
                f"after the hostile program, {code!r} in a new context raised {describe_exception(exc)}"
            )
        assert result.success, (
            f"after the hostile program, {code!r} in a new context: {result.error}"
        )
        assert result.value == expected, (
            f"after the hostile program, {code!r} in a new context gave"
            f" {_short(result.value)} / {result.error}"
        )


# The checks every run must pass ------------------------------------------------------------


def _not_utf8(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            yield f"{where} is not UTF-8 encodable ({exc.reason} at {exc.start})"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _not_utf8(key, f"a key in {where}")
            yield from _not_utf8(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _not_utf8(item, f"{where}[{index}]")


def _console_chars(run: Run) -> tuple[int, int]:
    streamed = sum(len(entry.message) for entry in run.console)
    kept = 0
    for line in run.result.logs if run.result else []:
        for prefix in ("[info] ", "[warn] ", "[error] "):
            if line.startswith(prefix):
                line = line[len(prefix) :]
                break
        kept += len(line)
    return streamed, kept


def check_contract(run: Run) -> None:
    """What every run must satisfy, whatever the program did."""
    if run.raised is not None:
        pytest.fail(f"the contract was broken: {run.raised}")
    result = run.result
    assert isinstance(result, ExecutionResult), f"execute returned {type(result).__name__}"
    if not result.success:
        error = result.error
        assert error is not None, "a failed result carries no error"
        assert isinstance(error.name, str), f"error name is {type(error.name)}"
        assert error.name.strip(), f"unnamed error: {error!r:.300}"
        assert isinstance(error.message, str), f"error message is {type(error.message)}"
        assert len(error.name) <= MAX_NAME, f"error name is {len(error.name)} characters"
        assert len(error.message) <= MAX_MESSAGE, (
            f"error message is {len(error.message)} characters: {_short(error.message, 120)}"
        )
        stack = error.stack or ""
        assert len(stack) <= MAX_STACK, f"error stack is {len(stack)} characters"
    error = result.error
    texts = {
        "the value": result.value,
        "the logs": result.logs,
        "the streamed console": [entry.message for entry in run.console],
        "the error": [error.name, error.message, error.stack] if error else None,
    }
    problems = [problem for where, value in texts.items() for problem in _not_utf8(value, where)]
    assert not problems, "; ".join(problems[:5])
    config = run.config
    assert len(run.calls) <= config.max_tool_calls, (
        f"the host ran {len(run.calls)} tool calls, over max_tool_calls={config.max_tool_calls}"
    )
    for tool, args in run.calls:
        assert isinstance(args, dict), f"the host called {tool} with {_short(args)}, not an object"
    streamed, kept = _console_chars(run)
    assert streamed <= config.max_log_bytes, (
        f"{streamed} characters of console reached on_console, over {config.max_log_bytes}"
    )
    assert kept <= config.max_log_bytes, (
        f"{kept} characters of console are in result.logs, over {config.max_log_bytes}"
    )
    allowed = config.timeout / 1000 + GRACE_S
    assert run.elapsed <= allowed, (
        f"the run took {run.elapsed:.1f} s, over its timeout of {config.timeout} ms + {GRACE_S} s"
    )


# Outcomes -----------------------------------------------------------------------------------


def expect_error(run: Run, *names: str) -> None:
    """The run failed with one of ``names``."""
    assert run.error_name in names, f"expected {' or '.join(names)}, got {run.describe()}"


def expect_success(run: Run, value: Any) -> None:
    assert run.result is not None
    wanted = f"expected success with {_short(value)}, got {run.describe()}"
    assert run.result.success, wanted
    assert run.result.value == value, wanted


def expect_named_failure(run: Run, *, not_a_limit: bool = False) -> None:
    """The run failed (with a name, checked by ``check_contract``), and not because of a limit
    when ``not_a_limit``: the program did nothing that comes near one."""
    assert run.result is not None
    assert not run.result.success, f"expected a failure, got {run.describe()}"
    if not_a_limit:
        assert run.error_name not in LIMIT_ERRORS, (
            f"expected the program's error, got {run.describe()}"
        )
    message = run.result.error.message if run.result.error else ""
    assert "nothing will settle" not in message, (
        f"the host waited for a promise the failure left unsettled: {run.describe()}"
    )


def _matches(got: Sequence[Any], wanted: Sequence[Any], prefix: bool) -> bool:
    if prefix:
        return len(got) <= len(wanted) and list(got) == list(wanted[: len(got)])
    return list(got) == list(wanted)


def expect_calls(run: Run, expected: Sequence[tuple[str, Any]], *, prefix: bool = False) -> None:
    """The host ran exactly ``expected`` (or, with ``prefix``, the first ones of it): no
    forged call, no lost one."""
    assert _matches(run.calls, expected, prefix), (
        f"the host ran {_short(run.calls)}, the program asked for {_short(list(expected))}"
    )


def expect_logs(run: Run, expected: Sequence[str], *, prefix: bool = False) -> None:
    """The console lines kept and streamed are ``expected`` (or its first ones)."""
    assert run.result is not None
    streamed = [entry.format() for entry in run.console]
    for what, lines in (("result.logs", run.result.logs), ("on_console", streamed)):
        assert _matches(lines, expected, prefix), (
            f"{what} is {_short(lines)}, the program wrote {_short(list(expected))}"
        )


def expect_rss_within(run: Run, limit_mb: int, factor: int = 4) -> None:
    """The process grew by at most ``factor`` times the memory limit during the run (plus
    32 MiB for allocator noise)."""
    if run.rss_growth is None:
        require_psutil()
        pytest.skip("resident memory was not watched")
    bound = (factor * limit_mb + 32) * 1024 * 1024
    assert run.rss_growth <= bound, (
        f"the process grew by {run.rss_growth >> 20} MiB during the run, over"
        f" {factor} x the memory limit of {limit_mb} MB"
    )
