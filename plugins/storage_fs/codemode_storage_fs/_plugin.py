"""The ``codemode`` entry point of this distribution: registers the ``fs`` and ``file`` storages."""

from __future__ import annotations

from typing import Any

import codemode
from codemode_storage_fs._factory import create_file_skill_storage


@codemode.hookimpl
def codemode_skill_storages() -> dict[str, Any]:
    return {"fs": create_file_skill_storage, "file": create_file_skill_storage}
