"""``import codemode`` is light: heavy dependencies load when a name that needs them is used."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import codemode

HEAVY = ("pydantic", "jsonschema", "tree_sitter", "rich", "click", "orjson")


def modules_after(statement: str) -> set[str]:
    # A fresh interpreter: this one has long imported everything.
    script = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


@pytest.mark.parametrize(
    "module", ["codemode", "codemode.isolate", "codemode.errors", "codemode.hookspecs"]
)
def test_light_modules_import_nothing_heavy(module: str) -> None:
    loaded = modules_after(f"import {module}")
    assert module in loaded
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert heavy == []


def test_using_a_name_loads_what_it_needs() -> None:
    # The check above would also pass if the subprocess imported nothing at all.
    loaded = modules_after("from codemode import tool")
    assert "pydantic" in loaded
    assert "codemode.tools" in loaded


def test_every_public_name_is_its_homes_object() -> None:
    homes = codemode._HOMES
    assert sorted(homes) == codemode.__all__
    for name, home in homes.items():
        assert getattr(codemode, name) is getattr(importlib.import_module(home), name)


def test_unknown_names_fail_as_usual() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = codemode.nope  # type: ignore[attr-defined]
    with pytest.raises(ImportError, match="nope"):
        exec("from codemode import nope")


def test_dir_lists_names_not_loaded_yet() -> None:
    script = "import codemode, json; print(json.dumps(dir(codemode)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    names = json.loads(out)
    assert set(codemode.__all__) <= set(names)
    assert "importlib" not in names
    assert names == sorted(names)
