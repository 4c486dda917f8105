"""W8, skills: what a skill execution costs beyond its program, and search over 1,000 skills.

Per driver, a skill registered through ``register_skill`` runs as a direct tool (what a model
calls): each execution reads the skill from the storage, runs it in a fresh context and records
its stats. In the same loop, taking turns at going first, the same code runs as a plain program
through ``CodeMode.run`` with its input inlined: the program's own cost. The figure is the
difference of the two medians. Host side, once: ``search_skills`` over a file storage holding
1,000 skills.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import _cloudflare
from _measure import progress, summary
from _workloads import (
    SEARCH_LIBRARY,
    SEARCH_QUICK_RUNS,
    SEARCH_RUNS,
    SEARCH_WARMUP,
    SKILL_CASES,
    SKILL_CODE,
    SKILL_NAME,
    SKILL_QUICK_RUNS,
    SKILL_REGISTRATION,
    SKILL_RUNS,
    SKILL_WARMUP,
    SKILLS,
    TARGETS,
    TIMEOUT_MS,
    WrongResult,
    difference,
    echo,
    expect,
    target,
)

from codemode import CodeMode, Skill, SkillsConfig, code_mode_with_skills, create_code_mode, plugins
from codemode.isolate import DEFAULT_MEMORY_LIMIT_MB
from codemode.skills import SkillIndexEntry, SkillStorage
from codemode.tools import Tool, ToolSet
from codemode.trust import TrustStrategy

PAUSE_S = 0.005
"""Before each timed action (not timed): the engine is idle when it starts, as after a model's
turn. Back to back, whichever ran second would also pay for the driver's preparing the next
runtime after the first (QuickJS compiles it on the engine thread once a context is freed)."""

VERBS = ("fetch", "compare", "summarize", "list", "count", "rank", "find", "export")
SOURCES = ("github", "npm", "weather", "calendar", "invoice", "jira", "slack", "pypi")
OBJECTS = ("stats", "issues", "releases", "downloads", "forecast", "events", "totals", "messages")
WORDS = (
    "repository", "package", "city", "team", "week", "month", "report", "daily", "weekly",
    "open", "closed", "latest", "top", "per", "user", "project", "status", "trend", "chart",
    "table", "summary", "average", "change", "date", "range", "name", "version", "score",
    "link", "owner", "label", "priority", "region", "currency", "channel", "thread", "deploy",
    "number", "value", "result",
)  # fmt: skip
"""The small vocabulary of the library's descriptions, so that queries match many skills."""
DISTINCT_AT = 617
DISTINCT_DESCRIPTION = (
    "Reconcile the quarterly escrow ledger of a mortgage account against the bank statements"
)
DISTINCT_QUERY = "reconcile mortgage escrow ledger"
"""Words no other skill has: the skill at ``DISTINCT_AT`` must come first."""
EXACT_AT = 17
QUERIES = (
    "fetch github stats",
    "compare the downloads of two npm packages",
    "weather forecast for a city next week",
    "summarize open jira issues by priority",
    "count invoice totals per month",
    "rank releases",
    "find slack messages that mention a deploy and list who sent them",
    "calendar",
    "exportPypiVersions",
    "zebra quantum lattice",
    DISTINCT_QUERY,
)
"""Varied: words of the vocabulary, a long sentence, one word, camelCase, no match at all;
``search_figures`` adds the exact name of the skill at ``EXACT_AT``."""


class TimedStorage:
    """A ``SkillStorage`` that times the two calls of every skill run: ``get`` (the skill is
    read fresh) and ``update_stats``. The wrapper itself costs about a microsecond."""

    def __init__(self, inner: SkillStorage) -> None:
        self.inner = inner
        self.trust_strategy: TrustStrategy = inner.trust_strategy
        self.get_ms: list[float] = []
        self.update_stats_ms: list[float] = []

    def reset(self) -> None:
        self.get_ms, self.update_stats_ms = [], []

    async def get(self, name: str) -> Skill | None:
        started = time.perf_counter()
        try:
            return await self.inner.get(name)
        finally:
            self.get_ms.append(_ms_since(started))

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        started = time.perf_counter()
        try:
            return await self.inner.update_stats(name, success)
        finally:
            self.update_stats_ms.append(_ms_since(started))

    async def load_index(self) -> list[SkillIndexEntry]:
        return await self.inner.load_index()

    async def load_all(self) -> list[Skill]:
        return await self.inner.load_all()

    async def save(self, skill: Skill) -> Skill:
        return await self.inner.save(skill)

    async def delete(self, name: str) -> bool:
        return await self.inner.delete(name)

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        return await self.inner.search(query, limit)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1e3


