"""``codemode new-plugin``: the writer's rules, and the four skeletons working as generated.

``test_generated_plugins_install_register_and_pass_their_tests`` is SLOW (about a minute on
two cores): it writes one plugin of each kind, installs the four into one fresh virtualenv
made with uv (with the core and the quickjs driver from this checkout), checks that
``codemode plugins`` lists each under its kind, and runs each generated test suite there in
full, the whole ``DriverConformance`` for the driver (half of the time). Without uv it is
skipped.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from codemode._scaffold import KINDS, render_plugin, write_plugin
from codemode.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"
QUICKJS = ROOT / "plugins" / "quickjs"
# As the root pyproject's dev group pins it (the generated tests need no timeout, but a hung
# one should fail rather than stall CI).
PYTEST_TIMEOUT = "pytest-timeout==2.4.0"
# `codemode plugins` names the kinds so.
LISTED_AS = {
    "driver": "drivers",
    "storage": "storages",
    "trust": "trust strategies",
    "adapter": "adapters",
}


def new_plugin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new-plugin", *args])
    return result.exit_code, result.output


# --- the writer ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_writes_the_package_files(tmp_path: Path, kind: str) -> None:
    code, output = new_plugin(kind, "acme", "--dir", str(tmp_path))
    assert code == 0, output
    target = tmp_path / "codemode-acme"
    assert f"wrote {target}" in output
    module = {"driver": "_driver", "storage": "_storage", "trust": "_trust"}.get(kind, "_adapter")
    written = sorted(str(path.relative_to(target)) for path in target.rglob("*") if path.is_file())
    assert written == sorted(
        [
            "README.md",
            "pyproject.toml",
            "codemode_acme/__init__.py",
            "codemode_acme/_plugin.py",
            f"codemode_acme/{module}.py",
            "codemode_acme/py.typed",
            "tests/test_conformance.py",
        ]
    )
    pyproject = (target / "pyproject.toml").read_text()
    assert 'name = "codemode-acme"' in pyproject
    assert '[project.entry-points.codemode]\nacme = "codemode_acme._plugin"' in pyproject
    assert '"codemode>=0.1,<0.2"' in pyproject or '"codemode[openai]>=0.1,<0.2"' in pyproject
    assert "codemode[testing" in pyproject
    readme = (target / "README.md").read_text()
    assert "pip install -e ." in readme
    assert "codemode.toml" in readme
    assert "Replace this" in (target / f"codemode_acme/{module}.py").read_text()


def test_the_adapter_depends_on_the_openai_extra() -> None:
    pyproject = render_plugin("adapter", "acme")["pyproject.toml"]
    assert '"codemode[openai]>=0.1,<0.2"' in pyproject


def test_the_current_folder_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = new_plugin("trust", "acme")
    assert code == 0, output
    assert (tmp_path / "codemode-acme" / "codemode_acme" / "_trust.py").is_file()


def test_dir_is_made_if_missing(tmp_path: Path) -> None:
    code, output = new_plugin("storage", "acme", "--dir", str(tmp_path / "a" / "b"))
    assert code == 0, output
    assert (tmp_path / "a" / "b" / "codemode-acme" / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    "name", ["MyPlugin", "my-plugin", "1plugin", "_plugin", "plugin_", "my__plugin", "é", ""]
)
def test_a_name_that_is_not_snake_case_is_a_usage_error(tmp_path: Path, name: str) -> None:
    code, output = new_plugin("storage", name, "--dir", str(tmp_path))
    assert code == 2
    assert "snake_case identifier" in output
    assert not any(tmp_path.iterdir())


def test_an_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    code, output = new_plugin("engine", "acme", "--dir", str(tmp_path))
    assert code == 2
    assert "driver" in output
    assert "adapter" in output


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "codemode-acme"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    code, output = new_plugin("driver", "acme", "--dir", str(tmp_path))
    assert code == 2
    assert "already exists" in output
    assert [path.name for path in target.iterdir()] == ["mine.txt"]


def test_the_writer_raises_for_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="snake_case"):
        write_plugin("storage", "Bad", tmp_path)
    with pytest.raises(ValueError, match="kind must be one of"):
        write_plugin("engine", "good", tmp_path)
    write_plugin("storage", "good", tmp_path)
    with pytest.raises(FileExistsError):
        write_plugin("trust", "good", tmp_path)


def test_the_generated_code_passes_the_repositorys_ruff(tmp_path: Path) -> None:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed here (it is in the workspace's dev group)")
    for kind in KINDS:
        write_plugin(kind, f"my_{kind}", tmp_path)
    first_party = ["codemode", *(f"codemode_my_{kind}" for kind in KINDS)]
    config = ["--config", str(ROOT / "pyproject.toml")]
    # The repository lists its members as first-party; a generated package is one more.
    config += ["--config", f"lint.isort.known-first-party = {first_party!r}".replace("'", '"')]
    ruff = [sys.executable, "-m", "ruff"]
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        result = subprocess.run(
            [*ruff, *command, *config, str(tmp_path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --- the skeletons, installed --------------------------------------------------------------


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=240,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.mark.timeout(420)
def test_generated_plugins_install_register_and_pass_their_tests(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv not found (pip install uv, or set UV): the skeletons need a fresh venv")
    started = time.perf_counter()
    packages = {kind: write_plugin(kind, f"my_{kind}", tmp_path / "src") for kind in KINDS}
    venv = tmp_path / "venv"
    made = run(uv, "venv", "--quiet", "--python", sys.executable, venv)
    assert made.returncode == 0, made.stderr
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    editable = [part for path in packages.values() for part in ("-e", str(path))]
    installed = run(
        *(uv, "pip", "install", "--quiet", "--python", python, *editable),
        *(f"{CORE}[testing,openai,server]", QUICKJS, PYTEST_TIMEOUT),
    )
    assert installed.returncode == 0, installed.stderr

    listed = run(python, "-m", "codemode", "plugins")
    assert listed.returncode == 0, listed.stderr
    lines = {
        line.partition(":")[0]: line.partition(":")[2].split(", ")
        for line in listed.stdout.splitlines()
        if line.partition(":")[0] in LISTED_AS.values()
    }
    for kind in KINDS:
        assert f"my_{kind}" in [name.strip() for name in lines[LISTED_AS[kind]]], listed.stdout

    for kind, package in packages.items():
        tests = run(
            python, "-m", "pytest", "-q", "-p", "no:cacheprovider", package / "tests", cwd=package
        )
        assert tests.returncode == 0, f"{kind}:\n{tests.stdout}\n{tests.stderr}"
        assert " passed" in tests.stdout
    print(f"skeletons installed and tested in {time.perf_counter() - started:.1f}s")
