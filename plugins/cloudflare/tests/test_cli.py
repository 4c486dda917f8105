"""``codemode cloudflare dev|deploy-files|install``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from codemode.cli import main

from .conftest import Watched


def test_deploy_files_writes_the_worker_and_wrangler_toml(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["cloudflare", "deploy-files", str(tmp_path / "w"), "--name", "mine"]
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "w").iterdir())
    assert written == ["prelude.js", "worker.js", "wrangler.toml"]
    toml = (tmp_path / "w" / "wrangler.toml").read_text()
    assert 'name = "mine"' in toml
    assert 'binding = "LOADER"' in toml
    assert "wrangler secret put CODEMODE_SECRET" in result.output


def test_the_group_lists_its_commands() -> None:
    result = CliRunner().invoke(main, ["cloudflare", "--help"])
    assert result.exit_code == 0
    for command in ("dev", "install", "deploy-files"):
        assert command in result.output


def test_without_the_plugin_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "codemode_cloudflare._cli", None)  # import fails
    result = CliRunner().invoke(main, ["cloudflare", "dev"])
    assert result.exit_code == 2
    assert "pip install codemode-cloudflare" in result.output


def test_dev_serves_the_worker_until_stopped(workerd: Watched) -> None:
    # `workerd` makes sure the binary is installed; `dev` runs a workerd of its own.
    command = [sys.executable, "-m", "codemode", "cloudflare", "dev", "--port", "0"]
    env = {**os.environ, "CODEMODE_SECRET": "dev-secret"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("codemode Worker on workerd at http://127.0.0.1:"), first
        url = first.split(" at ", 1)[1].split()[0]
        assert "Bearer dev-secret" in process.stdout.readline()
        ok = httpx.post(
            url,
            json={"code": "return 1", "tools": []},
            headers={"Authorization": "Bearer dev-secret"},
        )
        assert ok.json()["value"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        time.sleep(0.2)
        with pytest.raises(httpx.ConnectError):  # its workerd went with it
            httpx.get(url + "/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
