"""The file storage beyond the shared contract: persistence, atomic writes, corruption, reindex,
unwritable directories, the index cache, and how it is found by name or URL."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

import codemode_storage_fs
from codemode.errors import ConfigError, CorruptSkillError, SkillNameError, SkillStorageError
from codemode.plugins import create_plugin_manager, load_storage, use_plugin_manager
from codemode.skills import Skill
from codemode.trust import TrustLevel, create_relaxed_trust_strategy
from codemode_storage_fs import (
    FileSkillStorage,
    ReindexReport,
    SkillStorageWarning,
    create_file_skill_storage,
)
from codemode_storage_fs._files import Files


def make_skill(name: str = "fetch_github_stats", **fields: Any) -> Skill:
    values: dict[str, Any] = {
        "description": f"The {name.replace('_', ' ')} skill",
        "code": "return input;",
        "input_schema": {"type": "object"},
        "output_schema": {"type": "object"},
        **fields,
    }
    return Skill(name=name, **values)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "skills"


@pytest.fixture
def storage(folder: Path) -> FileSkillStorage:
    return create_file_skill_storage(str(folder))


@pytest.fixture
def memory_url() -> Iterator[str]:
    root = f"/test-{uuid.uuid4().hex}"
    yield f"memory://{root}"
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def leftovers(folder: Path) -> list[str]:
    """Temporary files of interrupted writes anywhere under ``folder``."""
    return sorted(str(path) for path in folder.rglob("*.tmp"))


def listing(folder: Path) -> list[str] | None:
    """The names in ``folder``, sorted; None if there is no such folder."""
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else None


def make_folders(*folders: Path) -> None:
    for folder in folders:
        folder.mkdir(parents=True)


def test_public_names() -> None:
    assert codemode_storage_fs.__all__ == [
        "FileSkillStorage",
        "ReindexReport",
        "SkillStorageWarning",
        "create_file_skill_storage",
    ]
    assert sorted(codemode_storage_fs.__all__) == codemode_storage_fs.__all__
    assert issubclass(SkillStorageWarning, UserWarning)


def test_loading_the_plugin_imports_no_fsspec() -> None:
    code = (
        "import sys, codemode_storage_fs._plugin as p; p.codemode_skill_storages();"
        " print(sorted(m for m in ('fsspec', 'filelock', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# Persistence and the index cache


async def test_skills_persist_across_storage_instances(folder: Path) -> None:
    first = create_file_skill_storage(str(folder))
    await first.save(make_skill())
    await first.update_stats("fetch_github_stats", True)
    second = create_file_skill_storage(str(folder))
    got = await second.get("fetch_github_stats")
    assert got is not None
    assert got.stats.executions == 1
    assert [entry.name for entry in await second.load_index()] == ["fetch_github_stats"]


async def test_a_cached_index_sees_another_storages_writes(folder: Path) -> None:
    reader = create_file_skill_storage(str(folder))
    writer = create_file_skill_storage(str(folder))
    assert await reader.search("weather") == []
    await writer.save(make_skill("get_weather", description="Weather of a city"))
    assert [entry.name for entry in await reader.search("weather")] == ["get_weather"]
    await writer.delete("get_weather")
    assert await reader.search("weather") == []
    assert await reader.load_index() == []


async def test_a_cached_index_sees_a_hand_edit(folder: Path, storage: FileSkillStorage) -> None:
    await storage.save(make_skill("get_weather", description="Weather of a city"))
    assert len(await storage.search("city")) == 1
    index = folder / "_index.json"
    entries = json.loads(index.read_text())
    entries[0]["description"] = "Forecast"
    index.write_text(json.dumps(entries))
    assert await storage.search("city") == []
    assert [entry.name for entry in await storage.search("forecast")] == ["get_weather"]


async def test_memory_urls_share_files_but_not_between_paths(memory_url: str) -> None:
    one = create_file_skill_storage(f"{memory_url}/a")
    same = create_file_skill_storage(f"{memory_url}/a")
    other = create_file_skill_storage(f"{memory_url}/b")
    await one.save(make_skill())
    assert await same.get("fetch_github_stats") is not None
    assert await other.get("fetch_github_stats") is None
    assert one.location == f"{memory_url}/a"


async def test_search_over_a_thousand_skills_is_fast(folder: Path) -> None:
    words = [
        *("fetch", "github", "stats", "weather", "forecast", "city", "send", "email"),
        *("invoice", "pay", "report", "daily", "csv", "parse", "json", "repo", "star"),
        *("fork", "count", "user", "list", "create", "delete", "update", "issue", "deploy"),
    ]
    n = len(words)
    index = []
    make_folders(folder)
    for i in range(1000):
        skill = make_skill(
            f"{words[i % n]}_{words[(i * 7) % n]}_{i}",
            description=" ".join(words[(i + k * 3) % n] for k in range(12)),
            usage_hints=[" ".join(words[(i * k) % n] for k in range(6))],
        )
        make_folders(folder / skill.name)
        (folder / skill.name / "meta.json").write_text(json.dumps(skill.to_meta()))
        (folder / skill.name / "code.ts").write_text(skill.code)
        index.append(skill.index_entry().to_json())
    (folder / "_index.json").write_text(json.dumps(index, indent=2))
    storage = create_file_skill_storage(str(folder))
    assert len(await storage.search("weather forecast")) == 5  # parses and builds the index
    timings = []
    for query in ["weather forecast for a city", "send an email", "github stars", "deploy"] * 25:
        start = time.perf_counter()
        found = await storage.search(query)
        timings.append(time.perf_counter() - start)
        assert found
    median = statistics.median(timings)
    print(
        f"\nsearch over 1,000 skills: median {median * 1000:.2f} ms, max {max(timings) * 1000:.2f} ms"
    )
    assert median < 0.005


async def test_file_io_runs_off_the_event_loop(
    storage: FileSkillStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.save(make_skill())
    slow_read = Files.read

    def read(self: Files, path: str) -> bytes:
        time.sleep(0.05)
        return slow_read(self, path)

    monkeypatch.setattr(Files, "read", read)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    assert await storage.get("fetch_github_stats") is not None  # two reads: 100 ms
    ticker.cancel()
    assert ticks >= 5


# Names


async def test_save_of_an_invalid_name_touches_nothing(folder: Path) -> None:
    storage = create_file_skill_storage(str(folder))
    bad = Skill.model_construct(**{**dict(make_skill()), "name": "../escape"})
    with pytest.raises(SkillNameError):
        await storage.save(bad)
    assert listing(folder) is None
    assert listing(folder.parent / "escape") is None


# Atomic writes


async def test_writes_leave_no_temporary_files(folder: Path, storage: FileSkillStorage) -> None:
    for i in range(5):
        await storage.save(make_skill(f"stored_number_{i}"))
    await asyncio.gather(*(storage.update_stats("stored_number_0", True) for _ in range(20)))
    await storage.delete("stored_number_3")
    await storage.reindex()
    assert leftovers(folder) == []
    assert listing(folder) == [
        ".lock",
        "_index.json",
        "stored_number_0",
        "stored_number_1",
        "stored_number_2",
        "stored_number_4",
    ]


async def test_a_reader_never_sees_a_partial_meta_json(
    folder: Path, storage: FileSkillStorage
) -> None:
    await storage.save(make_skill(description="x" * 200_000))  # big enough to tear if unsafe
    meta = folder / "fetch_github_stats" / "meta.json"
    index = folder / "_index.json"
    stop = threading.Event()
    reads: list[int] = []
    torn: list[str] = []

    def read_in_a_loop() -> None:
        while not stop.is_set():
            for path in (meta, index):
                text = path.read_text(encoding="utf-8")
                try:
                    json.loads(text)
                except ValueError:
                    torn.append(f"{path.name}: {len(text)} characters")
            reads.append(1)

    readers = [threading.Thread(target=read_in_a_loop) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for i in range(40):
            await asyncio.gather(
                storage.update_stats("fetch_github_stats", i % 2 == 0),
                storage.save(make_skill(f"other_{i}", description="y" * 50_000)),
            )
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert torn == []
    assert len(reads) > 10
    got = await storage.get("fetch_github_stats")
    assert got is not None
    assert got.stats.executions == 40


async def test_a_failed_save_leaves_the_old_skill(
    folder: Path, storage: FileSkillStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await storage.save(make_skill(code="return 1;"))
    before = {p.name: p.read_bytes() for p in (folder / old.name).iterdir()}
    index_before = (folder / "_index.json").read_bytes()
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        if str(target).endswith("_index.json"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(SkillStorageError, match="No space left on device") as caught:
        await storage.save(make_skill(code="return 2;", description="new"))
    assert str(folder) in str(caught.value)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in (folder / old.name).iterdir()} == before
    assert (folder / "_index.json").read_bytes() == index_before
    assert leftovers(folder) == []
    assert await storage.get(old.name) == old


async def test_a_failed_first_save_leaves_no_folder(
    folder: Path, storage: FileSkillStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.save(make_skill("keep_me"))
    real_write = Files.write

    def write(self: Files, path: str, data: bytes) -> None:
        if path.endswith("meta.json"):
            raise OSError(5, "Input/output error")
        real_write(self, path, data)

    monkeypatch.setattr(Files, "write", write)
    with pytest.raises(SkillStorageError, match="Input/output error"):
        await storage.save(make_skill("brand_new"))
    monkeypatch.undo()
    assert not (folder / "brand_new").exists()
    assert [entry.name for entry in await storage.load_index()] == ["keep_me"]


# Unwritable directories


async def test_a_directory_under_a_file_cannot_be_used(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    directory = tmp_path / "afile" / "skills"
    storage = create_file_skill_storage(str(directory))
    with pytest.raises(SkillStorageError) as caught:
        await storage.save(make_skill())
    message = str(caught.value)
    assert str(directory) in message
    assert "Not a directory" in message or "File exists" in message
    with pytest.raises(SkillStorageError, match="afile"):
        await storage.load_index()
    assert (tmp_path / "afile").read_text() == "not a folder"
    assert listing(tmp_path) == ["afile"]


async def test_a_read_only_filesystem_reads_but_refuses_writes(tmp_path: Path) -> None:
    source = tmp_path / "source" / "skills"
    writer = create_file_skill_storage(str(source))
    await writer.save(make_skill("get_weather", description="Weather of a city"))
    archive = tmp_path / "skills.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(source, arcname="skills")
    storage = create_file_skill_storage(f"tar://skills::{archive}")
    assert [entry.name for entry in await storage.search("weather")] == ["get_weather"]
    got = await storage.get("get_weather")
    assert got is not None
    assert got.description == "Weather of a city"
    with pytest.raises(SkillStorageError) as caught:
        await storage.save(make_skill())
    assert "tar://skills" in str(caught.value)
    with pytest.raises(SkillStorageError, match="tar://skills"):
        await storage.update_stats("get_weather", True)


# Corruption


CORRUPTIONS = [
    pytest.param("meta.json", b"{ not json", "not valid JSON", id="meta not JSON"),
    pytest.param("meta.json", b"\xff\xfe{}", "not valid JSON", id="meta not UTF-8"),
    pytest.param("meta.json", b'["a", "list"]', "not a JSON object but an array", id="meta array"),
    pytest.param(
        "meta.json",
        json.dumps({"name": "broken_skill", "description": "no schemas"}).encode(),
        "not a valid skill: inputSchema: Field required",
        id="meta fails the model",
    ),
    pytest.param(
        "meta.json",
        json.dumps({**make_skill("other_name").to_meta()}).encode(),
        "'other_name', but its folder is 'broken_skill'",
        id="meta names another skill",
    ),
    pytest.param("code.ts", None, "is missing", id="code missing"),
    pytest.param("code.ts", b"\xff\xfe\x00", "not UTF-8", id="code not UTF-8"),
]


@pytest.mark.parametrize(("file", "content", "reason"), CORRUPTIONS)
async def test_a_corrupt_skill_is_named_and_skipped(
    folder: Path, storage: FileSkillStorage, file: str, content: bytes | None, reason: str
) -> None:
    await storage.save(make_skill("good_one"))
    await storage.save(make_skill("broken_skill"))
    await storage.save(make_skill("good_two"))
    path = folder / "broken_skill" / file
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)

    with pytest.raises(CorruptSkillError) as caught:
        await storage.get("broken_skill")
    assert caught.value.path == str(path)
    assert reason in caught.value.reason
    assert str(path) in str(caught.value)

    with pytest.warns(SkillStorageWarning, match="broken_skill") as warned:
        skills = await storage.load_all()
    assert [skill.name for skill in skills] == ["good_one", "good_two"]
    assert str(path) in str(warned[0].message)
    assert await storage.get("good_one") is not None
    with pytest.raises(CorruptSkillError):
        await storage.update_stats("broken_skill", True)

    # A save over it replaces it whole.
    saved = await storage.save(make_skill("broken_skill"))
    assert await storage.get("broken_skill") == saved


async def test_a_hand_edited_program_starts_again_and_then_counts(
    folder: Path,
) -> None:
    storage = create_file_skill_storage(str(folder), trust_strategy=create_relaxed_trust_strategy())
    await storage.save(make_skill())
    for _ in range(3):
        await storage.update_stats("fetch_github_stats", True)
    (folder / "fetch_github_stats" / "code.ts").write_text("return 42;")
    edited = await storage.get("fetch_github_stats")
    assert edited is not None
    assert (edited.trust_level, edited.stats.executions) == (TrustLevel.UNTRUSTED, 0)
    for _ in range(3):
        await storage.update_stats("fetch_github_stats", True)
    again = await storage.get("fetch_github_stats")
    assert again is not None
    assert (again.trust_level, again.stats.executions) == (TrustLevel.PROVISIONAL, 3)
    assert again.content_hash == again.computed_hash()


BAD_INDEXES = [
    pytest.param(b"[{", id="not JSON"),
    pytest.param(b'{"skills": []}', id="not an array"),
    pytest.param(b'[{"id": "1", "name": "Bad Name", "description": "x"}]', id="invalid entry"),
    pytest.param(b"[1, 2]", id="entries not objects"),
]


@pytest.mark.parametrize("content", BAD_INDEXES)
async def test_a_corrupt_index_falls_back_to_the_folders(folder: Path, content: bytes) -> None:
    writer = create_file_skill_storage(str(folder))
    await writer.save(make_skill("get_weather", description="Weather of a city"))
    await writer.save(make_skill("send_email", description="Send an email"))
    index = folder / "_index.json"
    index.write_bytes(content)

    storage = create_file_skill_storage(str(folder))
    with pytest.warns(SkillStorageWarning, match="codemode skills reindex") as warned:
        entries = await storage.load_index()
    assert str(index) in str(warned[0].message)
    assert sorted(entry.name for entry in entries) == ["get_weather", "send_email"]
    with pytest.warns(SkillStorageWarning, match="unreadable"):
        assert [e.name for e in await storage.search("weather")] == ["get_weather"]
    with pytest.warns(SkillStorageWarning, match="unreadable"):
        assert len(await storage.load_all()) == 2

    # The next save writes a good index again, and the warnings stop.
    await storage.save(make_skill("pay_invoice", description="Pay an invoice"))
    names = [entry["name"] for entry in json.loads(index.read_text())]
    assert sorted(names) == ["get_weather", "pay_invoice", "send_email"]
    assert len(await storage.load_index()) == 3


async def test_a_missing_index_is_rebuilt_from_the_folders(
    folder: Path, storage: FileSkillStorage
) -> None:
    await storage.save(make_skill("get_weather"))
    (folder / "_index.json").unlink()
    with pytest.warns(SkillStorageWarning, match="is missing"):
        assert [entry.name for entry in await storage.load_index()] == ["get_weather"]
    await storage.update_stats("get_weather", True)
    assert (folder / "_index.json").exists()
    assert [entry.name for entry in await storage.load_index()] == ["get_weather"]


async def test_an_index_entry_without_a_folder_is_skipped(
    folder: Path, storage: FileSkillStorage
) -> None:
    await storage.save(make_skill("kept_skill"))
    await storage.save(make_skill("gone_skill"))
    (folder / "gone_skill" / "meta.json").unlink()
    (folder / "gone_skill" / "code.ts").unlink()
    (folder / "gone_skill").rmdir()
    assert await storage.get("gone_skill") is None
    with pytest.warns(SkillStorageWarning, match="'gone_skill'.*reindex"):
        assert [skill.name for skill in await storage.load_all()] == ["kept_skill"]
    assert await storage.delete("gone_skill") is False
    assert [entry.name for entry in await storage.load_index()] == ["kept_skill"]


async def test_a_folder_with_code_but_no_meta_is_no_skill(
    folder: Path, storage: FileSkillStorage
) -> None:
    # What a crash between a new skill's code.ts and its meta.json leaves.
    make_folders(folder / "half_saved")
    (folder / "half_saved" / "code.ts").write_text("return 1;")
    assert await storage.get("half_saved") is None
    assert await storage.delete("half_saved") is False
    assert not (folder / "half_saved").exists()


# Reindex


async def test_reindex_rebuilds_the_index_and_reports(
    folder: Path, storage: FileSkillStorage
) -> None:
    for name in ("zeta_skill", "alpha_skill", "broken_skill", "middle_skill"):
        await storage.save(make_skill(name))
    (folder / "broken_skill" / "meta.json").write_text("{")
    (folder / "Not-A-Name").mkdir()
    (folder / "no_meta").mkdir()
    (folder / ".git").mkdir()
    (folder / "_index.json").write_text(
        json.dumps([{"name": "middle_skill"}, {"name": "zeta_skill"}, {"broken": True}])
    )

    report = await storage.reindex()
    assert isinstance(report, ReindexReport)
    assert report.index_file == str(folder / "_index.json")
    # The old index's order where it still reads, then the rest oldest first.
    assert report.indexed == ("middle_skill", "zeta_skill", "alpha_skill")
    assert sorted(report.skipped) == [
        str(folder / "Not-A-Name"),
        str(folder / "broken_skill"),
        str(folder / "no_meta"),
    ]
    assert "not a skill name" in report.skipped[str(folder / "Not-A-Name")]
    assert "not valid JSON" in report.skipped[str(folder / "broken_skill")]
    assert "no meta.json" in report.skipped[str(folder / "no_meta")]
    assert [entry.name for entry in await storage.load_index()] == list(report.indexed)


async def test_reindex_of_an_empty_directory(folder: Path, storage: FileSkillStorage) -> None:
    report = await storage.reindex()
    assert (report.indexed, report.skipped) == ((), {})
    assert (folder / "_index.json").read_text() == "[]"


# Object stores: the lock object


async def test_the_lock_object_is_taken_and_released(
    memory_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codemode_storage_fs import _files

    # memory:// needs no lock object (it lives in this process); make it take one, as s3:// does.
    monkeypatch.setattr(
        _files.Files,
        "__init__",
        _with_object_lock(_files.Files.__init__),
    )
    storage = create_file_skill_storage(memory_url)
    await storage.save(make_skill())
    results = await asyncio.gather(
        *(storage.update_stats("fetch_github_stats", True) for _ in range(20))
    )
    assert sorted(r.stats.executions for r in results if r is not None) == list(range(1, 21))
    fs = fsspec.filesystem("memory")
    root = memory_url.removeprefix("memory://")
    assert not fs.exists(f"{root}/.lock")


async def test_a_stale_lock_object_is_broken(
    memory_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codemode_storage_fs import _files

    monkeypatch.setattr(_files.Files, "__init__", _with_object_lock(_files.Files.__init__))
    fs = fsspec.filesystem("memory")
    root = memory_url.removeprefix("memory://")
    stale = {"owner": "dead-host:1:x", "acquiredAt": time.time() - _files.STALE_LOCK_AFTER - 1}
    fs.pipe_file(f"{root}/.lock", json.dumps(stale).encode())
    storage = create_file_skill_storage(memory_url)
    await storage.save(make_skill())
    assert not fs.exists(f"{root}/.lock")


async def test_a_held_lock_object_times_out(
    memory_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codemode_storage_fs import _files

    monkeypatch.setattr(_files.Files, "__init__", _with_object_lock(_files.Files.__init__))
    monkeypatch.setattr(_files, "LOCK_TIMEOUT", 0.2)
    fs = fsspec.filesystem("memory")
    root = memory_url.removeprefix("memory://")
    fs.pipe_file(f"{root}/.lock", json.dumps({"owner": "x", "acquiredAt": time.time()}).encode())
    storage = create_file_skill_storage(memory_url)
    with pytest.raises(SkillStorageError, match=r"lock object memory://.*\.lock"):
        await storage.save(make_skill())


def _with_object_lock(init: Any) -> Any:
    from codemode_storage_fs import _files

    def patched(self: _files.Files, fs: Any, root: str) -> None:
        init(self, fs, root)
        self._object_lock = _files.ObjectLock(fs, self.path(_files.LOCK_NAME))

    return patched


# Found by name or URL


@pytest.fixture
def fresh_plugins() -> Iterator[None]:
    with use_plugin_manager(create_plugin_manager(autoload=True)):
        yield


@pytest.mark.usefixtures("fresh_plugins")
async def test_load_storage_by_name(folder: Path) -> None:
    storage = load_storage("fs", directory=str(folder))
    assert isinstance(storage, FileSkillStorage)
    assert storage.location == str(folder)
    alias = load_storage("file", directory=str(folder), trust_strategy=None)
    assert isinstance(alias, FileSkillStorage)
    await storage.save(make_skill())
    assert await alias.get("fetch_github_stats") is not None


@pytest.mark.usefixtures("fresh_plugins")
async def test_load_storage_by_file_url(folder: Path) -> None:
    strategy = create_relaxed_trust_strategy()
    storage = load_storage(f"file://{folder}", trust_strategy=strategy)
    assert isinstance(storage, FileSkillStorage)
    assert storage.trust_strategy is strategy
    await storage.save(make_skill())
    assert (folder / "fetch_github_stats" / "meta.json").exists()
    by_path = load_storage(str(folder))
    assert await by_path.get("fetch_github_stats") is not None


@pytest.mark.usefixtures("fresh_plugins")
async def test_load_storage_by_memory_url(memory_url: str) -> None:
    storage = load_storage(memory_url)
    assert isinstance(storage, FileSkillStorage)
    await storage.save(make_skill())
    assert fsspec.filesystem("memory").exists(
        memory_url.removeprefix("memory://") + "/fetch_github_stats/code.ts"
    )


# Opening


def test_an_unknown_protocol_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"nosuchprotocol://x.*Protocol not known"):
        create_file_skill_storage("nosuchprotocol://x")


def test_a_backend_not_installed_says_what_to_install() -> None:
    try:
        import s3fs  # noqa: F401 (only its absence is tested)
    except ImportError:
        pass
    else:
        pytest.skip("s3fs is installed")
    with pytest.raises(ConfigError, match="s3fs"):
        create_file_skill_storage("s3://bucket/skills")


# Forked children


def _update_in_child(directory: str) -> None:
    storage = create_file_skill_storage(directory)
    result = asyncio.run(storage.update_stats("fetch_github_stats", True))
    sys.exit(0 if result is not None and result.stats.executions == 1 else 3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_is_not_stuck_on_a_lock_held_at_the_fork(folder: Path) -> None:
    import multiprocessing

    from codemode_storage_fs._files import process_lock

    storage = create_file_skill_storage(str(folder))
    asyncio.run(storage.save(make_skill()))
    held = process_lock(f"file://{folder}")
    with held:  # as if another thread of this process were in the middle of a write
        child = multiprocessing.get_context("fork").Process(
            target=_update_in_child, args=(str(folder),)
        )
        child.start()
        child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join()
    assert child.exitcode == 0
