"""The workloads W0-W8: programs, tools, expected results, sample counts and targets.

Each per-driver workload is one ``action`` (a coroutine that runs the program through
``CodeMode.run``, the path users call) and one ``check`` of what the action returned. A sample
is the wall time of one action, divided by ``per_sample`` (W2 reports time per tool call).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from codemode import CodeMode, Tool, tool

PROGRAMS = Path(__file__).resolve().parent / "programs"
ROW_COUNT = 20_000
GROUPS = 50
TIMEOUT_MS = 60_000
"""Generous, so that a slow engine on a busy machine is measured instead of stopped."""


class WrongResult(Exception):
    """A workload returned something other than the known answer."""


class Row(BaseModel):
    id: int
    group: int
    value: float
    name: str


@functools.cache
def _rows(count: int) -> tuple[Row, ...]:
    """Built once: the benchmark measures moving rows, not making them."""
    return tuple(Row(id=i, group=i % GROUPS, value=i * 1.5, name=f"row-{i}") for i in range(count))


@tool
async def echo(i: int) -> dict[str, int]:
    """Return the input ``{i}`` unchanged."""
    return {"i": i}


@tool
def echo_sync(i: int) -> dict[str, int]:
    """The same as ``echo``, as a plain (sync) function."""
    return {"i": i}


@tool
async def sleep(ms: int) -> dict[str, int]:
    """Wait ``ms`` milliseconds on the host, then return ``{slept: ms}``."""
    await asyncio.sleep(ms / 1000)
    return {"slept": ms}


@tool
async def get_rows(count: int = ROW_COUNT) -> list[Row]:
    """Rows ``{id, group: id % 50, value: id * 1.5, name}`` for ids 0 to count - 1."""
    return list(_rows(count))


TOOLS: list[Tool] = [echo, echo_sync, sleep, get_rows]

W1_PROGRAM = "return 1 + 1"
W2_PROGRAM = (
    "let s = 0; for (let i = 0; i < 1000; i++) { s += (await external_echo({ i })).i } return s"
)
W2_SYNC_PROGRAM = W2_PROGRAM.replace("external_echo", "external_echo_sync")
W3_PROGRAM = (
    "const all = await Promise.all(Array.from({ length: 100 }, () => external_sleep({ ms: 20 })));"
    "\nreturn all.reduce((total, r) => total + r.slept, 0);"
)
W7_PROGRAM = (
    "let total = 0;\n"
    "for (let i = 0; i < 10; i++) { total += (await external_sleep({ ms: 10 })).slept }\n"
    "return total;"
)
W7_CONCURRENCY = 20


def program(name: str) -> str:
    return (PROGRAMS / name).read_text(encoding="utf-8")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def difference(expected: Any, got: Any, path: str = "result") -> str | None:
    """Where ``got`` first differs from ``expected``, e.g. ``result.sums.7: expected 1, got 2``."""
    if isinstance(expected, dict) and isinstance(got, dict):
        if expected.keys() != got.keys():
            return f"{path}: expected keys {_short(sorted(expected))}, got {_short(sorted(got))}"
        found = (difference(expected[k], got[k], f"{path}.{k}") for k in expected)
        return next((d for d in found if d), None)
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        pairs = enumerate(zip(expected, got, strict=True))
        found = (difference(e, g, f"{path}[{i}]") for i, (e, g) in pairs)
        return next((d for d in found if d), None)
    if expected != got or isinstance(expected, bool) != isinstance(got, bool):
        return f"{path}: expected {_short(expected)}, got {_short(got)}"
    return None


def expect(outcome: Any, value: Any) -> None:
    """Raise ``WrongResult`` unless ``outcome`` is a successful run that returned ``value``."""
    if not isinstance(outcome, dict) or not outcome.get("success"):
        error = outcome.get("error") if isinstance(outcome, dict) else outcome
        raise WrongResult(f"the program failed: {_short(error)}")
    problem = difference(value, outcome.get("result"))
    if problem:
        raise WrongResult(problem)


def _group_sums() -> dict[str, Any]:
    sums = [0.0] * GROUPS
    for i in range(ROW_COUNT):
        sums[i % GROUPS] += i * 1.5
    return {"rows": ROW_COUNT, "sums": {str(g): total for g, total in enumerate(sums)}}


def _run(code: str) -> Callable[[CodeMode], Awaitable[Any]]:
    async def action(code_mode: CodeMode) -> Any:
        return await code_mode.run(code)

    return action


def _expecting(value: Any) -> Callable[[Any], None]:
    return functools.partial(expect, value=value)


async def _concurrent_sleepers(code_mode: CodeMode) -> Any:
    return await asyncio.gather(*(code_mode.run(W7_PROGRAM) for _ in range(W7_CONCURRENCY)))


def _check_sleepers(outcomes: Any) -> None:
    if len(outcomes) != W7_CONCURRENCY:
        raise WrongResult(f"expected {W7_CONCURRENCY} results, got {len(outcomes)}")
    for index, outcome in enumerate(outcomes):
        try:
            expect(outcome, 100)
        except WrongResult as exc:
            raise WrongResult(f"execution {index}: {exc}") from None


@dataclass(frozen=True)
class Workload:
    """One measured workload on one driver."""

    id: str
    title: str
    figure: str
    unit: Literal["ms", "us"]
    runs: int
    quick_runs: int
    warmup: int
    action: Callable[[CodeMode], Awaitable[Any]]
    check: Callable[[Any], None]
    per_sample: int = 1
    target_of: str | None = None
    """A variant shares the target of this workload."""
    fresh_process: bool = False
    """Measured in a fresh subprocess of run.py, which also reports its peak RSS."""
    isolation: Literal["none", "process"] = "none"
    """Where the programs run: in this process, or in a warm pool of worker processes."""

    def count(self, quick: bool) -> int:
        return self.quick_runs if quick else self.runs


def driver_workloads() -> list[Workload]:
    return [
        Workload(
            "W1", "return 1 + 1, fresh context each call", "ms per call", "ms",
            runs=200, quick_runs=50, warmup=10,
            action=_run(W1_PROGRAM), check=_expecting(2),
        ),
        Workload(
            "W1-process", "W1 in process isolation, warm pool of 4 workers", "ms per call", "ms",
            runs=200, quick_runs=50, warmup=10, isolation="process",
            action=_run(W1_PROGRAM), check=_expecting(2),
        ),
        Workload(
            "W2", "1000 sequential tool calls (echo)", "us per tool call", "us",
            runs=20, quick_runs=5, warmup=1, per_sample=1000,
            action=_run(W2_PROGRAM), check=_expecting(499_500),
        ),
        Workload(
            "W2-sync", "W2 with a sync echo tool (def, not async def)", "us per tool call", "us",
            runs=20, quick_runs=5, warmup=1, per_sample=1000, target_of="W2",
            action=_run(W2_SYNC_PROGRAM), check=_expecting(499_500),
        ),
        Workload(
            "W3", "Promise.all of 100 sleep(20 ms) calls", "wall ms (ideal ~20)", "ms",
            runs=20, quick_runs=5, warmup=1,
            action=_run(W3_PROGRAM), check=_expecting(2000),
        ),
        Workload(
            "W4", "sieve of Eratosthenes to 2,000,000 (Uint8Array)", "ms per run", "ms",
            runs=10, quick_runs=3, warmup=1,
            action=_run(program("sieve.ts")),
            check=_expecting({"limit": 2_000_000, "primes": 148_933, "largest": 1_999_993}),
        ),
        Workload(
            "W6", "20,000 rows from one tool call, summed by group", "ms per run", "ms",
            runs=20, quick_runs=10, warmup=2, fresh_process=True,
            action=_run(program("sum_by_group.ts")), check=_expecting(_group_sums()),
        ),
        Workload(
            "W7", "20 executions at once, each 10 sequential sleep(10 ms)",
            "wall ms (ideal ~100)", "ms",
            runs=20, quick_runs=5, warmup=1, fresh_process=True,
            action=_concurrent_sleepers, check=_check_sleepers,
        ),
    ]  # fmt: skip


STRIP = {"id": "W5", "title": "strip types of a 161-line TypeScript program", "unit": "us"}
STRIP_RUNS, STRIP_QUICK_RUNS, STRIP_WARMUP = 200, 50, 20
STRIP_EXPECTED = {
    "count": 5,
    "totals": {
        "tool": {"count": 2, "value": 22800},
        "part": {"count": 2, "value": 13000},
        "kit": {"count": 1, "value": 13500},
    },
    "urgent": ["T-2", "K-1"],
    "expensive": [["T-2", "89.00 EUR"]],
    "biggest": "K-1",
    "ranked": ["T-2", "K-1", "P-2", "T-1", "P-1"],
    "next": 2,
    "hingeDepth": 1,
    "categories": ["tool", "part", "kit"],
    "priorityName": "Normal",
}
"""What strip_sample.ts returns (worked out by hand from its data)."""

SKILLS = {"id": "W8", "title": "a skill that calls echo once, run as a tool, stats stored"}
SKILL_NAME = "echo_and_label"
SKILL_CODE = (
    "const echoed: { i: number } = await external_echo({ i: input.n });\n"
    "return { doubled: echoed.i * 2, label: input.label.toUpperCase() };"
)
SKILL_REGISTRATION: dict[str, Any] = {
    "name": SKILL_NAME,
    "description": "Echo a number through the echo tool and return it doubled, with its label",
    "code": SKILL_CODE,
    "inputSchema": {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "label": {"type": "string"}},
        "required": ["n", "label"],
    },
    "outputSchema": {
        "type": "object",
        "properties": {"doubled": {"type": "integer"}, "label": {"type": "string"}},
        "required": ["doubled", "label"],
    },
    "usageHints": ["Use to check that skills run"],
}
"""What the model would send to ``register_skill`` (W8)."""
SKILL_CASES: tuple[tuple[dict[str, Any], dict[str, Any]], ...] = tuple(
    ({"n": n, "label": f"run-{n}"}, {"doubled": 2 * n, "label": f"RUN-{n}"}) for n in range(10)
)
"""Inputs taken in turn, and what the skill returns for each. As many as warm-up executions,
so that every plain program (the same code with its input inlined) is stripped, and cached,
during the warm-up, as the skill's own code is."""
SKILL_RUNS, SKILL_QUICK_RUNS, SKILL_WARMUP = 100, 30, len(SKILL_CASES)
SEARCH_LIBRARY = 1000
"""How many skills the file storage holds when ``search_skills`` is timed (W8, host)."""
SEARCH_RUNS, SEARCH_QUICK_RUNS, SEARCH_WARMUP = 200, 50, 20
FIRST_RUN = {"id": "W0", "title": "a fresh process to its first result of return 1 + 1"}
FIRST_RUN_SAMPLES, FIRST_RUN_QUICK_SAMPLES = 20, 5
ALL_IDS = (
    "W0", "W0-process", "W1", "W1-process", "W2", "W2-sync", "W3", "W4", "W5", "W6", "W7", "W8",
)  # fmt: skip

TARGETS: dict[str, dict[str, float]] = {
    "quickjs": {
        "W1": 1,
        "W1-process": 5,
        "W2": 25,
        "W3": 40,
        "W4": 2000,
        "W6": 150,
        "W7": 150,
        "W8": 3,
    },
    "v8": {"W1": 3, "W1-process": 5, "W2": 50, "W3": 40, "W4": 25, "W6": 40, "W7": 150},
    "host": {"W5": 300, "W8": 5},
    # Local workerd on loopback, connected mode: under 1 ms per tool call, W3 within 2x of 20 ms.
    "cloudflare": {"W2": 1000, "W3": 40},
}
ENGINES = {"quickjs": "quickjs", "node": "v8", "v8": "v8"}
"""Which target column applies to a driver; drivers not listed have no targets."""


def target(driver: str, workload_id: str) -> float | None:
    engine = ENGINES.get(driver, driver)
    return TARGETS.get(engine, {}).get(workload_id)
