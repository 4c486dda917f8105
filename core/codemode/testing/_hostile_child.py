"""Hostile cases run in a child process, so that one which takes its process down (an engine
that aborts on a huge array-like) or leaves a thread spinning fails alone, not the whole run.

The child is pytest itself, run on the same tests (so the driver comes from the test's own
``driver`` fixture, whatever it needs), with ``CODEMODE_HOSTILE_REPORT`` naming a file: there
each test runs its case in the child's process and writes one line of JSON with its verdict,
which the parent's test then reports. The first test of a group to run starts one child for
every selected test of the group, so the interpreter start is paid once. A child whose case
left a thread busy stops after reporting it (exit status 3) and the rest of the group goes on
in a fresh child, so no case runs next to another's runaway thread. A child that dies fails
the case it was running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._hostile_support import describe_exception
from codemode.testing._hostile_watch import busy_threads_seen

Case = Callable[..., Awaitable[None]]
IsolatedCase = tuple[str, Case, tuple[Any, ...]]
"""(case id, an async function taking the driver and the arguments, the arguments)."""

REPORT_VARIABLE = "CODEMODE_HOSTILE_REPORT"
SKIP_VARIABLE = "CODEMODE_TESTS_SKIP_CHILD_CASES"
"""Set (to 1) by scripts/test.py for its run of every test in one session: these cases run in
child processes, so they cannot interact with the rest of the session, and the members' own
runs just ran them."""
_CASE_BUDGET_S = 60.0
_RESTART = 3
# Verdicts by test node id, from children that ran them: one child runs every selected test
# of a group, and each test of the group then reads its own verdict here.
_VERDICTS: dict[str, tuple[str, str]] = {}


async def run_isolated(
    request: pytest.FixtureRequest,
    driver: IsolateDriver,
    group: Sequence[IsolatedCase],
    case_id: str,
) -> None:
    """Run the case ``case_id`` of ``group`` in a child process (or, in the child, here).

    The test must take its case's id as the parameter ``case_id``."""
    _, case, args = next(entry for entry in group if entry[0] == case_id)
    if os.environ.get(SKIP_VARIABLE) == "1" and not os.environ.get(REPORT_VARIABLE):
        pytest.skip(
            f"runs in a child process of its own, as in this package's own run ({SKIP_VARIABLE}=1)"
        )
    report = os.environ.get(REPORT_VARIABLE)
    if report:
        await _run_here(Path(report), request.node.nodeid, case(driver, *args))
        return
    nodeid = request.node.nodeid
    if nodeid not in _VERDICTS:
        ids = {entry[0] for entry in group}
        siblings = [
            item.nodeid
            for item in request.session.items
            if item.parent is request.node.parent
            and _case_param(item) in ids
            and item.nodeid not in _VERDICTS
        ]
        if nodeid not in siblings:
            siblings.insert(0, nodeid)
        await asyncio.to_thread(_run_children, request.config, siblings)
    outcome, message = _VERDICTS[nodeid]
    if outcome == "skipped":
        pytest.skip(message)
    if outcome != "passed":
        pytest.fail(f"in a child process: {message}", pytrace=False)


def _case_param(item: pytest.Item) -> object:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("case_id")


async def _run_here(report: Path, nodeid: str, run: Awaitable[None]) -> None:
    verdict = ("passed", "")
    try:
        await run
    except pytest.skip.Exception as exc:
        verdict = ("skipped", str(exc))
        raise
    except BaseException as exc:  # reported to the parent, whatever it is
        verdict = ("failed", describe_exception(exc))
        raise
    finally:
        with report.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"id": nodeid, "outcome": verdict[0], "message": verdict[1]}))
            out.write("\n")
        if busy_threads_seen():
            # Nothing else may run beside the busy thread; the parent starts a fresh child.
            os._exit(_RESTART)


def _run_children(config: pytest.Config, nodeids: list[str]) -> None:
    remaining = list(nodeids)
    while remaining:
        with tempfile.TemporaryDirectory(prefix="codemode-hostile-") as directory:
            report = Path(directory) / "verdicts.jsonl"
            report.touch()
            code, ended, stderr = _child(config, remaining, report)
            for line in report.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    verdict = json.loads(line)
                    _VERDICTS[verdict["id"]] = (verdict["outcome"], verdict["message"])
        remaining = [nodeid for nodeid in remaining if nodeid not in _VERDICTS]
        if remaining and code != _RESTART:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-6:]
            _VERDICTS[remaining[0]] = (
                "failed",
                f"{ended} while running this case; its last words: " + " | ".join(tail),
            )
            remaining = remaining[1:]


def _child(
    config: pytest.Config, nodeids: list[str], report: Path
) -> tuple[int | None, str, bytes]:
    # -s: an engine that aborts writes its last words to the real stderr, which we keep.
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly"]
    if config.inipath is not None:
        command += ["-c", str(config.inipath)]
    command += ["--rootdir", str(config.rootpath), *nodeids]
    env = {**os.environ, REPORT_VARIABLE: str(report)}
    try:
        done = subprocess.run(
            command,
            cwd=config.rootpath,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_CASE_BUDGET_S * len(nodeids),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return None, f"the child process was killed after {exc.timeout:.0f} s", exc.stderr or b""
    return done.returncode, _exit_reason(done.returncode), done.stderr


def _exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"the child process died of {signal.Signals(-code).name}"
    return f"the child process exited with status {code}"
