"""Memory-storage specifics: registration, defaults, the cached search index, threads."""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

import codemode_storage_memory
from codemode.plugins import load_storage
from codemode.skills import Skill, SkillIndexEntry, SkillSearchIndex, SkillStorage
from codemode.trust import (
    TrustLevel,
    create_default_trust_strategy,
    create_relaxed_trust_strategy,
)
from codemode_storage_memory import MemorySkillStorage, create_memory_skill_storage
from codemode_storage_memory import _storage as storage_module


def make_skill(name: str = "fetch_github_stats", **fields: Any) -> Skill:
    values: dict[str, Any] = {
        "description": "Fetch star counts of a GitHub repository",
        "code": "return input.repo",
        "input_schema": {"type": "object"},
        "output_schema": {"type": "string"},
        **fields,
    }
    return Skill(name=name, **values)


@pytest.fixture
def index_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of entries of each search index the storage builds, in order."""
    builds: list[int] = []

    class CountingIndex(SkillSearchIndex):
        def __init__(self, entries: Sequence[SkillIndexEntry]) -> None:
            builds.append(len(entries))
            super().__init__(entries)

    monkeypatch.setattr(storage_module, "SkillSearchIndex", CountingIndex)
    return builds


@pytest.fixture
def fast_thread_switches() -> Iterator[None]:
    # Threads switch every 10 microseconds instead of 5 ms, so an unguarded read-modify-write
    # would be interleaved (and lose counts) within the few hundred updates below.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def test_public_names() -> None:
    assert codemode_storage_memory.__all__ == ["MemorySkillStorage", "create_memory_skill_storage"]


def test_entry_point_is_declared() -> None:
    [found] = [ep for ep in entry_points(group="codemode") if ep.name == "memory"]
    assert found.value == "codemode_storage_memory._plugin"


def test_registered_as_memory() -> None:
    storage = load_storage("memory")
    relaxed = create_relaxed_trust_strategy()
    chosen = load_storage("memory", trust_strategy=relaxed)
    assert isinstance(storage, MemorySkillStorage)
    assert chosen.trust_strategy is relaxed


def test_default_trust_strategy() -> None:
    assert create_memory_skill_storage().trust_strategy == create_default_trust_strategy()


def test_is_a_skill_storage() -> None:
    storage: SkillStorage = create_memory_skill_storage()
    assert isinstance(storage, SkillStorage)


async def test_repr_shows_count_and_strategy() -> None:
    storage = create_memory_skill_storage(create_relaxed_trust_strategy())
    await storage.save(make_skill())
    assert re.fullmatch(
        r"MemorySkillStorage\(1 skills, trust_strategy=ThresholdTrustStrategy\(.*\)\)",
        repr(storage),
    )


async def test_storages_share_nothing() -> None:
    first, second = create_memory_skill_storage(), create_memory_skill_storage()
    await first.save(make_skill())
    assert await second.load_index() == []


async def test_search_index_is_built_once_until_a_change(index_builds: list[int]) -> None:
    storage = create_memory_skill_storage()
    await storage.save(make_skill())
    await storage.search("github")
    await storage.search("stars")
    assert index_builds == [1]
    await storage.save(make_skill("parse_csv", description="Parse CSV text"))
    assert [e.name for e in await storage.search("csv")] == ["parse_csv"]
    await storage.search("github")
    assert index_builds == [1, 2]
    await storage.delete("parse_csv")
    assert await storage.search("csv") == []
    assert index_builds == [1, 2, 1]


async def test_runs_that_keep_the_level_keep_the_index(index_builds: list[int]) -> None:
    storage = create_memory_skill_storage(create_relaxed_trust_strategy())
    await storage.save(make_skill())
    await storage.search("github")
    await storage.update_stats("fetch_github_stats", True)
    await storage.update_stats("fetch_github_stats", True)
    await storage.search("github")
    assert index_builds == [1]
    # The third success promotes it, and index entries carry the level.
    await storage.update_stats("fetch_github_stats", True)
    [found] = await storage.search("github")
    assert found.trust_level is TrustLevel.PROVISIONAL
    assert index_builds == [1, 1]


async def test_blank_search_builds_no_index(index_builds: list[int]) -> None:
    storage = create_memory_skill_storage()
    await storage.save(make_skill())
    assert await storage.search("  ") == []
    assert await storage.search("github", limit=0) == []
    assert index_builds == []


async def test_deleting_an_unknown_name_keeps_the_index(index_builds: list[int]) -> None:
    storage = create_memory_skill_storage()
    await storage.save(make_skill())
    await storage.search("github")
    assert await storage.delete("nothing_here") is False
    await storage.search("github")
    assert index_builds == [1]


@pytest.mark.usefixtures("fast_thread_switches")
def test_threads_with_their_own_loops_lose_no_count() -> None:
    storage = create_memory_skill_storage()
    asyncio.run(storage.save(make_skill()))
    start = threading.Barrier(4, timeout=10)

    async def updates(thread: int) -> None:
        for i in range(100):
            await storage.update_stats("fetch_github_stats", (thread + i) % 2 == 0)
            await storage.save(make_skill(f"thread_{thread}_skill", description=f"run {i}"))

    def run(thread: int) -> None:
        start.wait()
        asyncio.run(updates(thread))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    skill = asyncio.run(storage.get("fetch_github_stats"))
    assert skill is not None
    assert skill.stats.executions == 400
    assert skill.stats.success_rate == pytest.approx(0.5)
    names = [entry.name for entry in asyncio.run(storage.load_index())]
    assert sorted(names) == ["fetch_github_stats"] + [f"thread_{n}_skill" for n in range(4)]


async def test_a_stored_skill_is_not_the_one_passed_in() -> None:
    storage = create_memory_skill_storage()
    skill = make_skill()
    saved = await storage.save(skill)
    got = await storage.get(skill.name)
    assert saved is not skill
    assert got is not saved
    assert got == saved


def test_readme_example_runs() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    [block] = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
