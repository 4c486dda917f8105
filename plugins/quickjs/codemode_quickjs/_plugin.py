"""The ``codemode`` entry point of this distribution: registers the ``quickjs`` driver.

The factory is imported on first use: finding the installed plugins imports no engine.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode.plugins import LazyFactory

FACTORY = LazyFactory("codemode_quickjs._driver:create_quickjs_isolate_driver")


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"quickjs": FACTORY}
