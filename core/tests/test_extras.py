"""Extras: a missing optional package names the ``pip install "codemode[...]"`` that adds it."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codemode._extras import EXTRAS, require_extra
from codemode.errors import CodeModeError, MissingExtraError

CORE = Path(__file__).resolve().parent.parent


def test_an_installed_module_is_returned() -> None:
    assert require_extra("json", "server") is json


@pytest.mark.parametrize("module", ["no_such_module_xyz", "no_such_module_xyz.sub"])
def test_a_missing_module_names_the_extra(module: str) -> None:
    with pytest.raises(MissingExtraError) as caught:
        require_extra(module, "server")
    error = caught.value
    assert str(error) == (
        f'codemode[server] needs {module}, which is not installed: pip install "codemode[server]"'
    )
    assert error.name == module
    assert error.extra == "server"
    # Code that guards an optional import with ``except ImportError`` keeps working.
    assert isinstance(error, ImportError)
    assert isinstance(error, CodeModeError)


def test_a_broken_install_keeps_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The extra's package is there, but something it imports is not: installing the extra
    # again would not help, so the original error is the useful one.
    (tmp_path / "half_installed_xyz.py").write_text("import its_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        require_extra("half_installed_xyz", "server")
    assert not isinstance(caught.value, MissingExtraError)
    assert caught.value.name == "its_missing_dependency_xyz"


def test_an_unknown_extra_is_a_bug_of_the_caller() -> None:
    with pytest.raises(ValueError, match="unknown extra 'sever'"):
        require_extra("json", "sever")


def test_extras_match_the_distribution() -> None:
    project = tomllib.loads((CORE / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) == EXTRAS


def test_testing_kit_without_pytest_names_the_extra() -> None:
    # ``None`` in sys.modules makes ``import pytest`` fail as if it were not installed.
    script = "import sys\nsys.modules['pytest'] = None\nimport codemode.testing\n"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 1
    last_line = run.stderr.strip().splitlines()[-1]
    assert last_line == (
        "codemode.errors.MissingExtraError: codemode[testing] needs pytest, which is not"
        ' installed: pip install "codemode[testing]"'
    )
