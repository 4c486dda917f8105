"""The ``codemode`` entry point of this distribution: registers the ``sqlite`` skill storage.

Every codemode process loads every entry point to find its plugins, so the factory is
registered as a ``LazyFactory``: the storage module (and what it imports) loads only when a
``sqlite`` storage is made.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode.plugins import LazyFactory

FACTORY = LazyFactory("codemode_example_sqlite._storage:create_sqlite_skill_storage")


@codemode.hookimpl
def codemode_skill_storages() -> dict[str, Any]:
    return {"sqlite": FACTORY}
