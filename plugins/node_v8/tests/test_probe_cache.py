"""A passed probe is remembered on disk for the next process on the same machine and install;
a failed one never is, and anything the verdict depends on changes the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemode_node_v8 import _probe, _probe_cache
from codemode_node_v8._probe import SCRIPT_VARIABLE, ProbeResult, probe_mini_racer


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty cache folder, and nothing remembered in this process."""
    monkeypatch.setenv(_probe_cache.CACHE_VARIABLE, str(tmp_path))
    monkeypatch.setattr(_probe, "_verdicts", {})
    return tmp_path


def _forbid_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(command: list[str], timeout: float) -> ProbeResult:
        raise AssertionError("the probe ran a child process although a passed one is stored")

    monkeypatch.setattr(_probe, "_run", run)


def test_a_passed_probe_is_stored_and_spares_the_next_process_its_child(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = probe_mini_racer()
    assert first.compatible, first.error
    stored = list(cache.glob("*.json"))
    assert len(stored) == 1
    assert json.loads(stored[0].read_text(encoding="utf-8"))["compatible"] is True
    # A new process on the same machine: nothing in memory, the file on disk.
    monkeypatch.setattr(_probe, "_verdicts", {})
    _forbid_child(monkeypatch)
    second = probe_mini_racer()
    assert (second.compatible, second.details) == (True, first.details)


def test_a_fresh_process_reads_the_stored_verdict(cache: Path) -> None:
    assert probe_mini_racer().compatible
    script = (
        "from codemode_node_v8 import _probe\n"
        "def run(command, timeout): raise SystemExit('ran a child')\n"
        "_probe._run = run\n"
        "print(_probe.probe_mini_racer().compatible)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr


def test_a_failed_probe_is_not_stored(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], timeout: float) -> ProbeResult:
        calls.append(command)
        return ProbeResult(False, "a process running the V8 driver was killed by SIGSEGV")

    monkeypatch.setattr(_probe, "_run", run)
    assert not probe_mini_racer().compatible
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(_probe, "_verdicts", {})
    assert not probe_mini_racer().compatible
    assert len(calls) == 2, "a failed probe must be run again by the next process"


def test_a_replaced_probe_script_never_touches_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCRIPT_VARIABLE, "print('codemode-node-v8 probe: ok')")
    assert probe_mini_racer().compatible
    assert list(cache.iterdir()) == []


def test_other_cpu_flags_mean_another_key(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert probe_mini_racer().compatible
    monkeypatch.setattr(_probe, "_verdicts", {})
    # The same install on a CPU with memory protection keys: the verdict does not carry over.
    monkeypatch.setattr(_probe_cache, "_cpu_flags", lambda: "fpu sse2 pku ospke")
    calls: list[str] = []

    def run(command: list[str], timeout: float) -> ProbeResult:
        calls.append("run")
        return ProbeResult(False, "killed by SIGSEGV")

    monkeypatch.setattr(_probe, "_run", run)
    assert not probe_mini_racer().compatible
    assert calls == ["run"]


@pytest.mark.parametrize("content", ["", "{not json", '{"compatible": false}', "[1]"])
def test_an_unreadable_entry_means_the_probe_runs(
    cache: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    assert probe_mini_racer().compatible
    (entry,) = cache.glob("*.json")
    entry.write_text(content, encoding="utf-8")
    monkeypatch.setattr(_probe, "_verdicts", {})
    calls: list[str] = []

    def run(command: list[str], timeout: float) -> ProbeResult:
        calls.append("run")
        return ProbeResult(True, details="again")

    monkeypatch.setattr(_probe, "_run", run)
    assert probe_mini_racer().details == "again"
    assert calls == ["run"]


def test_off_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(_probe_cache.CACHE_VARIABLE, "off")
    monkeypatch.setattr(_probe, "_verdicts", {})
    assert probe_mini_racer().compatible
    assert _probe_cache.recall(_probe._command()) is None


def test_an_unwritable_folder_only_means_no_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(_probe_cache.CACHE_VARIABLE, str(blocker / "cache"))
    monkeypatch.setattr(_probe, "_verdicts", {})
    assert probe_mini_racer().compatible


def test_an_edited_driver_file_means_another_key(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = _probe._command()
    before = _probe_cache.fingerprint(command)
    source = Path(_probe_cache.__file__).parent / "setup.js"
    status = source.stat()
    try:
        os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
        assert _probe_cache.fingerprint(command) != before
    finally:
        os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert _probe_cache.fingerprint(command) == before
