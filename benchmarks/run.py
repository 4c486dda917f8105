"""Benchmarks of codemode as users feel it: every workload goes through ``CodeMode.run``.

Usage (from the workspace root):

    python3 -m uv run --all-packages python benchmarks/run.py [--quick]
        [--drivers quickjs,node] [--only W1,W4] [--reference] [--json out.json]

Runs the workloads W0-W8 (see ``docs/performance.md``) on every installed driver, or on those
named by ``--drivers`` (``cloudflare`` only when named: it runs against a local workerd),
and prints one JSON report on stdout; progress goes to stderr. W6 and W7 run in a fresh
subprocess each (``--child``), which also reports its peak RSS. W5 and the
search half of W8 run once, on the host. W0 starts ``benchmarks/first_run.py`` as a fresh
process each time.

``--reference`` also runs TanStack AI Code Mode's drivers on the same workloads
(``benchmarks/reference``, installed with ``npm ci`` on first use), interleaved: each workload
on every driver of ours, then on the reference's, before the next workload. The report's
``comparison`` holds codemode's median, the reference's, and their ratio (lower is better),
also printed as a table on stderr.

Exit status: 0 when every result was right, 1 when a workload returned a wrong result or
failed (the report's ``failures`` says which and why), 2 on bad usage (for example a driver
that is not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import _cloudflare
import _comparison
import _environment as env
import _reference
from _measure import (
    first_results,
    peak_rss_mb,
    progress,
    rss_mb,
    sample,
    sample_sync,
    summary,
)
from _skills import search_figures, skill_figures
from _workloads import (
    ALL_IDS,
    FIRST_RUN,
    FIRST_RUN_QUICK_SAMPLES,
    FIRST_RUN_SAMPLES,
    SEARCH_LIBRARY,
    SKILL_QUICK_RUNS,
    SKILL_RUNS,
    SKILL_WARMUP,
    SKILLS,
    STRIP,
    STRIP_EXPECTED,
    STRIP_QUICK_RUNS,
    STRIP_RUNS,
    STRIP_WARMUP,
    TARGETS,
    TIMEOUT_MS,
    TOOLS,
    Workload,
    WrongResult,
    driver_workloads,
    expect,
    program,
    target,
)

from codemode import CodeMode, create_code_mode, plugins
from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB, IsolateConfig, open_context
from codemode.typescript import strip_types

EXIT_WRONG, EXIT_USAGE = 1, 2
FIRST_RUN_SCRIPT = Path(__file__).resolve().parent / "first_run.py"
CHILD_TIMEOUT_S = 900
STRIP_FRAGMENTS = (
    "class Inventory",
    "this.bySku.set(item.sku, item);",
    "const items = raw",
    "const biggest",
    "return {",
)
"""JavaScript that must stay at the same line and column after stripping (W5 check)."""


class UsageError(Exception):
    """Bad command-line usage: exit status 2."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (under a minute)")
    parser.add_argument("--drivers", help="comma-separated driver names (default: all installed)")
    parser.add_argument("--only", help="comma-separated workload ids, e.g. W1,W4")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also measure TanStack AI Code Mode's drivers, interleaved, and print the ratios",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _split(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def select_drivers(requested: str | None, found: env.Drivers) -> list[str]:
    if requested is None:
        # The Cloudflare driver needs a Worker (a local workerd): only when named.
        names = [name for name in found.names if name != _cloudflare.NAME]
        if not names:
            raise UsageError("no isolate driver is installed (pip install codemode-quickjs)")
        return names
    names = _split(requested)
    installed = found.names + list(found.aliases)
    problems = []
    for name in names:
        if name not in installed:
            reason = found.why_broken(name)
            problems.append(
                f"driver {name!r} is not installed"
                if reason is None
                else f"driver {name!r} is installed but fails to load: {reason}"
            )
    if problems or not names:
        listing = ", ".join(installed) or "none"
        raise UsageError(
            "; ".join(problems or ["--drivers names no driver"]) + f" (installed: {listing})"
        )
    return names


def select_workloads(only: str | None) -> list[str]:
    if only is None:
        return list(ALL_IDS)
    known = {i.upper(): i for i in ALL_IDS}
    ids = [known.get(part.upper(), part) for part in _split(only)]
    unknown = [i for i in ids if i not in ALL_IDS]
    if unknown or not ids:
        raise UsageError(f"unknown workload id(s) {unknown}; known: {', '.join(ALL_IDS)}")
    return ids


