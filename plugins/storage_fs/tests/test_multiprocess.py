"""Eight processes counting runs of one file-stored skill lose no count.

Each process is a fresh interpreter (as the "spawn" start method makes), opens its own storage
on the same folder, waits until all eight are ready, then records 250 runs, half of them
failures, 25 at a time. Every update returns the count it wrote; across all processes those
must be 1..2000, each exactly once: proof that no two read-modify-writes overlapped.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codemode.skills import Skill
from codemode_storage_fs import create_file_skill_storage

PROCESSES = 8
RUNS = 250

WORKER = r"""
import asyncio, json, sys
from codemode_storage_fs import create_file_skill_storage

async def main(directory: str, runs: int) -> None:
    storage = create_file_skill_storage(directory)
    print("ready", flush=True)
    sys.stdin.readline()  # the start signal: every process is loaded by now
    counts = []
    for batch in range(0, runs, 25):
        results = await asyncio.gather(
            *(storage.update_stats("count_runs", (batch + i) % 2 == 0) for i in range(25))
        )
        counts.extend(result.stats.executions for result in results)
    print(json.dumps(counts), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_eight_processes_lose_no_count(tmp_path: Path) -> None:
    directory = str(tmp_path / "skills")
    storage = create_file_skill_storage(directory)
    skill = Skill(
        name="count_runs",
        description="Counts",
        code="return 1;",
        input_schema={"type": "object"},
        output_schema={"type": "number"},
    )
    asyncio.run(storage.save(skill))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, directory, str(RUNS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr
        start = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        counts: list[int] = []
        for worker in workers:
            out, err = worker.communicate(timeout=100)
            assert worker.returncode == 0, err
            counts.extend(json.loads(out))
        elapsed = time.perf_counter() - start
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    print(f"\n{PROCESSES} processes x {RUNS} update_stats: {elapsed:.2f} s")

    assert sorted(counts) == list(range(1, PROCESSES * RUNS + 1))
    stored = asyncio.run(create_file_skill_storage(directory).get("count_runs"))
    assert stored is not None
    assert stored.stats.executions == PROCESSES * RUNS
    assert stored.stats.success_rate == pytest.approx(0.5)
    assert sorted(path.name for path in (tmp_path / "skills" / "count_runs").iterdir()) == [
        "code.ts",
        "meta.json",
    ]
