"""The ``codemode`` entry points of this distribution: the ``node`` driver and its ``v8`` alias.

Each entry point is registered as a plugin of its own, and pluggy refuses to register one
object twice, so ``node`` is this module and ``v8`` the ``v8`` object in it.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode_node_v8._driver import create_node_isolate_driver


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"node": create_node_isolate_driver}


class _V8Alias:
    @staticmethod
    @codemode.hookimpl
    def codemode_isolate_drivers() -> dict[str, Any]:
        return {"v8": create_node_isolate_driver}


v8 = _V8Alias()
