"""V8 isolate driver for codemode: ``pip install codemode-node-v8``, drivers ``node`` and ``v8``.

Names load on first use, so loading the plugin (which every codemode process does to find
its drivers) does not load V8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codemode_node_v8._driver import (
        NodeIsolateDriver,
        create_node_isolate_driver,
    )
    from codemode_node_v8._probe import (
        ProbeResult,
        probe_mini_racer,
    )

__all__ = [
    "NodeIsolateDriver",
    "ProbeResult",
    "create_node_isolate_driver",
    "probe_mini_racer",
]

_HOMES = {
    "NodeIsolateDriver": "codemode_node_v8._driver",
    "ProbeResult": "codemode_node_v8._probe",
    "create_node_isolate_driver": "codemode_node_v8._driver",
    "probe_mini_racer": "codemode_node_v8._probe",
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
