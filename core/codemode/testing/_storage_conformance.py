"""The skill storage conformance suite: every rule of the ``SkillStorage`` contract, as tests.

Run it against any storage with a few lines of pytest::

    import itertools
    import pytest
    from codemode.testing import SkillStorageConformance
    from my_storage import create_my_storage

    class TestMyStorage(SkillStorageConformance):
        @pytest.fixture
        def make_storage(self, tmp_path):
            folders = (tmp_path / str(i) for i in itertools.count())
            return lambda trust_strategy=None: create_my_storage(
                next(folders), trust_strategy=trust_strategy
            )

``make_storage(trust_strategy=None)`` must return a new, empty storage on every call (the
suite checks that too); ``None`` means the storage's own default strategy. The tests are
plain functions that run their own event loop, so no pytest plugin is needed, and the storage
is built outside any loop, as an application builds it. The rules themselves are documented in
``codemode.skills._storage``; each test is named for the one it checks.
"""

from __future__ import annotations

import asyncio
import copy
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from codemode.errors import SkillNameError
from codemode.skills import MAX_NAME_CHARS, Skill, SkillIndexEntry, SkillStorage
from codemode.testing._harness import sync
from codemode.trust import (
    SkillStats,
    TrustLevel,
    create_always_trusted_strategy,
    create_relaxed_trust_strategy,
)

MakeStorage = Callable[..., SkillStorage]

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "repo": {"type": "string", "minLength": 1},
        "max_results": {"type": "integer", "exclusiveMinimum": 0},
    },
    "required": ["repo"],
    "additionalProperties": False,
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"starCount": {"type": "integer"}, "fork_count": {"type": "integer"}},
}

INVALID_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("x" * (MAX_NAME_CHARS + 1), id="too long"),
    pytest.param("fetchStats", id="camelCase"),
    pytest.param("Fetch_stats", id="capital"),
    pytest.param("fetch-stats", id="hyphen"),
    pytest.param("fetch stats", id="space"),
    pytest.param("1fetch", id="leading digit"),
    pytest.param("_fetch", id="leading underscore"),
    pytest.param("external_fetch", id="external_ prefix"),
    pytest.param("skill_fetch", id="skill_ prefix"),
    pytest.param("execute_typescript", id="built-in tool"),
    pytest.param("a/b", id="slash"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("..", id="dot dot"),
    pytest.param("../escape", id="parent folder"),
    pytest.param("a..b", id="dots inside"),
]


def make_skill(name: str = "fetch_github_stats", **fields: Any) -> Skill:
    """A valid skill; ``fields`` override the defaults."""
    values: dict[str, Any] = {
        "description": "Fetch star and fork counts of a GitHub repository",
        "code": "const r = await external_fetch({ repo: input.repo });\nreturn r.stats;",
        # Copies: pydantic keeps nested dicts as given, and a test that catches a storage
        # sharing them must not corrupt the constants it compares against.
        "input_schema": copy.deepcopy(INPUT_SCHEMA),
        "output_schema": copy.deepcopy(OUTPUT_SCHEMA),
        **fields,
    }
    return Skill(name=name, **values)


def unchecked_skill(name: str) -> Skill:
    """A skill carrying an invalid name: built without validation, as a careless caller can."""
    valid = make_skill()
    return Skill.model_construct(**{**dict(valid), "name": name})


async def run_many(storage: SkillStorage, name: str, successes: int, failures: int) -> None:
    for success in [True] * successes + [False] * failures:
        await storage.update_stats(name, success)


