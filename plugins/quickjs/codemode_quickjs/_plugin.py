"""The ``codemode`` entry point of this distribution: registers the ``quickjs`` driver."""

from __future__ import annotations

from typing import Any

import codemode
from codemode_quickjs._driver import create_quickjs_isolate_driver


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"quickjs": create_quickjs_isolate_driver}
