"""``codemode skills``: list, show, rm, export, import, reindex on a real file storage."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codemode.cli import main
from codemode.plugins import load_storage
from codemode.skills import Skill


def skill(name: str, description: str, code: str = "return input.x;") -> Skill:
    return Skill(
        name=name,
        description=description,
        code=code,
        input_schema={"type": "object"},
        output_schema={},
        usage_hints=[f"when {name}"],
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    where = tmp_path / "skills"
    storage = load_storage("fs", directory=str(where))

    async def fill() -> None:
        await storage.save(skill("fetch_stats", "Fetch repository stats"))
        await storage.save(skill("sum_orders", "Sum a customer's orders", "return 1 +\n  2;"))
        await storage.update_stats("sum_orders", True)

    asyncio.run(fill())
    return where


def run(*args: str, **kwargs: Any) -> Any:
    return CliRunner().invoke(main, ["skills", *args], catch_exceptions=False, **kwargs)


def test_list_as_a_table_and_as_json(folder: Path) -> None:
    table = run("list", "--storage", str(folder))
    assert table.exit_code == 0, table.output
    assert "2 skills" in table.output
    assert "fetch_stats" in table.output
    assert "100%" in table.output
    listed = json.loads(run("list", "--storage", str(folder), "--json").output)
    assert listed == [
        {
            "name": "fetch_stats",
            "description": "Fetch repository stats",
            "trustLevel": "untrusted",
            "stats": {"executions": 0, "successRate": 0.0},
        },
        {
            "name": "sum_orders",
            "description": "Sum a customer's orders",
            "trustLevel": "untrusted",
            "stats": {"executions": 1, "successRate": 1.0},
        },
    ]


def test_the_configured_storage_is_used(folder: Path, tmp_path: Path) -> None:
    config = tmp_path / "codemode.toml"
    config.write_text(f'[skills]\nstorage = "fs"\ndirectory = "{folder}"\n')
    listed = json.loads(run("list", "--config", str(config), "--json").output)
    assert [item["name"] for item in listed] == ["fetch_stats", "sum_orders"]


def test_show(folder: Path) -> None:
    shown = run("show", "sum_orders", "--storage", str(folder))
    assert shown.exit_code == 0
    assert "Sum a customer's orders" in shown.output
    assert "when sum_orders" in shown.output
    assert "return 1 +" in shown.output
    as_json = json.loads(run("show", "sum_orders", "--storage", str(folder), "--json").output)
    assert as_json["code"] == "return 1 +\n  2;"
    assert as_json["stats"] == {"executions": 1, "successRate": 1.0}
    missing = run("show", "nope", "--storage", str(folder))
    assert missing.exit_code == 1
    assert "there is no skill named 'nope'" in missing.output


def test_rm(folder: Path) -> None:
    assert run("rm", "fetch_stats", "--storage", str(folder)).exit_code == 0
    assert not (folder / "fetch_stats").exists()
    again = run("rm", "fetch_stats", "--storage", str(folder))
    assert again.exit_code == 1


def test_export_then_import(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    exported = run("export", str(out), "--storage", str(folder))
    assert exported.exit_code == 0, exported.output
    assert "2 skills exported" in exported.output
    assert json.loads((out / "sum_orders" / "meta.json").read_text())["stats"]["executions"] == 1
    assert (out / "sum_orders" / "code.ts").read_text() == "return 1 +\n  2;"
    target = tmp_path / "other"
    imported = run("import", str(out), "--storage", str(target))
    assert imported.exit_code == 0
    assert "2 skills imported" in imported.output
    again = run("import", str(out), "--storage", str(target))
    assert "(2 replaced)" in again.output
    copied = load_storage("fs", directory=str(target))
    copy = asyncio.run(copied.get("sum_orders"))
    assert copy is not None
    assert copy.stats.executions == 1


def test_reindex_rebuilds_a_broken_index(folder: Path) -> None:
    (folder / "_index.json").write_text("{ broken")
    with pytest.warns(UserWarning, match="_index.json"):
        listed = run("list", "--storage", str(folder), "--json")
    assert [item["name"] for item in json.loads(listed.output)] == ["fetch_stats", "sum_orders"]
    rebuilt = run("reindex", "--storage", str(folder))
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "indexed 2 skills" in rebuilt.output
    names = [entry["name"] for entry in json.loads((folder / "_index.json").read_text())]
    assert sorted(names) == ["fetch_stats", "sum_orders"]


def test_reindex_reports_what_it_skipped(folder: Path) -> None:
    (folder / "sum_orders" / "meta.json").write_text("not json")
    result = run("reindex", "--storage", str(folder))
    assert result.exit_code == 1
    assert "sum_orders/meta.json: not valid JSON" in result.output
    assert "indexed 1 skill" in result.output


def test_a_memory_storage_says_nothing_persists(tmp_path: Path) -> None:
    config = tmp_path / "codemode.toml"
    config.write_text('[skills]\nstorage = "memory"\n')
    result = run("list", "--config", str(config), "--json")
    assert result.exit_code == 0
    assert "nothing persists" in result.output
    assert run("reindex", "--config", str(config)).output.strip().endswith("nothing to rebuild")


def test_an_unknown_storage_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["skills", "list", "--storage", "nosuch"])
    assert result.exit_code == 2
    assert "no skill storage named 'nosuch'" in result.output
