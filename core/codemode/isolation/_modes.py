"""``isolation="auto" | "none" | "process"``: which drivers run where.

``none`` loads the driver in the host process; ``process`` wraps it in a
``ProcessIsolatedDriver``; ``auto`` (the default) picks ``process`` for the drivers whose
engine is known to abort the host on some programs (V8: ``node``, ``v8``: fatal errors such as
an invalid string length cannot be caught in-process) and ``none`` for the others. A driver
that does not run programs in this process (``cloudflare``) has nothing to isolate: asking
for ``process`` with it is a ``ConfigError``, and ``auto`` leaves it alone.

Pools made here are shared by every driver of the same name, options and size in this
process, so that many code modes on ``node`` start its workers once; they end at interpreter
exit, or with ``close_shared_pools()``.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any, Final, Literal

from codemode.errors import ConfigError
from codemode.isolate import IsolateDriver

if TYPE_CHECKING:
    # Imported where used: a code mode that runs in this process loads no pool or wire.
    from codemode.isolation._pool import WorkerPool

Isolation = Literal["auto", "none", "process"]
ISOLATION_MODES: Final[tuple[str, ...]] = ("auto", "none", "process")
DEFAULT_WORKERS: Final = 4
ABORTS_HOST: Final[frozenset[str]] = frozenset({"node", "v8"})
"""Drivers whose engine can abort the whole process: ``auto`` isolates them."""
NOT_IN_PROCESS: Final[frozenset[str]] = frozenset({"cloudflare"})
"""Drivers that run programs elsewhere already."""

# (driver, options as JSON, size) -> pool. Module-level so that code modes share workers;
# each pool's finalizer ends its workers at interpreter exit.
_shared: dict[tuple[str, str, int], WorkerPool] = {}
_shared_lock = threading.Lock()


def check_isolation(isolation: object, workers: object, where: str = "isolation") -> None:
    """``ConfigError`` unless ``isolation`` is a mode and ``workers`` an integer >= 1."""
    if isolation not in ISOLATION_MODES:
        raise ConfigError(
            f"{where}: must be one of {', '.join(repr(m) for m in ISOLATION_MODES)}, got"
            f" {isolation!r}"
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: must be an integer >= 1, got {workers!r}")


def resolve_isolation(isolation: str, driver: str) -> Literal["none", "process"]:
    """What ``isolation`` means for the driver named ``driver``."""
    check_isolation(isolation, 1)
    if isolation == "process":
        if driver in NOT_IN_PROCESS:
            raise ConfigError(
                f"isolation: 'process' isolates drivers that run programs in this process;"
                f" the driver {driver!r} runs them elsewhere already (use isolation='none' or"
                " 'auto' with it)"
            )
        return "process"
    if isolation == "auto" and driver in ABORTS_HOST:
        return "process"
    return "none"


def shared_pool(driver: str, options: dict[str, Any], workers: int) -> WorkerPool:
    """The process-wide pool for this driver, options and size (made on first use)."""
    try:
        key = (driver, json.dumps(options, sort_keys=True), workers)
    except TypeError as exc:
        raise ConfigError(
            f"the options of driver {driver!r} must be JSON values to reach its worker"
            f" processes: {exc}"
        ) from None
    from codemode.isolation._pool import WorkerPool

    with _shared_lock:
        pool = _shared.get(key)
        if pool is None or pool.closed:
            pool = _shared[key] = WorkerPool(driver, options, size=workers)
        return pool


def close_shared_pools() -> None:
    """End the workers of every shared pool (they start again on next use)."""
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


def isolated_driver(
    name: str,
    options: dict[str, Any] | None = None,
    *,
    isolation: str = "auto",
    workers: int = DEFAULT_WORKERS,
) -> IsolateDriver:
    """The driver ``name`` made with ``options``, in this process or in worker processes."""
    check_isolation(isolation, workers)
    options = dict(options or {})
    if resolve_isolation(isolation, name) == "none":
        from codemode import plugins

        return plugins.load_driver(name, **options)
    from codemode import plugins
    from codemode.isolation._driver import ProcessIsolatedDriver

    plugins.check_options("driver", name, options)  # fails here, not in a worker
    return ProcessIsolatedDriver(name, options, pool=shared_pool(name, options, workers))
