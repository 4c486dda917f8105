"""Memory protection keys (x86-64 ``pku``): what this machine has, and this thread's rights.

V8 guards its code memory with a protection key when the CPU has them (see ``_lineage``).
This module reads, without changing anything, whether the CPU and kernel support keys
(``pku`` and ``ospke`` in ``/proc/cpuinfo``), which keys the process's mappings carry
(``ProtectionKey:`` in ``/proc/self/smaps``) and the calling thread's rights for a key
(glibc's ``pkey_get``, which reads the thread's PKRU register). ``allow_read`` is for the one
case the driver cannot order itself: V8 initialized by other code, on a thread whose rights
the driver's own threads did not inherit.

``pkey_get``/``pkey_set`` execute RDPKRU/WRPKRU, which fault on a CPU or kernel without
keys, so they are only called when ``/proc/cpuinfo`` says both are there.
"""

from __future__ import annotations

import ctypes
import functools
import re
from pathlib import Path
from typing import Final

PKEY_DISABLE_ACCESS: Final = 0x1
PKEY_DISABLE_WRITE: Final = 0x2
_KEY_LINE: Final = re.compile(r"^ProtectionKey:\s+(\d+)\s*$", re.MULTILINE)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU flags the kernel reports (empty where there is no ``/proc/cpuinfo``)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def supported() -> bool:
    """Whether the CPU has protection keys and the kernel enabled them."""
    return {"pku", "ospke"} <= cpu_flags()


def keys_in_use() -> frozenset[int]:
    """Protection keys other than the default (0) on any mapping of this process."""
    try:
        text = Path("/proc/self/smaps").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(int(key) for key in _KEY_LINE.findall(text) if key != "0")


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        libc.pkey_get.argtypes = (ctypes.c_int,)
        libc.pkey_get.restype = ctypes.c_int
        libc.pkey_set.argtypes = (ctypes.c_int, ctypes.c_uint)
        libc.pkey_set.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def rights(key: int) -> int | None:
    """This thread's rights for ``key`` (``PKEY_DISABLE_*`` bits), or None if unknown."""
    libc = _libc()
    if not supported() or libc is None:
        return None
    value = int(libc.pkey_get(key))
    return None if value < 0 else value


def allow_read(key: int) -> bool:
    """Give this thread (and threads it starts later) read access to ``key``'s memory, as V8
    gives the thread that initialized it; writes stay disabled. False if not possible."""
    libc = _libc()
    if not supported() or libc is None:
        return False
    return int(libc.pkey_set(key, PKEY_DISABLE_WRITE)) == 0


def describe() -> str:
    """One line for test reports and error messages."""
    flags = cpu_flags()
    keys = sorted(keys_in_use()) if supported() else []
    return (
        f"CPU memory protection keys: pku {'yes' if 'pku' in flags else 'no'},"
        f" ospke {'yes' if 'ospke' in flags else 'no'}; keys in use: {keys or 'none'}"
    )
