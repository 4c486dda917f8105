"""The ``codemode`` entry point of this distribution: registers the ``cloudflare`` driver."""

from __future__ import annotations

from typing import Any

import codemode
from codemode_cloudflare._driver import create_cloudflare_isolate_driver


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"cloudflare": create_cloudflare_isolate_driver}
