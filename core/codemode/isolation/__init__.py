"""Process isolation: programs of any in-process driver run in warm worker processes.

``ProcessIsolatedDriver(name, options, workers=4)`` is an ``IsolateDriver`` whose contexts run
on a ``WorkerPool`` of ``python -m codemode.isolation._worker`` processes, each loading the
driver ``name`` itself; tools stay on the host and are called over a typed, versioned wire
(``_wire``). ``isolated_driver`` is what ``create_code_mode(isolation=..., workers=...)`` and
the ``[driver] isolation`` config use. See docs/isolation.md.
"""

TYPE_CHECKING = False  # as in codemode/__init__.py: importing typing is most of the cost

if TYPE_CHECKING:
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

_HOMES = {
    "DEFAULT_WORKERS": "codemode.isolation._modes",
    "ISOLATION_MODES": "codemode.isolation._modes",
    "Isolation": "codemode.isolation._modes",
    "ProcessIsolatedDriver": "codemode.isolation._driver",
    "WIRE_VERSION": "codemode.isolation._wire",
    "WireError": "codemode.isolation._wire",
    "WorkerPool": "codemode.isolation._pool",
    "check_isolation": "codemode.isolation._modes",
    "close_shared_pools": "codemode.isolation._modes",
    "isolated_driver": "codemode.isolation._modes",
    "resolve_isolation": "codemode.isolation._modes",
}

if not TYPE_CHECKING:
    # Names load on first use: choosing "none" (in process) loads no pool, worker or wire.
    from codemode._lazy import lazy

    __getattr__, __dir__ = lazy("codemode.isolation", _HOMES, globals())
    del lazy
