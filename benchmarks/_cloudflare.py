"""The Cloudflare driver in the benchmarks: its Worker on a local workerd (loopback).

The driver needs a Worker URL, so ``run.py`` starts one workerd for the driver's workloads and
passes its URL and secret to the code mode (and to the ``--child`` processes, through the
environment). Workloads time the whole path: WebSocket, Worker, child isolate, tools on the host.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codemode.isolate import IsolateDriver

NAME = "cloudflare"
_URL = "CODEMODE_BENCH_CLOUDFLARE_URL"
_SECRET = "CODEMODE_BENCH_CLOUDFLARE_SECRET"


@contextmanager
def local_worker() -> Iterator[None]:
    """A workerd serving the Worker while the block runs (reused if one is already set)."""
    if os.environ.get(_URL):
        yield
        return
    from codemode_cloudflare import WorkerdProcess

    folder = Path(tempfile.mkdtemp(prefix="codemode-bench-worker-"))
    secret = secrets.token_urlsafe(24)
    worker = WorkerdProcess(folder, secret=secret)
    try:
        os.environ[_URL] = worker.start()
        os.environ[_SECRET] = secret
        yield
    finally:
        os.environ.pop(_URL, None)
        os.environ.pop(_SECRET, None)
        worker.close()
        shutil.rmtree(folder, ignore_errors=True)


def resolve(name: str, timeout: int) -> str | IsolateDriver:
    """``name`` for a driver found by name; for ``cloudflare``, the connected-mode driver of
    the Worker that ``local_worker`` started."""
    if name != NAME:
        return name
    from codemode_cloudflare import create_cloudflare_isolate_driver

    return create_cloudflare_isolate_driver(
        os.environ[_URL], authorization=f"Bearer {os.environ[_SECRET]}", timeout=timeout
    )
