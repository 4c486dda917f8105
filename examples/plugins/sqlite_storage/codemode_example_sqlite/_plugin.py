"""The ``codemode`` entry point of this distribution: registers the ``sqlite`` skill storage."""

from __future__ import annotations

from typing import Any

import codemode
from codemode_example_sqlite._storage import create_sqlite_skill_storage


@codemode.hookimpl
def codemode_skill_storages() -> dict[str, Any]:
    return {"sqlite": create_sqlite_skill_storage}