def _spread(values: list[float]) -> dict[str, Any]:
    """A part of a W8 entry: median, min and max, in the entry's unit and over its samples."""
    entry = summary(values, "ms", None)
    return {key: entry[key] for key in ("median", "min", "max")}


def _overhead(skill_ms: list[float], program_ms: list[float], goal: float | None) -> dict[str, Any]:
    median = statistics.median(skill_ms) - statistics.median(program_ms)
    return {
        "unit": "ms",
        "median": round(median, 3),
        "samples": len(skill_ms),
        "target": goal,
        "meets_target": None if goal is None else median <= goal,
    }


def _tool(tools: ToolSet, name: str) -> Tool:
    found = tools.get(name)
    if found is None:
        raise WrongResult(f"code_mode_with_skills gave no {name!r} tool")
    return found


def filesystem_of(path: str) -> str | None:
    """The type of the filesystem holding ``path`` (``ext4``, ``tmpfs``; Linux only): fsync
    costs nothing on tmpfs and milliseconds on some disks."""
    try:
        mounts = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    real = os.path.realpath(path)
    point, kind = "", None
    for line in mounts:
        fields = line.split()
        if len(fields) < 3 or len(fields[1]) <= len(point):
            continue
        if real == fields[1] or real.startswith(fields[1].rstrip("/") + "/"):
            point, kind = fields[1], fields[2]
    return kind


def _code_mode(driver: str) -> CodeMode:
    return create_code_mode(
        driver=_cloudflare.resolve(driver, TIMEOUT_MS),
        tools=[echo],
        timeout=TIMEOUT_MS,
        memory_limit=DEFAULT_MEMORY_LIMIT_MB,
        isolation="none",  # the in-process engine's own figures; W1-process measures workers
    )


async def _timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    await asyncio.sleep(PAUSE_S)
    started = time.perf_counter()
    outcome = await action()
    return _ms_since(started), outcome


async def _skill_against_program(
    code_mode: CodeMode, storage: SkillStorage, count: int, goal: float | None
) -> dict[str, Any]:
    """Warm-up, then ``count`` executions of the skill and of the plain program, in turns."""
    timed = TimedStorage(storage)
    tools, _, _ = await code_mode_with_skills(code_mode, skills=SkillsConfig(storage=timed))
    saved = await _tool(tools, "register_skill").execute(SKILL_REGISTRATION)
    if not saved.get("success"):
        raise WrongResult(f"register_skill refused the skill: {saved.get('error')}")
    skill = _tool(tools, SKILL_NAME)
    skill_ms, program_ms = [], []
    for run in range(SKILL_WARMUP + count):
        if run == SKILL_WARMUP:
            timed.reset()
        given, expected = SKILL_CASES[run % len(SKILL_CASES)]
        as_skill = functools.partial(skill.execute, given)
        as_program = functools.partial(
            code_mode.run, f"const input = {json.dumps(given)}; {SKILL_CODE}"
        )
        if run % 2 == 0:
            skill_time, value = await _timed(as_skill)
            program_time, outcome = await _timed(as_program)
        else:
            program_time, outcome = await _timed(as_program)
            skill_time, value = await _timed(as_skill)
        problem = difference(expected, value, "skill result")
        if problem:
            raise WrongResult(f"execution {run + 1}: {problem}")
        try:
            expect(outcome, expected)
        except WrongResult as exc:
            raise WrongResult(f"execution {run + 1}, the plain program: {exc}") from None
        if run >= SKILL_WARMUP:
            skill_ms.append(skill_time)
            program_ms.append(program_time)
    stored = await storage.get(SKILL_NAME)
    if stored is None:
        raise WrongResult(f"the skill {SKILL_NAME} is no longer in the storage")
    runs, stats = SKILL_WARMUP + count, stored.stats
    if stats.executions != runs or stats.success_rate != 1.0:
        raise WrongResult(
            f"the stored stats say {stats.executions} executions at success rate"
            f" {stats.success_rate}, expected {runs} ({SKILL_WARMUP} warm-up + {count}) at 1.0"
        )
    return {
        **_overhead(skill_ms, program_ms, goal),
        "skill": _spread(skill_ms),
        "program": _spread(program_ms),
        "storage_get": _spread(timed.get_ms),
        "update_stats": _spread(timed.update_stats_ms),
        "stats_after": {
            "executions": stats.executions,
            "success_rate": stats.success_rate,
            "trust_level": stored.trust_level.value,
        },
    }


