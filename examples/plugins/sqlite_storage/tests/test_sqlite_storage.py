"""Sqlite-storage specifics: registration, config, the cached search index, hand edits,
closing, and processes sharing one file."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import runpy
import sqlite3
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import codemode_example_sqlite
from codemode.cli import main
from codemode.config import load_config
from codemode.errors import ConfigError, CorruptSkillError, SkillStorageError
from codemode.plugins import load_storage
from codemode.skills import (
    Skill,
    SkillIndexEntry,
    SkillSearchIndex,
    SkillStorage,
    load_configured_storage,
)
from codemode.trust import TrustLevel, create_default_trust_strategy, create_relaxed_trust_strategy
from codemode_example_sqlite import (
    SqliteSkillStorage,
    SqliteStorageWarning,
    create_sqlite_skill_storage,
)
from codemode_example_sqlite import _storage as storage_module

HERE = Path(__file__).resolve().parent


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


def test_public_names() -> None:
    assert codemode_example_sqlite.__all__ == [
        "SqliteSkillStorage",
        "SqliteStorageWarning",
        "create_sqlite_skill_storage",
    ]


def test_entry_point_is_declared() -> None:
    [found] = [ep for ep in entry_points(group="codemode") if ep.name == "sqlite"]
    assert found.value == "codemode_example_sqlite._plugin"


def test_registered_as_sqlite(tmp_path: Path) -> None:
    relaxed = create_relaxed_trust_strategy()
    storage = load_storage("sqlite", path=str(tmp_path / "a.db"), trust_strategy=relaxed)
    assert isinstance(storage, SqliteSkillStorage)
    assert isinstance(storage, SkillStorage)
    assert storage.trust_strategy is relaxed
    assert storage.path == tmp_path / "a.db"
    assert create_sqlite_skill_storage(tmp_path / "b.db").trust_strategy == (
        create_default_trust_strategy()
    )


def test_directory_holds_skills_db(tmp_path: Path) -> None:
    storage = create_sqlite_skill_storage(directory=tmp_path / "nested" / "skills")
    assert storage.path == tmp_path / "nested" / "skills" / "skills.db"
    assert storage.path.is_file()


def test_path_and_directory_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        create_sqlite_skill_storage(tmp_path / "a.db", directory=tmp_path)
    with pytest.raises(ConfigError, match="local folder"):
        create_sqlite_skill_storage(directory="s3://bucket/skills")


def test_repr_names_the_file(tmp_path: Path) -> None:
    storage = create_sqlite_skill_storage(tmp_path / "a.db")
    assert re.fullmatch(r"SqliteSkillStorage\('.*a\.db', trust_strategy=.*\)", repr(storage))


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(SkillStorageError, match="schema 99"):
        create_sqlite_skill_storage(path)


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    async with create_sqlite_skill_storage(tmp_path / "a.db") as storage:
        await storage.save(make_skill())
    connection = sqlite3.connect(tmp_path / "a.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        [(name, position, meta, code)] = connection.execute(
            "SELECT name, position, meta, code FROM skills"
        ).fetchall()
    finally:
        connection.close()
    assert (name, position, code) == ("fetch_github_stats", 1, "return input.repo")
    assert json.loads(meta)["trustLevel"] == "untrusted"


async def test_search_index_is_built_once_until_a_change(
    tmp_path: Path, index_builds: list[int]
) -> None:
    storage = create_sqlite_skill_storage(tmp_path / "a.db", create_relaxed_trust_strategy())
    await storage.save(make_skill())
    await storage.search("github")
    await storage.update_stats("fetch_github_stats", True)
    await storage.update_stats("fetch_github_stats", True)
    await storage.search("stars")
    assert index_builds == [1]  # runs that keep the level change nothing a search sees
    await storage.update_stats("fetch_github_stats", True)  # promoted: entries carry the level
    [found] = await storage.search("github")
    assert found.trust_level is TrustLevel.PROVISIONAL
    assert index_builds == [1, 1]
    await storage.save(make_skill("parse_csv", description="Parse CSV text"))
    assert [e.name for e in await storage.search("csv")] == ["parse_csv"]
    assert await storage.delete("nothing_here") is False
    await storage.search("csv")
    assert index_builds == [1, 1, 2]
    assert await storage.search("  ") == []
    assert index_builds == [1, 1, 2]


async def test_another_storage_on_the_file_sees_changes(tmp_path: Path) -> None:
    first = create_sqlite_skill_storage(tmp_path / "a.db")
    second = create_sqlite_skill_storage(tmp_path / "a.db")
    assert await second.search("csv") == []
    await first.save(make_skill("parse_csv", description="Parse CSV text"))
    assert [e.name for e in await second.search("csv")] == ["parse_csv"]
    assert await first.delete("parse_csv") is True
    assert await second.search("csv") == []


async def test_a_hand_edit_of_the_code_resets_trust(tmp_path: Path) -> None:
    storage = create_sqlite_skill_storage(tmp_path / "a.db", create_relaxed_trust_strategy())
    await storage.save(make_skill(trust_level=TrustLevel.TRUSTED))
    assert [e.trust_level for e in await storage.search("github")] == [TrustLevel.TRUSTED]
    connection = sqlite3.connect(tmp_path / "a.db")
    with connection:
        connection.execute("UPDATE skills SET code = 'return 1'")
    connection.close()
    got = await storage.get("fetch_github_stats")
    assert got is not None
    assert (got.code, got.trust_level) == ("return 1", TrustLevel.UNTRUSTED)
    [found] = await storage.search("github")  # the trigger told the cached index
    assert found.trust_level is TrustLevel.UNTRUSTED
    updated = await storage.update_stats("fetch_github_stats", True)
    assert updated is not None
    assert updated.stats.executions == 1
    assert updated.content_hash == updated.computed_hash()


async def test_a_corrupt_row_is_reported_skipped_and_repaired(tmp_path: Path) -> None:
    storage = create_sqlite_skill_storage(tmp_path / "a.db")
    await storage.save(make_skill("keep_me"))
    await storage.save(make_skill())
    connection = sqlite3.connect(tmp_path / "a.db")
    with connection:
        connection.execute("UPDATE skills SET meta = '{not json' WHERE name = 'fetch_github_stats'")
    connection.close()
    with pytest.raises(CorruptSkillError, match="skill 'fetch_github_stats'"):
        await storage.get("fetch_github_stats")
    with pytest.warns(SqliteStorageWarning, match="fetch_github_stats"):
        assert [s.name for s in await storage.load_all()] == ["keep_me"]
    saved = await storage.save(make_skill(description="repaired"))
    assert await storage.get("fetch_github_stats") == saved
    assert [e.name for e in await storage.load_index()] == ["keep_me", "fetch_github_stats"]


async def test_a_closed_storage_refuses_calls(tmp_path: Path) -> None:
    async with create_sqlite_skill_storage(tmp_path / "a.db") as storage:
        await storage.save(make_skill())
    with pytest.raises(SkillStorageError, match="closed"):
        await storage.get("fetch_github_stats")


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    storage = create_sqlite_skill_storage(tmp_path / "a.db")
    asyncio.run(storage.save(make_skill()))
    for _ in range(5):  # each asyncio.run has an executor, and threads, of its own
        asyncio.run(storage.update_stats("fetch_github_stats", True))
    assert len(storage._connections) <= 2
    storage.close()
    assert storage._connections == {}


def test_processes_sharing_the_file_lose_no_count(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    asyncio.run(create_sqlite_skill_storage(path).save(make_skill()))
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [
        context.Process(
            target=runpy.run_path,
            args=(
                str(HERE / "_update_stats_worker.py"),
                {
                    "WORKER": {
                        "path": path,
                        "name": "fetch_github_stats",
                        "runs": 100,
                        "start": start,
                    }
                },
                "__update_stats_worker__",
            ),
        )
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(90)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    skill = asyncio.run(create_sqlite_skill_storage(path).get("fetch_github_stats"))
    assert skill is not None
    assert skill.stats.executions == 400
    assert skill.stats.success_rate == pytest.approx(0.5)


CONFIG = '[skills]\nstorage = "sqlite"\ntrust = "relaxed"\n'


async def test_chosen_through_config_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "codemode.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "codemode.toml")
    # What codemode does with [skills] (code_mode_with_skills, the CLI): no directory is set,
    # so the storage gets its name and the strategy only.
    storage = load_configured_storage(config)
    assert isinstance(storage, SqliteSkillStorage)
    assert storage.trust_strategy == create_relaxed_trust_strategy()
    await storage.save(make_skill())
    assert (tmp_path / "skills.db").is_file()


async def test_the_configured_directory_reaches_the_storage(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (tmp_path / "codemode.toml").write_text(
        f'[skills]\nstorage = "sqlite"\ndirectory = "{folder}"\n', encoding="utf-8"
    )
    storage = load_configured_storage(load_config(tmp_path / "codemode.toml"))
    assert isinstance(storage, SqliteSkillStorage)
    await storage.save(make_skill())
    assert (folder / "skills.db").is_file()
    await storage.aclose()


def test_cli_lists_skills_from_the_sqlite_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "codemode.toml").write_text(CONFIG, encoding="utf-8")
    storage = create_sqlite_skill_storage(tmp_path / "skills.db")
    asyncio.run(storage.save(make_skill()))
    asyncio.run(storage.update_stats("fetch_github_stats", True))
    storage.close()
    for args in (["--storage", "sqlite"], ["--config", str(tmp_path / "codemode.toml")]):
        result = CliRunner().invoke(main, ["skills", "list", *args, "--json"])
        assert result.exit_code == 0, result.output
        [listed] = json.loads(result.stdout)
        assert listed["name"] == "fetch_github_stats"
        assert listed["trustLevel"] == "untrusted"
        assert listed["stats"]["executions"] == 1


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    readme = HERE.parent / "README.md"
    [block] = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "skills.db").is_file()
