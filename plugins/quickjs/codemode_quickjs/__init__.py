"""QuickJS isolate driver for codemode: ``pip install codemode-quickjs``, driver ``quickjs``.

Names load on first use, so loading the plugin (which every codemode process does to find
its drivers) does not import the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemode_quickjs._driver import (
        DEFAULT_MAX_STACK_SIZE,
        QuickJSIsolateDriver,
        create_quickjs_isolate_driver,
    )

__all__ = [
    "DEFAULT_MAX_STACK_SIZE",
    "QuickJSIsolateDriver",
    "create_quickjs_isolate_driver",
]

_HOMES = {
    "DEFAULT_MAX_STACK_SIZE": "codemode_quickjs._driver",
    "QuickJSIsolateDriver": "codemode_quickjs._driver",
    "create_quickjs_isolate_driver": "codemode_quickjs._driver",
}


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead.
    from codemode.plugins import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
    del lazy_exports