async def skill_figures(driver: str, quick: bool) -> dict[str, Any]:
    """W8 on one driver: on a file storage in a fresh folder (the figure), then in memory."""
    count = SKILL_QUICK_RUNS if quick else SKILL_RUNS
    code_mode = _code_mode(driver)
    with tempfile.TemporaryDirectory(prefix="codemode-w8-") as directory:
        on_disk = plugins.load_storage("fs", directory=directory)
        files = await _skill_against_program(code_mode, on_disk, count, target(driver, "W8"))
        filesystem = filesystem_of(directory)
    memory = await _skill_against_program(code_mode, plugins.load_storage("memory"), count, None)
    return {
        "title": SKILLS["title"],
        "figure": "ms per skill execution beyond the program's own cost (difference of medians)",
        "warmup": SKILL_WARMUP,
        **files,
        "storage": "fs",
        "filesystem": filesystem,
        "memory_storage": memory,
    }


def library() -> list[Skill]:
    """``SEARCH_LIBRARY`` skills, the same every run: names like ``fetch_github_stats_0`` (a
    verb, a source and a thing, cycled, then the position), descriptions of 15 words from a
    small vocabulary, two usage hints."""
    rng = random.Random(8)
    skills = []
    for i in range(SEARCH_LIBRARY):
        verb, source = VERBS[i % len(VERBS)], SOURCES[i // len(VERBS) % len(SOURCES)]
        thing = OBJECTS[i // (len(VERBS) * len(SOURCES)) % len(OBJECTS)]
        words = [verb, "the", thing, "of", "a", source, *rng.choices(WORDS, k=9)]
        description = DISTINCT_DESCRIPTION if i == DISTINCT_AT else " ".join(words).capitalize()
        skills.append(
            Skill(
                name=f"{verb}_{source}_{thing}_{i}",
                description=description,
                code=f"return await external_echo({{ i: input.i + {i} }});",
                input_schema={"type": "object", "properties": {"i": {"type": "integer"}}},
                output_schema={"type": "object"},
                usage_hints=[
                    f"Use to {verb} {source} {thing}",
                    f"Good for {' '.join(rng.choices(WORDS, k=3))} reports",
                ],
            )
        )
    return skills


async def _first(search: Tool, query: str, name: str) -> None:
    found = await search.execute({"query": query, "limit": 5})
    first = found[0]["name"] if found else None
    if first != name:
        raise WrongResult(f"search_skills({query!r}) gave {first!r} first, expected {name!r}")


async def search_figures(driver: str, quick: bool) -> dict[str, Any]:
    """W8, host side: ``search_skills`` (the tool) and ``storage.search`` over 1,000 skills."""
    count = SEARCH_QUICK_RUNS if quick else SEARCH_RUNS
    skills = library()
    queries = (*QUERIES, skills[EXACT_AT].name)
    with tempfile.TemporaryDirectory(prefix="codemode-w8-") as directory:
        storage = plugins.load_storage("fs", directory=directory)
        started = time.perf_counter()
        for skill in skills:
            await storage.save(skill)
        setup_s = time.perf_counter() - started
        progress(f"  saved {len(skills)} skills in {setup_s:.1f} s (setup, not measured)")
        tools, _, _ = await code_mode_with_skills(
            _code_mode(driver), skills=SkillsConfig(storage=storage)
        )
        search = _tool(tools, "search_skills")
        first_ms, _ = await _timed(functools.partial(search.execute, {"query": queries[0]}))
        await _first(search, DISTINCT_QUERY, skills[DISTINCT_AT].name)
        await _first(search, skills[EXACT_AT].name, skills[EXACT_AT].name)
        tool_ms, direct_ms = [], []
        for run in range(SEARCH_WARMUP + count):
            query = queries[run % len(queries)]
            started = time.perf_counter()
            found = await search.execute({"query": query, "limit": 5})
            tool_time = _ms_since(started)
            started = time.perf_counter()
            entries = await storage.search(query, 5)
            direct_time = _ms_since(started)
            if [item["name"] for item in found] != [entry.name for entry in entries]:
                raise WrongResult(f"search_skills and storage.search disagree on {query!r}")
            if run >= SEARCH_WARMUP:
                tool_ms.append(tool_time)
                direct_ms.append(direct_time)
        filesystem = filesystem_of(directory)
    return {
        "title": f"search_skills over {len(skills):,} skills in a file storage",
        "figure": "ms per search_skills call (limit 5)",
        "warmup": SEARCH_WARMUP,
        **summary(tool_ms, "ms", TARGETS["host"]["W8"]),
        "skills": len(skills),
        "queries": list(queries),
        "filesystem": filesystem,
        "setup_s": round(setup_s, 1),
        "first_search_ms": round(first_ms, 3),
        "storage_search": _spread(direct_ms),
    }
