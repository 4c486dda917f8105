"""Fixtures for the web app's end-to-end tests: ``codemode serve`` as a user starts it (a
subprocess, in a folder of its own), and Debian's Chromium driven by Playwright.

Without Chromium the browser tests are skipped, saying why, unless
``CODEMODE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it after installing Chromium): then they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    # As root (CI) Chromium needs --no-sandbox; the rest keep it off a closed network.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60.0


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = chromium_path()
    if found is None:
        message = "no Chromium on PATH (Debian: apt-get install chromium)"
        if os.environ.get("CODEMODE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; CODEMODE_REQUIRE_BROWSER=1 requires it")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]
    data_dir: Path
    output: list[str]
    reader: threading.Thread | None = None


@dataclass
class ServeCommand:
    """Starts ``codemode serve --port 0`` and waits for the URL it prints."""

    tmp: Path
    started: list[Served] = field(default_factory=list)

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, port: str | None = "0"
    ) -> Served:
        folder = self.tmp / f"serve-{len(list(self.tmp.iterdir()))}"
        folder.mkdir()
        data_dir = folder / "data"
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("CODEMODE_")
        }
        environment.update(env or {})
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "codemode", "serve", "--data-dir", str(data_dir)),
                *(("--port", port) if port is not None else ()),
                *args,
            ],
            cwd=folder,  # no codemode.toml above it but what a test writes
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        output: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            found = re.search(r"codemode serve: (http://\S+)", line)
            if found:
                served = Served(found.group(1), process, data_dir, output)
                self.started.append(served)
                # Keep reading, so a chatty server never blocks on a full pipe.
                served.reader = threading.Thread(target=_drain, args=(process, output), daemon=True)
                served.reader.start()
                return served
        process.kill()
        raise AssertionError("codemode serve printed no URL:\n" + "".join(output))


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeCommand]:
    command = ServeCommand(tmp_path_factory.mktemp("serve"))
    yield command
    for served in command.started:
        stop(served)


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)


def stop(served: Served) -> int:
    """Ctrl+C, as a user stops it; its exit status."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGINT)
        try:
            served.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()
    if served.reader is not None:
        served.reader.join(timeout=10)  # it ends at EOF, when the server has exited
    if served.process.stdout is not None:
        served.process.stdout.close()
    return served.process.returncode
