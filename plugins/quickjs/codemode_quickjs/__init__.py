"""QuickJS isolate driver for codemode: ``pip install codemode-quickjs``, driver ``quickjs``.

Names load on first use, so loading the plugin (which every codemode process does to find
its drivers) does not import the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
