"""A passed probe, remembered on disk for the next process on the same machine and install.

The probe costs a fresh process about a second (a child that loads V8 and runs the driver),
which every short-lived program would pay before its first result. A verdict can only change
when something it depends on changes, so a passed probe is stored under a key made of all of
it: the probe's command, the interpreter, the files (path, size, modification time) of this
plugin, of the core's sandbox kit and of mini-racer's native library and data (so a new
release, a reinstall or a checkout's edit all change it), the kernel, the C library, and the
CPU's flags (memory protection keys among them, the condition that broke V8 before). A home
folder shared between machines gives each machine its own key. A failed
probe is never stored: it is run again by the next process.

``CODEMODE_NODE_V8_PROBE_CACHE`` names another folder, or ``off``. The cache is an
optimization only: a folder that cannot be read or written means the probe runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

CACHE_VARIABLE = "CODEMODE_NODE_V8_PROBE_CACHE"
FORMAT = 1


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor()


def _file_identity(path: str) -> list[Any]:
    try:
        status = os.stat(path)
    except OSError:
        return [path, None]
    return [os.path.realpath(path), status.st_size, status.st_mtime_ns]


def _native_library() -> list[Any]:
    """mini-racer's own files: its native library and the data it loads."""
    import importlib.util

    spec = importlib.util.find_spec("py_mini_racer")
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent
    return [
        _file_identity(str(path))
        for path in sorted(folder.iterdir())
        if path.suffix in (".so", ".dylib", ".dll", ".bin", ".dat")
    ]


def _libc() -> str:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):  # not glibc, or not a POSIX system
        return platform.libc_ver()[0]


def _sources() -> list[Any]:
    """The files of the code the probe runs (this plugin, and the core's sandbox kit): in a
    checkout or an editable install, editing them changes no version number."""
    import importlib.util

    kit = importlib.util.find_spec("codemode.sandbox")  # found, not imported
    folders = [Path(__file__).parent]
    if kit is not None and kit.origin is not None:
        folders.append(Path(kit.origin).parent)
    return [
        _file_identity(str(path))
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.suffix in (".py", ".js")
    ]


def fingerprint(command: list[str]) -> dict[str, Any]:
    """Everything the probe's verdict depends on."""
    return {
        "format": FORMAT,
        "command": command,
        "interpreter": _file_identity(sys.executable),
        "sources": _sources(),
        "native": _native_library(),
        # os.uname(), not platform.uname(): the latter may start `uname -p` to name the CPU.
        "kernel": [os.uname().sysname, os.uname().release, os.uname().version, os.uname().machine],
        "libc": _libc(),
        "cpu": _cpu_flags(),
    }


def _folder() -> Path | None:
    setting = os.environ.get(CACHE_VARIABLE, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    import platformdirs

    return Path(platformdirs.user_cache_dir("codemode")) / "node-v8-probe"


def _path(command: list[str]) -> Path | None:
    folder = _folder()
    if folder is None:
        return None
    key = json.dumps(fingerprint(command), sort_keys=True, default=str)
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def recall(command: list[str]) -> str | None:
    """The details of a passed probe stored for exactly this command and machine, or None."""
    path = _path(command)
    if path is None:
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("compatible") is not True:
        return None
    details = stored.get("details")
    return details if isinstance(details, str) else ""


def remember(command: list[str], details: str | None) -> None:
    """Store a passed probe (atomically: a reader never sees half a file)."""
    path = _path(command)
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"compatible": True, "details": details or ""})
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".probe-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
