"""One process of the multi-process test: ``runpy.run_path`` runs it in a spawned process
(a test module is not importable there), with ``WORKER`` holding its arguments."""

from __future__ import annotations

import asyncio
from typing import Any

from codemode_example_sqlite import create_sqlite_skill_storage


async def record_runs(path: str, name: str, runs: int, start: Any) -> None:
    async with create_sqlite_skill_storage(path) as storage:
        start.wait(30)
        for i in range(runs):
            updated = await storage.update_stats(name, i % 2 == 0)
            assert updated is not None


if __name__ == "__update_stats_worker__":
    asyncio.run(record_runs(**globals()["WORKER"]))
