"""``serve_asgi``: an ASGI app on a free loopback port, served by uvicorn in a thread.

For tests that need real HTTP (a Node client, a disconnect mid-stream) without the network.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from codemode._extras import require_extra


@contextmanager
def serve_asgi(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` on ``127.0.0.1`` and yield its base URL (``http://127.0.0.1:PORT``)."""
    require_extra("uvicorn", "server")
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the loopback server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the loopback server did not start in {start_timeout} s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