def _code_mode(driver: str, isolation: Literal["none", "process"] = "none") -> CodeMode:
    code_mode = create_code_mode(
        driver=_cloudflare.resolve(driver, TIMEOUT_MS),
        tools=TOOLS,
        timeout=TIMEOUT_MS,
        memory_limit=DEFAULT_MEMORY_LIMIT_MB,
        isolation=isolation,
        workers=4,
    )
    pool = getattr(code_mode.runner.driver, "pool", None)
    if pool is not None:
        pool.wait_warm(120)  # "warm pool": the workers' start is not what W1-process measures
    return code_mode


def _failed(failures: list[str], where: str, reason: str) -> dict[str, Any]:
    failures.append(f"{where}: {reason}")
    progress(f"  WRONG {where}: {reason}")
    return {"error": reason}


def _describe(entry: dict[str, Any]) -> str:
    text = f"median {entry['median']} {entry['unit']} over {entry['samples']}"
    if entry["target"] is not None:
        verdict = "met" if entry["meets_target"] else "MISSED"
        text += f" (target {entry['target']}: {verdict})"
    return text


async def bench_one(
    driver: str, workload: Workload, code_mode: CodeMode, quick: bool, failures: list[str]
) -> dict[str, Any]:
    """Measure one workload in this process; a wrong result is recorded as a failure."""
    count = workload.count(quick)
    where = f"{driver} {workload.id}"
    progress(f"{where}: {workload.title} ({workload.warmup} warm-up, {count} samples)")
    try:
        values = await sample(workload, code_mode, count)
    except WrongResult as exc:
        return _failed(failures, where, str(exc))
    except Exception as exc:  # a crash of the driver is a failed workload, not a crash of ours
        return _failed(failures, where, f"raised {type(exc).__name__}: {exc}")
    entry = {
        "title": workload.title,
        "figure": workload.figure,
        "warmup": workload.warmup,
        **summary(values, workload.unit, target(driver, workload.target_of or workload.id)),
    }
    progress(f"  {_describe(entry)}")
    return entry


def _exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def run_child(driver: str, workload: Workload, quick: bool, failures: list[str]) -> dict[str, Any]:
    """Measure one workload in a fresh process of this script, for an honest peak RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    command += ["--only", workload.id, "--drivers", driver, *(["--quick"] if quick else [])]
    where = f"{driver} {workload.id}"
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, timeout=CHILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return _failed(failures, where, f"the child process ran over {CHILD_TIMEOUT_S} s")
    try:
        payload = json.loads(done.stdout)
    except json.JSONDecodeError:
        return _failed(failures, where, f"the child process {_exit(done.returncode)}, no report")
    failures.extend(payload["failures"])
    result: dict[str, Any] = payload["result"]
    return result


async def child_main(driver: str, workload_id: str, quick: bool) -> dict[str, Any]:
    """``--child``: one workload, measured here, with this process's peak RSS."""
    failures: list[str] = []
    chosen = [w for w in driver_workloads() if w.id == workload_id and w.fresh_process]
    if not chosen:
        raise UsageError(f"--child measures W6 or W7, not {workload_id}")
    workload = chosen[0]
    code_mode = _code_mode(driver)
    baseline = rss_mb()
    entry = await bench_one(driver, workload, code_mode, quick, failures)
    if "error" not in entry:
        peak, method = peak_rss_mb()
        entry |= {"measured_in": "fresh subprocess", "baseline_rss_mb": baseline}
        entry |= {"peak_rss_mb": peak, "rss_method": method}
        progress(f"  peak RSS {peak} MB (before the first execution: {baseline} MB)")
    return {"result": entry, "failures": failures}


async def bench_in_process(
    driver: str, workloads: list[Workload], quick: bool, failures: list[str]
) -> dict[str, Any]:
    """Workloads measured in this process, one after another on one ``CodeMode`` per
    isolation mode."""
    modes: dict[Literal["none", "process"], CodeMode] = {}
    results: dict[str, Any] = {}
    for workload in workloads:
        try:
            if workload.isolation not in modes:
                modes[workload.isolation] = _code_mode(driver, workload.isolation)
        except Exception as exc:
            results[workload.id] = _failed(failures, driver, f"cannot create the code mode: {exc}")
            continue
        code_mode = modes[workload.isolation]
        results[workload.id] = await bench_one(driver, workload, code_mode, quick, failures)
    return results


