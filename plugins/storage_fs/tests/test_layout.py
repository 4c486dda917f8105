"""One skill directory serves TanStack AI's file storage and ours: same files, same bytes.

TanStack writes ``JSON.stringify(value, null, 2)`` (no trailing newline), reads with
``JSON.parse`` and spreads ``{...meta, code}``. The first tests hold hand-written TanStack
files; the last runs that very loader and saver in Node, where Node is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codemode.skills import Skill
from codemode.trust import SkillStats, TrustLevel, create_relaxed_trust_strategy
from codemode_storage_fs import create_file_skill_storage

# Exactly what TanStack's createFileSnippetStorage writes for its test fixture skill, promoted
# once by its updateStats (successRate is the integer 1, as JavaScript writes 1.0).
TANSTACK_INDEX = """[
  {
    "id": "id-1",
    "name": "fetch_data",
    "description": "Fetches data",
    "usageHints": [
      "Use for fetching"
    ],
    "trustLevel": "provisional"
  }
]"""
TANSTACK_META = """{
  "id": "id-1",
  "name": "fetch_data",
  "description": "Fetches data",
  "inputSchema": {
    "type": "object",
    "properties": {}
  },
  "outputSchema": {
    "type": "object",
    "properties": {}
  },
  "usageHints": [
    "Use for fetching"
  ],
  "dependsOn": [],
  "trustLevel": "provisional",
  "stats": {
    "executions": 12,
    "successRate": 1
  },
  "createdAt": "2026-01-02T03:04:05.678Z",
  "updatedAt": "2026-01-02T03:04:06.001Z"
}"""
TANSTACK_CODE = "return input;"

INDEX_KEYS = ["id", "name", "description", "usageHints", "trustLevel"]
# TanStack's Snippet without code, in the order its register tool builds it; contentHash is ours.
META_KEYS = [
    "id",
    "name",
    "description",
    "inputSchema",
    "outputSchema",
    "usageHints",
    "dependsOn",
    "trustLevel",
    "stats",
    "createdAt",
    "updatedAt",
    "contentHash",
]
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def write_tanstack_folder(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "_index.json").write_text(TANSTACK_INDEX, encoding="utf-8")
    (directory / "fetch_data").mkdir()
    (directory / "fetch_data" / "meta.json").write_text(TANSTACK_META, encoding="utf-8")
    (directory / "fetch_data" / "code.ts").write_text(TANSTACK_CODE, encoding="utf-8")


def stringify(text: str) -> str:
    """``JSON.stringify(JSON.parse(text), null, 2)`` for files without floats below 1e-4."""
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def our_skill(**fields: Any) -> Skill:
    values: dict[str, Any] = {
        "name": "count_stars",
        "description": 'Counts stars — ünïcode ✓, quotes " and a / slash',
        "code": "const r = await external_fetch({ repo: input.repo });\nreturn r.stars;\n",
        "input_schema": {"type": "object", "properties": {"repo": {"type": "string"}}},
        "output_schema": {"type": "number", "minimum": 0.5},
        "usage_hints": ["Use for GitHub stars"],
        "depends_on": ["parse_repo"],
        **fields,
    }
    return Skill(**values)


async def test_reads_a_folder_written_by_tanstack(tmp_path: Path) -> None:
    write_tanstack_folder(tmp_path / "skills")
    storage = create_file_skill_storage(str(tmp_path / "skills"))
    [entry] = await storage.load_index()
    assert (entry.id, entry.name, entry.trust_level) == ("id-1", "fetch_data", "provisional")
    skill = await storage.get("fetch_data")
    assert skill is not None
    assert skill.code == TANSTACK_CODE
    assert skill.input_schema == {"type": "object", "properties": {}}
    assert skill.usage_hints == ["Use for fetching"]
    # No contentHash: nothing to check the code against, so the earned level stands.
    assert skill.content_hash is None
    assert skill.trust_level is TrustLevel.PROVISIONAL
    assert skill.stats == SkillStats(executions=12, success_rate=1.0)
    assert skill.created_at is not None
    assert skill.created_at.isoformat() == "2026-01-02T03:04:05.678000+00:00"
    assert await storage.load_all() == [skill]
    assert [found.name for found in await storage.search("fetching data")] == ["fetch_data"]


async def test_tanstack_skill_keeps_its_standing_when_we_run_it(tmp_path: Path) -> None:
    write_tanstack_folder(tmp_path / "skills")
    storage = create_file_skill_storage(str(tmp_path / "skills"))
    updated = await storage.update_stats("fetch_data", True)
    assert updated is not None
    assert updated.stats.executions == 13
    assert updated.trust_level is TrustLevel.PROVISIONAL
    meta_text = (tmp_path / "skills" / "fetch_data" / "meta.json").read_text(encoding="utf-8")
    assert meta_text == stringify(meta_text)
    meta = json.loads(meta_text)
    assert list(meta) == META_KEYS
    assert meta["stats"] == {"executions": 13, "successRate": 1}
    assert '"successRate": 1\n' in meta_text  # an integer, as JavaScript writes it
    assert (tmp_path / "skills" / "fetch_data" / "code.ts").read_text() == TANSTACK_CODE


async def test_a_save_next_to_tanstack_skills_keeps_them(tmp_path: Path) -> None:
    write_tanstack_folder(tmp_path / "skills")
    storage = create_file_skill_storage(str(tmp_path / "skills"))
    await storage.save(our_skill())
    index = json.loads((tmp_path / "skills" / "_index.json").read_text(encoding="utf-8"))
    assert index[0] == json.loads(TANSTACK_INDEX)[0]
    assert [entry["name"] for entry in index] == ["fetch_data", "count_stars"]
    assert (tmp_path / "skills" / "fetch_data" / "meta.json").read_text() == TANSTACK_META


async def test_writes_what_tanstack_reads(tmp_path: Path) -> None:
    storage = create_file_skill_storage(
        str(tmp_path / "skills"), trust_strategy=create_relaxed_trust_strategy()
    )
    skill = our_skill()
    await storage.save(skill)
    for success in (True, True, True, True, False):
        await storage.update_stats("count_stars", success)
    folder = tmp_path / "skills"

    index_text = (folder / "_index.json").read_text(encoding="utf-8")
    assert index_text == stringify(index_text)
    index = json.loads(index_text)
    assert [list(entry) for entry in index] == [INDEX_KEYS]
    assert index[0]["usageHints"] == ["Use for GitHub stars"]
    assert index[0]["trustLevel"] == "provisional"

    meta_text = (folder / "count_stars" / "meta.json").read_text(encoding="utf-8")
    assert meta_text == stringify(meta_text)
    meta = json.loads(meta_text)
    assert list(meta) == META_KEYS
    assert "code" not in meta
    assert meta["stats"] == {"executions": 5, "successRate": pytest.approx(0.8)}
    assert ISO_MILLIS.fullmatch(meta["createdAt"])
    assert ISO_MILLIS.fullmatch(meta["updatedAt"])
    assert meta["outputSchema"] == {"type": "number", "minimum": 0.5}
    assert (folder / "count_stars" / "code.ts").read_bytes() == skill.code.encode()
    # Nothing else in the folders but TanStack's files (and our lock, hidden).
    assert sorted(path.name for path in folder.iterdir()) == [".lock", "_index.json", "count_stars"]
    assert sorted(path.name for path in (folder / "count_stars").iterdir()) == [
        "code.ts",
        "meta.json",
    ]


async def test_whole_floats_are_written_as_javascript_integers(tmp_path: Path) -> None:
    storage = create_file_skill_storage(
        str(tmp_path / "skills"), trust_strategy=create_relaxed_trust_strategy()
    )
    schema = {"type": "number", "maximum": 10.0, "multipleOf": 0.5}
    saved = await storage.save(our_skill(output_schema=schema))
    meta_text = (tmp_path / "skills" / "count_stars" / "meta.json").read_text()
    assert '"maximum": 10,\n' in meta_text
    assert '"successRate": 0\n' in meta_text
    # The content hash is that of what reads back, so the skill keeps the trust it earns.
    assert saved.output_schema == schema
    for _ in range(3):
        await storage.update_stats("count_stars", True)
    got = await storage.get("count_stars")
    assert got is not None
    assert (got.trust_level, got.stats.executions) == (TrustLevel.PROVISIONAL, 3)
    assert got.content_hash == saved.content_hash == got.computed_hash()


# What TanStack's file storage does, line for line: loadIndex/get (JSON.parse, {...meta, code}),
# save (JSON.stringify(meta, null, 2), code as is, index last) and updateStats (get, then save
# of {...snippet, stats, trustLevel}).
NODE_SCRIPT = r"""
const fs = require('fs');
const path = require('path');
const dir = process.argv[1];
const read = (...parts) => fs.readFileSync(path.join(dir, ...parts), 'utf-8');
const write = (text, ...parts) => fs.writeFileSync(path.join(dir, ...parts), text);

