"""Where a benchmark ran: machine, Python, package versions, git commit, and the drivers.

Everything here goes into the JSON report so that two reports can be compared knowing what
differed between them. Drivers are found through ``codemode.plugins``; a plugin that fails to
import is reported, not benchmarked.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from codemode import plugins

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "codemode",
    "codemode-quickjs",
    "codemode-node-v8",
    "quickjs-ng",
    "mini-racer",
    "orjson",
    "pydantic",
    "tree-sitter",
    "tree-sitter-typescript",
)
ALIASES = {"v8": "node"}
"""Driver names that are another name for an installed driver: not benchmarked twice."""


def _cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor"):
            return value.strip()
    return platform.processor() or None


def _memory_mb() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, where the OS has them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "memory_mb": _memory_mb(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def packages() -> dict[str, str | None]:
    """Versions of the distributions that shape the figures; None when not installed."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.rstrip()


def git() -> dict[str, Any] | None:
    """The commit measured, and the work tree's changes (``git status --porcelain`` lines)."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git("status", "--porcelain")
    changed = status.splitlines() if status else []
    return {"commit": commit, "dirty": bool(changed), "changes": changed}


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@dataclass
class Drivers:
    """Installed driver names to benchmark, aliases left out, and plugins that failed."""

    names: list[str]
    aliases: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    """Entry points that failed to import, ``"name (distribution)" -> reason``."""

    def why_broken(self, name: str) -> str | None:
        for label, reason in self.broken.items():
            if label.split(" (")[0] == name:
                return reason
        return None


def discover_drivers() -> Drivers:
    installed = plugins.names("driver")
    broken = dict(plugins.get_plugin_manager().load_errors)
    aliases = {a: real for a, real in ALIASES.items() if a in installed and real in installed}
    names = [name for name in installed if name not in aliases]
    return Drivers(names=names, aliases=aliases, broken=broken)
