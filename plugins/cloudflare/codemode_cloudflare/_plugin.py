"""The ``codemode`` entry point of this distribution: registers the ``cloudflare`` driver.

The factory is imported on first use: finding the installed plugins imports no HTTP or
WebSocket client.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode.plugins import LazyFactory

FACTORY = LazyFactory("codemode_cloudflare._driver:create_cloudflare_isolate_driver")


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"cloudflare": FACTORY}
