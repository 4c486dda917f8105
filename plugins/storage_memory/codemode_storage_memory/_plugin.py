"""The ``codemode`` entry point of this distribution: registers the ``memory`` skill storage.

The factory is imported on first use: finding the installed plugins imports no skill model.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode.plugins import LazyFactory

FACTORY = LazyFactory("codemode_storage_memory._storage:create_memory_skill_storage")


@codemode.hookimpl
def codemode_skill_storages() -> dict[str, Any]:
    return {"memory": FACTORY}