def bench_driver(driver: str, ids: list[str], quick: bool, failures: list[str]) -> dict[str, Any]:
    """The selected per-driver workloads on one driver: W6 and W7 in subprocesses, the rest
    here."""
    chosen = [w for w in driver_workloads() if w.id in ids]
    here = [w for w in chosen if not w.fresh_process]
    with _cloudflare.local_worker() if driver == _cloudflare.NAME else contextlib.nullcontext():
        results = asyncio.run(bench_in_process(driver, here, quick, failures))
        for workload in chosen:
            if workload.fresh_process:
                results[workload.id] = run_child(driver, workload, quick, failures)
    return {w.id: results.get(w.id) for w in chosen}


def bench_first_run(
    driver: str, workload_id: str, quick: bool, failures: list[str]
) -> dict[str, Any]:
    """W0: ``benchmarks/first_run.py`` started afresh, timed to its printed result."""
    isolation = "process" if workload_id.endswith("-process") else "none"
    samples = FIRST_RUN_QUICK_SAMPLES if quick else FIRST_RUN_SAMPLES
    where = f"{driver} {workload_id}"
    progress(f"{where}: {FIRST_RUN['title']}, isolation={isolation!r} ({samples} starts)")
    command = [sys.executable, str(FIRST_RUN_SCRIPT), driver, isolation]
    # Bytecode caches are written, as pip writes them at install (uv does not unless asked,
    # and PYTHONDONTWRITEBYTECODE would make every start compile every module again).
    writes_bytecode = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    entry = first_results(command, env.ROOT, samples, "2", writes_bytecode)
    if "crashed" in entry:
        return _failed(failures, where, entry["crashed"])
    entry = {"title": FIRST_RUN["title"], "figure": "ms to the first result"} | entry
    progress(f"  {_describe(entry)}")
    return entry


