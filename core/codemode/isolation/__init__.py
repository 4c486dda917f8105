"""Process isolation: programs of any in-process driver run in warm worker processes.

``ProcessIsolatedDriver(name, options, workers=4)`` is an ``IsolateDriver`` whose contexts run
on a ``WorkerPool`` of ``python -m codemode.isolation._worker`` processes, each loading the
driver ``name`` itself; tools stay on the host and are called over a typed, versioned wire
(``_wire``). ``isolated_driver`` is what ``create_code_mode(isolation=..., workers=...)`` and
the ``[driver] isolation`` config use. See docs/isolation.md.
"""

from codemode.isolation._driver import ProcessIsolatedDriver
from codemode.isolation._modes import (
    DEFAULT_WORKERS,
    ISOLATION_MODES,
    Isolation,
    check_isolation,
    close_shared_pools,
    isolated_driver,
    resolve_isolation,
)
from codemode.isolation._pool import WorkerPool
from codemode.isolation._wire import WIRE_VERSION, WireError

__all__ = [
    "DEFAULT_WORKERS",
    "ISOLATION_MODES",
    "WIRE_VERSION",
    "Isolation",
    "ProcessIsolatedDriver",
    "WireError",
    "WorkerPool",
    "check_isolation",
    "close_shared_pools",
    "isolated_driver",
    "resolve_isolation",
]
