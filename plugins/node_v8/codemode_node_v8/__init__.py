"""V8 isolate driver for codemode: ``pip install codemode-node-v8``, drivers ``node`` and ``v8``.

Names load on first use, so loading the plugin (which every codemode process does to find
its drivers) does not load V8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead.
    from codemode.plugins import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
    del lazy_exports
