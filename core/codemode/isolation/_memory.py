"""The resident memory of a worker process, read from ``/proc`` (or ``psutil`` elsewhere).

The host polls it while a worker runs a program: an engine's own heap limit does not count
memory that native code allocates beside the heap (ICU tables, a builtin's buffers), and
only a cap on the whole process bounds that.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Final

_PAGE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB: Final = 1024 * 1024


def rss_bytes(pid: int) -> int | None:
    """The process's resident set size, or None if it cannot be read (or is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except FileNotFoundError:
        if not os.path.isdir("/proc"):
            return _psutil_rss(pid)
        return None
    except (OSError, ValueError, IndexError):
        return None


def _psutil_rss(pid: int) -> int | None:
    try:
        psutil: Any = importlib.import_module("psutil")  # optional: not a dependency
    except ImportError:
        return None
    try:
        rss: int = psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None
    return rss