def _measured(
    where: str, failures: list[str], measure: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``measure()``, or its wrong result or crash recorded as a failure of ``where``."""
    try:
        entry = measure()
    except WrongResult as exc:
        return _failed(failures, where, str(exc))
    except Exception as exc:  # a crash in codemode is a failed workload, not a crash of ours
        return _failed(failures, where, f"raised {type(exc).__name__}: {exc}")
    progress(f"  {_describe(entry)}")
    return entry


def bench_skills(driver: str, quick: bool, failures: list[str]) -> dict[str, Any]:
    """W8 on one driver: skill executions against the plain program, file storage and memory."""
    count = SKILL_QUICK_RUNS if quick else SKILL_RUNS
    progress(f"{driver} W8: {SKILLS['title']} ({SKILL_WARMUP} warm-up, {count} samples each)")
    entry = _measured(f"{driver} W8", failures, lambda: asyncio.run(skill_figures(driver, quick)))
    if "error" not in entry:
        skill, program = entry["skill"]["median"], entry["program"]["median"]
        memory = entry["memory_storage"]["median"]
        progress(f"  = skill {skill} ms - plain program {program} ms; memory storage: {memory} ms")
    return entry


def _layout_problem(source: str, stripped: str) -> str | None:
    """Stripping must keep the line count and the position of every remaining token."""
    lines, out = source.splitlines(), stripped.splitlines()
    if len(lines) != len(out):
        return f"stripping changed the line count from {len(lines)} to {len(out)}"
    for fragment in STRIP_FRAGMENTS:
        line = next(i for i, text in enumerate(lines) if fragment in text)
        column = lines[line].index(fragment)
        if out[line][column : column + len(fragment)] != fragment:
            return f"{fragment!r} moved from line {line + 1}, column {column + 1}"
    return None


async def _run_stripped(driver: str, stripped: str) -> None:
    chosen = _cloudflare.resolve(driver, TIMEOUT_MS)
    instance = plugins.load_driver(chosen) if isinstance(chosen, str) else chosen
    async with open_context(instance, IsolateConfig()) as context:
        result = await context.execute(stripped)
    error = result.error.to_json() if result.error else None
    expect({"success": result.success, "result": result.value, "error": error}, STRIP_EXPECTED)


def bench_strip(drivers: list[str], quick: bool, failures: list[str]) -> dict[str, Any]:
    """W5, host side: ``strip_types`` (uncached); its output is run once on each driver."""
    source = program("strip_sample.ts")
    count = STRIP_QUICK_RUNS if quick else STRIP_RUNS
    progress(f"host W5: {STRIP['title']} ({STRIP_WARMUP} warm-up, {count} samples)")
    stripped = strip_types(source)
    problem = _layout_problem(source, stripped)
    if problem:
        return _failed(failures, "host W5", problem)
    for driver in drivers:
        try:
            worker = _cloudflare.local_worker() if driver == _cloudflare.NAME else None
            with worker or contextlib.nullcontext():
                asyncio.run(_run_stripped(driver, stripped))
        except Exception as exc:
            return _failed(failures, "host W5", f"the stripped program on {driver}: {exc}")
    values = sample_sync(lambda: strip_types(source), count, STRIP_WARMUP, "us")
    entry = {
        "title": STRIP["title"],
        "figure": "us per strip_types call",
        "warmup": STRIP_WARMUP,
        "lines": len(source.splitlines()),
        "output_checked_on": drivers,
        **summary(values, "us", TARGETS["host"]["W5"]),
    }
    progress(f"  {_describe(entry)}")
    return entry


def bench_search(drivers: list[str], quick: bool, failures: list[str]) -> dict[str, Any]:
    """W8, host side: ``search_skills`` over a file storage of 1,000 skills."""
    progress(f"host W8: search_skills over {SEARCH_LIBRARY:,} stored skills")
    return _measured("host W8", failures, lambda: asyncio.run(search_figures(drivers[0], quick)))


def header(args: argparse.Namespace, found: env.Drivers, drivers: list[str]) -> dict[str, Any]:
    return {
        "suite": "codemode benchmarks",
        "format": 1,
        "mode": "quick" if args.quick else "full",
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "date": env.now(),
        "git": env.git(),
        "machine": env.machine(),
        "packages": env.packages(),
        "drivers": drivers,
        "driver_aliases": found.aliases,
        "broken_plugins": found.broken,
        "settings": {"timeout_ms": TIMEOUT_MS, "memory_limit_mb": DEFAULT_MEMORY_LIMIT_MB},
    }


def full_run(args: argparse.Namespace, found: env.Drivers, drivers: list[str]) -> int:
    ids = select_workloads(args.only)
    started = time.perf_counter()
    report = header(args, found, drivers)
    load_start = env.load_average()
    failures: list[str] = []
    reference = _comparison.ReferenceRun(args.quick) if args.reference else None
    results: dict[str, dict[str, Any]] = {driver: {} for driver in drivers}
    local = [driver for driver in drivers if driver != _cloudflare.NAME]
    for workload_id in [i for i in ("W0", "W0-process") if i in ids]:
        for driver in local:
            entry = bench_first_run(driver, workload_id, args.quick, failures)
            results[driver][workload_id] = entry
        if reference:
            samples = FIRST_RUN_QUICK_SAMPLES if args.quick else FIRST_RUN_SAMPLES
            reference.first_run(samples)
    # Interleaved: one workload on every driver (and the reference's), then the next.
    for workload in [w for w in driver_workloads() if w.id in ids]:
        for driver in drivers:
            results[driver] |= bench_driver(driver, [workload.id], args.quick, failures)
        if reference:
            reference.workload(workload)
    if SKILLS["id"] in ids:
        for driver in drivers:
            results[driver][SKILLS["id"]] = bench_skills(driver, args.quick, failures)
    host = {}
    if "W5" in ids:
        host["W5"] = bench_strip(drivers, args.quick, failures)
        if reference:
            reference.strip(STRIP_QUICK_RUNS if args.quick else STRIP_RUNS, STRIP_WARMUP)
    if SKILLS["id"] in ids:
        host[SKILLS["id"]] = bench_search(drivers, args.quick, failures)
    report |= {
        "load_average": {"start": load_start, "end": env.load_average()},
        "duration_s": round(time.perf_counter() - started, 1),
        "host": host,
        "results": {driver: {i: results[driver][i] for i in ids if i in results[driver]}
                    for driver in drivers},
    }  # fmt: skip
    if reference:
        report |= reference.report(report)
        progress(_comparison.table(report["comparison"]))
    report["failures"] = failures
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    if failures:
        progress("FAILED: " + "; ".join(failures))
    return EXIT_WRONG if failures else 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        found = env.discover_drivers()
        drivers = select_drivers(args.drivers, found)
        if args.child:
            payload = asyncio.run(
                child_main(drivers[0], select_workloads(args.only)[0], args.quick)
            )
            print(json.dumps(payload))
            return EXIT_WRONG if payload["failures"] else 0
        return full_run(args, found, drivers)
    except (UsageError, _reference.ReferenceUnavailable) as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