class StorageBasicsConformance:
    """Save, get, load, delete: what goes in comes out, complete and in order."""

    @sync
    async def test_make_storage_returns_a_new_empty_storage(
        self, make_storage: MakeStorage
    ) -> None:
        first = make_storage()
        await first.save(make_skill())
        second = make_storage()
        assert await second.load_index() == []
        assert await second.get("fetch_github_stats") is None
        assert [entry.name for entry in await first.load_index()] == ["fetch_github_stats"]

    @sync
    async def test_is_a_skill_storage(self, make_storage: MakeStorage) -> None:
        assert isinstance(make_storage(), SkillStorage)

    @sync
    async def test_trust_strategy_is_the_one_given(self, make_storage: MakeStorage) -> None:
        strategy = create_relaxed_trust_strategy()
        assert make_storage(trust_strategy=strategy).trust_strategy is strategy

    @sync
    async def test_save_then_get_round_trips_every_field(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        skill = make_skill(
            id="3f1c8a52-0000-4000-8000-000000000001",
            description="Fetch counts. Uses camelCase keys: starCount, not star_count",
            usage_hints=["Pass {repo: 'owner/name'}", "returns starCount and fork_count"],
            depends_on=["parse_repo_url", "count_stars"],
            trust_level=TrustLevel.PROVISIONAL,
            stats=SkillStats(executions=12, success_rate=0.75),
        )
        await storage.save(skill)
        got = await storage.get(skill.name)
        assert got is not None
        assert got.id == skill.id
        assert got.name == skill.name
        assert got.description == skill.description
        assert got.code == skill.code
        # Schemas keep their keys exactly: no camelCase or snake_case conversion inside them.
        assert got.input_schema == INPUT_SCHEMA
        assert got.output_schema == OUTPUT_SCHEMA
        assert got.usage_hints == skill.usage_hints
        assert got.depends_on == skill.depends_on
        assert got.trust_level is TrustLevel.PROVISIONAL
        assert got.stats == SkillStats(executions=12, success_rate=0.75)

    @sync
    async def test_code_is_kept_byte_for_byte(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        code = '// ünïcode ✓\r\n\tconst s = `a\\nb`;\n\n  return { s, q: "\'" };\n\n'
        await storage.save(make_skill(code=code))
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.code == code

    @sync
    async def test_save_sets_timestamps_and_content_hash(self, make_storage: MakeStorage) -> None:
        skill = make_skill()
        saved = await make_storage().save(skill)
        assert saved.created_at is not None
        assert saved.updated_at is not None
        assert saved.created_at.utcoffset() == timedelta(0)
        assert saved.content_hash == skill.computed_hash()
        assert saved.content_hash.startswith("sha256:")

    @sync
    async def test_save_of_a_new_skill_keeps_a_given_created_at(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage()
        given = datetime(2020, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
        saved = await storage.save(make_skill(created_at=given))
        got = await storage.get(saved.name)
        assert got is not None
        assert saved.created_at == got.created_at == given

    @sync
    async def test_save_returns_what_is_stored(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = await storage.save(make_skill(usage_hints=["a hint"]))
        assert await storage.get(saved.name) == saved
        assert await storage.load_all() == [saved]

    @sync
    async def test_update_keeps_created_at_and_moves_updated_at(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage()
        first = await storage.save(make_skill())
        await asyncio.sleep(0.01)  # timestamps have millisecond resolution
        second = await storage.save(first.model_copy(update={"description": "Counts stars"}))
        assert second.created_at == first.created_at
        assert first.updated_at is not None
        assert second.updated_at is not None
        assert second.updated_at > first.updated_at

    @sync
    async def test_update_replaces_and_never_duplicates(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill(description="first"))
        await storage.save(make_skill(description="second"))
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.description == "second"
        assert [entry.name for entry in await storage.load_index()] == ["fetch_github_stats"]
        assert len(await storage.load_all()) == 1

    @sync
    async def test_update_keeps_the_first_id(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        first = await storage.save(make_skill())
        again = make_skill(description="second")
        assert again.id != first.id
        second = await storage.save(again)
        assert second.id == first.id
        assert [entry.id for entry in await storage.load_index()] == [first.id]

    @sync
    async def test_load_index_lists_entries_in_first_save_order(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage()
        for name in ("send_email", "alpha_skill", "parse_csv"):
            await storage.save(make_skill(name, description=f"the {name} skill"))
        await storage.save(make_skill("alpha_skill", description="updated"))
        index = await storage.load_index()
        assert [entry.name for entry in index] == ["send_email", "alpha_skill", "parse_csv"]
        assert all(isinstance(entry, SkillIndexEntry) for entry in index)

    @sync
    async def test_load_index_entries_match_the_skills(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = await storage.save(
            make_skill(usage_hints=["hint one", "hint two"], trust_level=TrustLevel.TRUSTED)
        )
        assert await storage.load_index() == [saved.index_entry()]

    @sync
    async def test_empty_storage_has_no_skills(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        assert await storage.load_index() == []
        assert await storage.load_all() == []

    @sync
    async def test_load_all_returns_every_skill(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = [await storage.save(make_skill(f"stored_number_{i}")) for i in range(5)]
        loaded = await storage.load_all()
        assert sorted(loaded, key=lambda s: s.name) == sorted(saved, key=lambda s: s.name)

    @sync
    async def test_get_unknown_name_is_none(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        assert await storage.get("no_such_skill") is None

    @sync
    async def test_delete_removes_and_answers_true(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill("keep_me"))
        await storage.save(make_skill())
        assert await storage.delete("fetch_github_stats") is True
        assert await storage.get("fetch_github_stats") is None
        assert [entry.name for entry in await storage.load_index()] == ["keep_me"]
        assert [skill.name for skill in await storage.load_all()] == ["keep_me"]

    @sync
    async def test_delete_unknown_answers_false(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        assert await storage.delete("no_such_skill") is False
        await storage.save(make_skill())
        assert await storage.delete("fetch_github_stats") is True
        assert await storage.delete("fetch_github_stats") is False

    @sync
    async def test_deleted_name_can_be_saved_again(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill(description="old"))
        await storage.delete("fetch_github_stats")
        await storage.save(make_skill(description="new"))
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.description == "new"

    @sync
    async def test_returned_skills_are_copies(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = await storage.save(make_skill(usage_hints=["a hint"]))
        got = await storage.get(saved.name)
        assert got is not None
        [loaded] = await storage.load_all()
        for returned in (saved, got, loaded):
            returned.description = "changed"
            returned.usage_hints.append("added")
            returned.input_schema["properties"]["repo"]["type"] = "number"
        again = await storage.get(saved.name)
        assert again is not None
        assert again.description == make_skill().description
        assert again.usage_hints == ["a hint"]
        assert again.input_schema == INPUT_SCHEMA

    @sync
    async def test_saved_skill_is_copied_in(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        skill = make_skill(usage_hints=["a hint"], input_schema={"type": "object"})
        await storage.save(skill)
        skill.usage_hints.append("added")
        skill.input_schema["type"] = "string"
        got = await storage.get(skill.name)
        assert got is not None
        assert got.usage_hints == ["a hint"]
        assert got.input_schema == {"type": "object"}

    @sync
    async def test_index_entries_are_copies(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill(usage_hints=["a hint"]))
        [entry] = await storage.load_index()
        entry.usage_hints.append("added")
        entry.description = "changed"
        [again] = await storage.load_index()
        assert again.usage_hints == ["a hint"]
        assert again.description == make_skill().description


class StorageNameConformance:
    """Only snake_case names that cannot leave a folder or shadow a function are stored."""

    @pytest.mark.parametrize("name", INVALID_NAMES)
    @sync
    async def test_save_of_an_invalid_name_raises_and_stores_nothing(
        self, make_storage: MakeStorage, name: str
    ) -> None:
        storage = make_storage()
        with pytest.raises(SkillNameError):
            await storage.save(unchecked_skill(name))
        assert await storage.load_index() == []
        assert await storage.load_all() == []

    @pytest.mark.parametrize("name", INVALID_NAMES)
    @sync
    async def test_get_of_an_invalid_name_is_none(
        self, make_storage: MakeStorage, name: str
    ) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        assert await storage.get(name) is None

    @pytest.mark.parametrize("name", INVALID_NAMES)
    @sync
    async def test_delete_of_an_invalid_name_is_false(
        self, make_storage: MakeStorage, name: str
    ) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        assert await storage.delete(name) is False
        assert [entry.name for entry in await storage.load_index()] == ["fetch_github_stats"]

    @pytest.mark.parametrize("name", INVALID_NAMES)
    @sync
    async def test_update_stats_of_an_invalid_name_raises(
        self, make_storage: MakeStorage, name: str
    ) -> None:
        # Only get and delete answer for an invalid name instead of raising.
        with pytest.raises(SkillNameError):
            await make_storage().update_stats(name, True)

    @sync
    async def test_longest_valid_name_is_stored(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        name = "a" * MAX_NAME_CHARS
        await storage.save(make_skill(name))
        got = await storage.get(name)
        assert got is not None
        assert got.name == name


class StorageTrustConformance:
    """Trust is earned by runs of this code: a new program starts again from the bottom."""

    @sync
    async def test_new_skill_starts_at_the_strategys_initial_level(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage(trust_strategy=create_always_trusted_strategy())
        saved = await storage.save(make_skill())
        assert saved.trust_level is TrustLevel.TRUSTED
        [entry] = await storage.load_index()
        assert entry.trust_level is TrustLevel.TRUSTED

    @sync
    async def test_default_strategy_starts_untrusted(self, make_storage: MakeStorage) -> None:
        saved = await make_storage().save(make_skill())
        assert saved.trust_level is TrustLevel.UNTRUSTED

    @sync
    async def test_a_given_trust_level_is_kept_for_a_new_skill(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage(trust_strategy=create_always_trusted_strategy())
        saved = await storage.save(make_skill(trust_level=TrustLevel.PROVISIONAL))
        assert saved.trust_level is TrustLevel.PROVISIONAL

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param({"code": "return 42"}, id="code"),
            pytest.param({"input_schema": {"type": "object"}}, id="input schema"),
            pytest.param({"output_schema": {"type": "number"}}, id="output schema"),
        ],
    )
    @sync
    async def test_changed_content_resets_trust_and_stats(
        self, make_storage: MakeStorage, change: dict[str, Any]
    ) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 3, 0)
        promoted = await storage.get("fetch_github_stats")
        assert promoted is not None
        assert promoted.trust_level is TrustLevel.PROVISIONAL
        saved = await storage.save(promoted.model_copy(update=change))
        assert saved.trust_level is TrustLevel.UNTRUSTED
        assert saved.stats == SkillStats()
        assert saved.content_hash != promoted.content_hash
        assert await storage.get("fetch_github_stats") == saved

    @sync
    async def test_description_change_keeps_trust_and_stats(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 3, 0)
        promoted = await storage.get("fetch_github_stats")
        assert promoted is not None
        changed = promoted.model_copy(
            update={"description": "Counts stars", "usage_hints": ["new hint"]}
        )
        saved = await storage.save(changed)
        assert saved.trust_level is TrustLevel.PROVISIONAL
        assert saved.stats == promoted.stats
        assert saved.stats.executions == 3
        assert saved.content_hash == promoted.content_hash

    @sync
    async def test_a_skill_built_afresh_with_the_same_content_keeps_trust_and_stats(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 3, 0)
        saved = await storage.save(make_skill(description="Counts stars and forks"))
        assert saved.trust_level is TrustLevel.PROVISIONAL
        assert saved.stats.executions == 3
        assert saved.description == "Counts stars and forks"

    @sync
    async def test_a_trust_level_set_by_the_host_wins(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        saved = await storage.save(make_skill(trust_level=TrustLevel.TRUSTED))
        assert saved.trust_level is TrustLevel.TRUSTED
        assert (await storage.get("fetch_github_stats")) == saved

    @sync
    async def test_schema_key_order_is_no_change(self, make_storage: MakeStorage) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 3, 0)
        promoted = await storage.get("fetch_github_stats")
        assert promoted is not None
        reordered = dict(reversed(list(INPUT_SCHEMA.items())))
        saved = await storage.save(promoted.model_copy(update={"input_schema": reordered}))
        assert saved.trust_level is TrustLevel.PROVISIONAL
        assert saved.stats.executions == 3

    @sync
    async def test_update_stats_counts_runs(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 3, 1)
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.stats.executions == 4
        assert got.stats.success_rate == pytest.approx(0.75)

    @sync
    async def test_update_stats_returns_the_updated_skill(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = await storage.save(make_skill())
        updated = await storage.update_stats("fetch_github_stats", False)
        assert updated is not None
        assert updated.stats == SkillStats(executions=1, success_rate=0.0)
        assert updated.id == saved.id
        assert updated.code == saved.code
        assert await storage.get("fetch_github_stats") == updated

    @sync
    async def test_update_stats_moves_updated_at(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        saved = await storage.save(make_skill())
        await asyncio.sleep(0.01)
        updated = await storage.update_stats("fetch_github_stats", True)
        assert updated is not None
        assert saved.updated_at is not None
        assert updated.updated_at is not None
        assert updated.updated_at > saved.updated_at
        assert updated.created_at == saved.created_at

    @sync
    async def test_update_stats_promotes_per_the_strategy(self, make_storage: MakeStorage) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        levels = []
        for _ in range(3):
            updated = await storage.update_stats("fetch_github_stats", True)
            assert updated is not None
            levels.append(updated.trust_level)
        assert levels == [TrustLevel.UNTRUSTED, TrustLevel.UNTRUSTED, TrustLevel.PROVISIONAL]
        [entry] = await storage.load_index()
        assert entry.trust_level is TrustLevel.PROVISIONAL

    @sync
    async def test_update_stats_does_not_promote_on_failures(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await storage.save(make_skill())
        await run_many(storage, "fetch_github_stats", 2, 1)
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.trust_level is TrustLevel.UNTRUSTED

    @sync
    async def test_update_stats_of_an_unknown_name_is_none(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        assert await storage.update_stats("no_such_skill", True) is None
        assert await storage.load_index() == []


class StorageConcurrencyConformance:
    """Concurrent callers, in one event loop or in several threads, lose nothing."""

    @sync
    async def test_concurrent_update_stats_lose_no_count(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        outcomes = [i % 4 != 0 for i in range(200)]  # 150 successes, 50 failures
        results = await asyncio.gather(
            *(storage.update_stats("fetch_github_stats", ok) for ok in outcomes)
        )
        # Each update saw the one before it: the counts it returned are 1..200, each once.
        assert sorted(r.stats.executions for r in results if r is not None) == list(range(1, 201))
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.stats.executions == 200
        assert got.stats.success_rate == pytest.approx(0.75)

    @sync
    async def test_concurrent_saves_of_different_skills_all_land(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage()
        names = [f"concurrent_skill_{i}" for i in range(30)]
        await asyncio.gather(*(storage.save(make_skill(name)) for name in names))
        assert sorted(entry.name for entry in await storage.load_index()) == sorted(names)
        assert sorted(skill.name for skill in await storage.load_all()) == sorted(names)

    @sync
    async def test_updates_from_another_threads_event_loop_lose_nothing(
        self, make_storage: MakeStorage
    ) -> None:
        storage = make_storage()
        await storage.save(make_skill())
        errors: list[BaseException] = []
        start = threading.Barrier(2, timeout=10)

        async def updates(success: bool, prefix: str) -> None:
            await asyncio.gather(
                *(storage.update_stats("fetch_github_stats", success) for _ in range(150)),
                *(storage.save(make_skill(f"{prefix}_{i}")) for i in range(10)),
            )

        def in_thread() -> None:
            try:
                start.wait()
                asyncio.run(updates(True, "from_thread"))
            except BaseException as exc:  # reported below, in the test's own thread
                errors.append(exc)

        # Threads switch every 10 microseconds instead of 5 ms, so that a storage whose updates
        # are an unguarded read-modify-write in Python is interleaved, and caught, here too.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            thread = threading.Thread(target=in_thread)
            thread.start()
            await asyncio.to_thread(start.wait)
            await updates(False, "from_main")
            await asyncio.to_thread(thread.join)
        finally:
            sys.setswitchinterval(switch_interval)
        assert errors == []
        got = await storage.get("fetch_github_stats")
        assert got is not None
        assert got.stats.executions == 300
        assert got.stats.success_rate == pytest.approx(0.5)
        assert len(await storage.load_index()) == 21


class StorageSearchConformance:
    """``search``: a skill named exactly as the query first, then relevance; copies out."""

    @staticmethod
    async def library(storage: SkillStorage) -> None:
        await storage.save(make_skill())
        await storage.save(
            make_skill("get_weather", description="Current weather and forecast for a city")
        )
        await storage.save(
            make_skill("send_email", description="Send an email", usage_hints=["to one address"])
        )

    @sync
    async def test_search_finds_the_relevant_skill(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await self.library(storage)
        assert [e.name for e in await storage.search("weather forecast for Paris")] == [
            "get_weather"
        ]
        assert [e.name for e in await storage.search("address")] == ["send_email"]

    @sync
    async def test_search_puts_the_exact_name_first(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await storage.save(make_skill("daily_report", description="report: the daily report"))
        await storage.save(make_skill("report", description="sends an email"))
        found = await storage.search("report")
        assert [entry.name for entry in found] == ["report", "daily_report"]

    @sync
    async def test_search_respects_the_limit(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        for i in range(8):
            await storage.save(make_skill(f"weather_{i}", description="weather of a city"))
        assert len(await storage.search("weather", limit=3)) == 3
        assert len(await storage.search("weather")) == 5
        assert await storage.search("weather", limit=0) == []

    @sync
    async def test_search_without_a_match_is_empty(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        assert await storage.search("weather") == []
        await self.library(storage)
        assert await storage.search("kubernetes cluster") == []
        assert await storage.search("") == []

    @sync
    async def test_search_sees_every_change(self, make_storage: MakeStorage) -> None:
        storage = make_storage(trust_strategy=create_relaxed_trust_strategy())
        await self.library(storage)
        assert await storage.search("invoice") == []
        await storage.save(make_skill("pay_invoice", description="Pay an invoice"))
        [found] = await storage.search("invoice")
        assert (found.name, found.trust_level) == ("pay_invoice", TrustLevel.UNTRUSTED)
        await run_many(storage, "pay_invoice", 3, 0)
        [found] = await storage.search("invoice")
        assert found.trust_level is TrustLevel.PROVISIONAL
        await storage.delete("pay_invoice")
        assert await storage.search("invoice") == []

    @sync
    async def test_search_returns_copies(self, make_storage: MakeStorage) -> None:
        storage = make_storage()
        await self.library(storage)
        [found] = await storage.search("send_email")
        found.usage_hints.append("added")
        found.description = "changed"
        [again] = await storage.search("send_email")
        assert again.usage_hints == ["to one address"]
        assert again.description == "Send an email"


class SkillStorageConformance(
    StorageBasicsConformance,
    StorageNameConformance,
    StorageTrustConformance,
    StorageConcurrencyConformance,
    StorageSearchConformance,
):
    """Subclass in a ``Test*`` class and provide a ``make_storage`` fixture."""

    @pytest.fixture
    def make_storage(self) -> Callable[..., SkillStorage]:
        raise NotImplementedError(
            "provide a `make_storage` fixture: make_storage(trust_strategy=None) must return"
            " a new, empty SkillStorage on every call"
        )
