"""The local ``workerd`` runtime: finding or installing the pinned binary, writing its capnp
config, and running it as a process this module owns.

``workerd`` ships only on npm (``workerd``, pinned in ``workerd/package.json``), so it is
installed with ``npm ci`` into a per-user folder (or found in the plugin's own folder, for a
source checkout). The real binary of ``@cloudflare/workerd-<platform>`` is started, never the
``node_modules/.bin`` shim, so that the PID we hold is workerd's own: local workerd enforces no
CPU limit, and a program stuck in ``while (true) {}`` freezes the whole process, which then
only SIGKILL stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from codemode_cloudflare._files import write_worker

WORKERD_VERSION: Final = "1.20261117.1"
"""The npm ``workerd`` version in ``workerd/package.json``."""
WORKER_COMPATIBILITY_DATE: Final = "2025-06-01"


class WorkerdNotFoundError(RuntimeError):
    """No workerd binary, and it cannot be installed here (no npm, or npm failed)."""


def _package_dir() -> Path:
    return Path(str(files("codemode_cloudflare").joinpath("workerd")))


def default_install_dir() -> Path:
    """Where ``codemode cloudflare install`` puts workerd: ``$CODEMODE_WORKERD_DIR``, else a
    per-user cache folder named after the pinned version."""
    override = os.environ.get("CODEMODE_WORKERD_DIR")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "codemode" / f"workerd-{WORKERD_VERSION}"


def _platform_package() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    system = {"linux": "linux", "darwin": "darwin", "win32": "windows"}.get(sys.platform)
    if arch is None or system is None:
        raise WorkerdNotFoundError(f"workerd has no build for {sys.platform} {machine}")
    return f"workerd-{system}-{arch}"


def _binary_in(folder: Path) -> Path:
    name = "workerd.exe" if sys.platform == "win32" else "workerd"
    return folder / "node_modules" / "@cloudflare" / _platform_package() / "bin" / name


def find_workerd() -> Path | None:
    """The workerd binary: ``$CODEMODE_WORKERD``, the plugin's own folder (a source checkout
    after ``npm ci`` there), or the install folder; None when there is none."""
    explicit = os.environ.get("CODEMODE_WORKERD")
    if explicit:
        return Path(explicit)
    for folder in (_package_dir(), default_install_dir()):
        binary = _binary_in(folder)
        if binary.is_file():
            return binary
    return None


def install_workerd(target: Path | None = None) -> Path:
    """``npm ci`` the pinned workerd into ``target`` (default: ``default_install_dir()``);
    returns the binary. ``WorkerdNotFoundError`` when npm is missing or fails."""
    npm = shutil.which("npm")
    if npm is None:
        raise WorkerdNotFoundError(
            "npm is not installed: workerd is distributed only through npm; install Node.js"
            " 20 or later (which includes npm), then run `codemode cloudflare install`"
        )
    target = target or default_install_dir()
    target.mkdir(parents=True, exist_ok=True)
    if target.resolve() != _package_dir().resolve():  # a checkout installs in place
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(_package_dir() / name, target / name)
    command = [npm, "ci", "--prefix", str(target), "--no-audit", "--no-fund", "--loglevel=error"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise WorkerdNotFoundError(f"`{' '.join(command)}` failed:\n{completed.stderr.strip()}")
    binary = _binary_in(target)
    if not binary.is_file():
        raise WorkerdNotFoundError(f"npm installed workerd, but {binary} is missing")
    return binary


def ensure_workerd() -> Path:
    """The workerd binary, installed on first use."""
    return find_workerd() or install_workerd()


def capnp_config(*, insecure: bool) -> str:
    """The workerd config serving the Worker in the same folder on a socket named ``http``.

    The Worker's own outbound network is a service that allows nothing (its programs have
    none either: each child is loaded with ``globalOutbound: null``). The secret is read from
    the ``CODEMODE_SECRET`` environment variable, so it is never written to disk.
    """
    insecure_binding = '(name = "CODEMODE_INSECURE", text = "1"),' if insecure else ""
    return f"""using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "none", network = (allow = [])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "prelude.js", esModule = embed "prelude.js"),
  ],
  compatibilityDate = "{WORKER_COMPATIBILITY_DATE}",
  bindings = [
    (name = "LOADER", workerLoader = ()),
    {insecure_binding}
    (name = "CODEMODE_SECRET", fromEnvironment = "CODEMODE_SECRET"),
  ],
  globalOutbound = "none",
);
"""


class WorkerdProcess:
    """The Worker on a local workerd, listening on loopback: ``async with`` (or ``with``) it,
    or call ``start()`` and ``aclose()`` / ``close()``.

    Requests must carry ``secret``; with none, the Worker refuses to serve unless
    ``insecure`` (local development only: anyone who can reach the port can run code).

    ``port=0`` picks a free port on the first start; ``restart()`` (after ``kill()``, or to
    recover from a frozen process) binds the same port again, so a driver's URL stays valid.
    Starting takes about 50 ms, so the blocking calls are fine outside an event loop; the
    async ones run them on a thread.
    """

    def __init__(
        self,
        folder: Path,
        *,
        secret: str | None,
        insecure: bool = False,
        port: int = 0,
        host: str = "127.0.0.1",
        binary: Path | None = None,
        verbose: bool = False,
    ) -> None:
        self.folder = folder
        self.secret = secret
        self.host = host
        self._port = port
        self._binary = binary
        self._verbose = verbose
        self._process: subprocess.Popen[bytes] | None = None
        write_worker(folder)
        (folder / "config.capnp").write_text(capnp_config(insecure=insecure))

    @property
    def port(self) -> int:
        if self._port == 0:
            raise RuntimeError("workerd has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        """Start workerd and wait until it listens; returns the Worker's URL."""
        if self._process is not None and self._process.poll() is None:
            return self.url
        binary = self._binary or ensure_workerd()
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env["CODEMODE_SECRET"] = self.secret or ""
        command = [
            str(binary),
            "serve",
            "--experimental",
            str(self.folder / "config.capnp"),
            "--socket-addr",
            f"http={self.host}:{self._port}",
            "--control-fd",
            str(write_fd),
        ]
        output = None if self._verbose else subprocess.DEVNULL
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env=env,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        try:
            port = _read_port(read_fd, process)
        except BaseException:
            _kill(process)
            raise
        finally:
            os.close(read_fd)
        self._port = port
        self._process = process
        return self.url

    def kill(self) -> None:
        """SIGKILL workerd now (the only signal a frozen workerd obeys)."""
        if self._process is not None:
            _kill(self._process)

    def restart(self) -> str:
        """Kill workerd and start it again on the same port."""
        self.close()
        return self.start()

    def wait(self) -> int:
        """Block until workerd exits; its exit status."""
        if self._process is None:
            raise RuntimeError("workerd has not been started")
        return self._process.wait()

    def exited(self) -> bool:
        return self._process is None or self._process.poll() is not None

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _kill(process)

    async def astart(self) -> str:
        return await asyncio.to_thread(self.start)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            process.send_signal(signal.SIGKILL)
    process.wait()


def _read_port(fd: int, process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """The port from workerd's ``{"event":"listen","socket":"http","port":N}`` on the
    control pipe; raises if workerd exits first or is not listening within ``timeout``."""
    deadline = time.monotonic() + timeout
    buffer = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise WorkerdNotFoundError(f"workerd did not listen within {timeout:.0f} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            code = process.wait()
            raise WorkerdNotFoundError(
                f"workerd exited (status {code}) before it listened; run it with verbose"
                " output to see why"
            )
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "listen" and event.get("socket") == "http":
                return int(event["port"])
