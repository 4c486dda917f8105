"""The ``codemode`` entry points of this distribution: the ``node`` driver and its ``v8`` alias.

Each entry point is registered as a plugin of its own, and pluggy refuses to register one
object twice, so ``node`` is this module and ``v8`` the ``v8`` object in it. Both register
one factory object (an alias is the same factory), imported on first use: finding the
installed plugins does not load V8.
"""

from __future__ import annotations

from typing import Any

import codemode
from codemode.plugins import LazyFactory

FACTORY = LazyFactory("codemode_node_v8._driver:create_node_isolate_driver")


@codemode.hookimpl
def codemode_isolate_drivers() -> dict[str, Any]:
    return {"node": FACTORY}


class _V8Alias:
    @staticmethod
    @codemode.hookimpl
    def codemode_isolate_drivers() -> dict[str, Any]:
        return {"v8": FACTORY}


v8 = _V8Alias()