const indexText = read('_index.json');
const index = JSON.parse(indexText);
const report = { indexSame: JSON.stringify(index, null, 2) === indexText, skills: {} };
for (const entry of index) {
  const metaText = read(entry.name, 'meta.json');
  const meta = JSON.parse(metaText);
  const snippet = { ...meta, code: read(entry.name, 'code.ts') };
  report.skills[entry.name] = { metaSame: JSON.stringify(meta, null, 2) === metaText, snippet };
}

function save(snippet) {
  const now = new Date().toISOString();
  const full = { ...snippet, createdAt: snippet.createdAt ?? now, updatedAt: now };
  const { code, ...meta } = full;
  fs.mkdirSync(path.join(dir, full.name), { recursive: true });
  write(JSON.stringify(meta, null, 2), full.name, 'meta.json');
  write(code, full.name, 'code.ts');
  const current = JSON.parse(read('_index.json'));
  const entry = {
    id: full.id, name: full.name, description: full.description,
    usageHints: full.usageHints, trustLevel: full.trustLevel,
  };
  const at = current.findIndex((s) => s.name === full.name);
  if (at >= 0) current[at] = entry; else current.push(entry);
  write(JSON.stringify(current, null, 2), '_index.json');
}

const ours = report.skills['count_stars'].snippet;
const { executions, successRate } = ours.stats;
save({ ...ours, stats: { executions: executions + 1, successRate: (successRate * executions + 1) / (executions + 1) } });
save({
  id: 'js-1', name: 'double_it', description: 'Doubles a number (written by TanStack)',
  code: 'return input.x * 2;', inputSchema: { type: 'object' }, outputSchema: { type: 'number' },
  usageHints: ['double a number'], dependsOn: [], trustLevel: 'untrusted',
  stats: { executions: 0, successRate: 0 },
});
console.log(JSON.stringify(report));
"""


def run_tanstack_in_node(folder: Path) -> Any:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
async def test_tanstack_loader_and_saver_in_node(tmp_path: Path) -> None:
    folder = tmp_path / "skills"
    storage = create_file_skill_storage(str(folder))
    skill = await storage.save(our_skill())
    for success in (True, True, False):
        await storage.update_stats("count_stars", success)

    report = run_tanstack_in_node(folder)
    # Our files are byte for byte what JSON.stringify(JSON.parse(file), null, 2) gives back.
    assert report["indexSame"] is True
    assert report["skills"]["count_stars"]["metaSame"] is True
    snippet = report["skills"]["count_stars"]["snippet"]
    assert snippet["code"] == skill.code
    assert snippet["description"] == skill.description
    assert snippet["stats"]["executions"] == 3

    # And what TanStack wrote, we read: its new skill, and its run of ours.
    assert [entry.name for entry in await storage.load_index()] == ["count_stars", "double_it"]
    doubled = await storage.get("double_it")
    assert doubled is not None
    assert (doubled.code, doubled.output_schema) == ("return input.x * 2;", {"type": "number"})
    counted = await storage.get("count_stars")
    assert counted is not None
    assert counted.stats.executions == 4
    assert counted.stats.success_rate == pytest.approx(3 / 4)
    assert counted.content_hash == skill.content_hash  # TanStack's spread kept it
    assert [found.name for found in await storage.search("double a number")] == ["double_it"]


TANSTACK_ONLY_ENTRY = {
    "id": "id-2",
    "name": "fetchData",
    "description": "A TanStack name that is not snake_case",
    "usageHints": [],
    "trustLevel": "untrusted",
}


def add_tanstack_only_skill(directory: Path) -> None:
    """A skill named as TanStack allows and we do not (camelCase), listed first."""
    index = json.loads((directory / "_index.json").read_text())
    (directory / "_index.json").write_text(
        json.dumps([TANSTACK_ONLY_ENTRY, *index], indent=2), encoding="utf-8"
    )
    (directory / "fetchData").mkdir()
    meta = {**json.loads(TANSTACK_META), **TANSTACK_ONLY_ENTRY}
    (directory / "fetchData" / "meta.json").write_text(json.dumps(meta, indent=2))
    (directory / "fetchData" / "code.ts").write_text("return 1;")


async def test_tanstack_skills_we_cannot_name_are_left_for_tanstack(tmp_path: Path) -> None:
    folder = tmp_path / "skills"
    write_tanstack_folder(folder)
    add_tanstack_only_skill(folder)
    storage = create_file_skill_storage(str(folder))
    assert [entry.name for entry in await storage.load_index()] == ["fetch_data"]
    assert [skill.name for skill in await storage.load_all()] == ["fetch_data"]
    assert await storage.get("fetchData") is None
    assert [entry.name for entry in await storage.search("fetchData")] == ["fetch_data"]

    await storage.save(our_skill())
    await storage.update_stats("fetch_data", True)
    index = json.loads((folder / "_index.json").read_text())
    assert index[0] == TANSTACK_ONLY_ENTRY
    assert [entry["name"] for entry in index] == ["fetchData", "fetch_data", "count_stars"]

    report = await storage.reindex()
    assert report.kept == ("fetchData",)
    assert report.indexed == ("fetch_data", "count_stars")
    assert report.skipped == {}
    index = json.loads((folder / "_index.json").read_text())
    assert [entry["name"] for entry in index] == ["fetchData", "fetch_data", "count_stars"]
    assert index[0] == TANSTACK_ONLY_ENTRY
    assert (folder / "fetchData" / "code.ts").read_text() == "return 1;"
