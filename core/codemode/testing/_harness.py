"""What every conformance test uses: running a program in a fresh context, and running an
async test without a pytest plugin."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from codemode.isolate import ExecutionResult, IsolateConfig, IsolateDriver, ToolBinding
from codemode.testing._tools import bindings, echo, fail, sleep

F = TypeVar("F", bound=Callable[..., Coroutine[Any, Any, None]])


def sync(fn: F) -> Callable[..., None]:
    """A plain test function that runs the coroutine test in its own event loop."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


async def run_program(
    driver: IsolateDriver,
    code: str,
    tools: dict[str, ToolBinding] | None = None,
    **limits: Any,
) -> ExecutionResult:
    """Run ``code`` in a fresh context of ``driver`` (disposed afterwards)."""
    config = IsolateConfig(
        bindings=tools if tools is not None else bindings(echo, sleep, fail), **limits
    )
    context = await driver.create_context(config)
    try:
        return await context.execute(code)
    finally:
        await context.dispose()


def error_name(result: ExecutionResult) -> str | None:
    return result.error.name if result.error else None
