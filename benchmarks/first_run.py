"""W0: what a fresh process pays before its first result: ``import codemode``, the driver's
start, and one execution of ``return 1 + 1``, as a user's script would do it.

Usage: python benchmarks/first_run.py DRIVER [none|process|auto]

Prints the result (``2``) on stdout. ``benchmarks/run.py`` starts it as a fresh process and
times it from the start to that line.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Literal, cast

from codemode import create_code_mode, tool


@tool
async def echo(i: int) -> dict[str, int]:
    """Return the input ``{i}`` unchanged."""
    return {"i": i}


async def main(driver: str, isolation: Literal["none", "process", "auto"]) -> None:
    code_mode = create_code_mode(driver=driver, tools=[echo], isolation=isolation)
    outcome = await code_mode.run("return 1 + 1")
    print(outcome.get("result", outcome), flush=True)


if __name__ == "__main__":
    chosen = sys.argv[2] if len(sys.argv) > 2 else "auto"
    if chosen not in ("none", "process", "auto"):
        sys.exit(f"first_run.py: isolation must be none, process or auto, not {chosen!r}")
    asyncio.run(main(sys.argv[1], cast(Literal["none", "process", "auto"], chosen)))
