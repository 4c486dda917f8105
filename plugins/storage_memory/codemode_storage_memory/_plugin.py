"""The ``codemode`` entry point of this distribution: registers the ``memory`` skill storage."""

from __future__ import annotations

from typing import Any

import codemode
from codemode_storage_memory._storage import create_memory_skill_storage


@codemode.hookimpl
def codemode_skill_storages() -> dict[str, Any]:
    return {"memory": create_memory_skill_storage}
