"""The few file operations the storage needs, on a local disk or any fsspec filesystem.

A local disk gets real atomic writes (a temporary file in the same folder, fsync, ``os.replace``)
and a ``filelock.FileLock``. Other filesystems get a single ``pipe_file`` per file (object stores
put objects whole) and, except ``memory://`` (which lives in this process), a lock object made
by exclusive creation (``pipe_file(mode="create")``, which s3fs sends as S3's
``If-None-Match: *``). Every storage on one directory in this process also shares one
``threading.Lock``. Nothing here converts errors: the storage says what it was doing.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Hashable, Iterator
from typing import Any, Final

import filelock
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]
from fsspec.implementations.memory import MemoryFileSystem  # type: ignore[import-untyped]

from codemode.errors import SkillStorageError

LOCK_NAME: Final = ".lock"
LOCK_TIMEOUT: Final = 60.0
"""Seconds to wait for the directory's lock before giving up with ``SkillStorageError``."""
_REPLACE_TRIES: Final = 10
STALE_LOCK_AFTER: Final = 30.0
"""Seconds after which a lock object on an object store is taken as left by a dead process.

Every locked section is a few reads and writes, so a live holder is done long before this."""

# The keys of ``fs.info`` that change when an object is rewritten, across the usual backends
# (local, memory, s3fs, gcsfs, adlfs); whichever a backend gives make up its fingerprint.
_CHANGE_KEYS: Final = (
    "size",
    "ETag",
    "etag",
    "md5Hash",
    "content_md5",
    "generation",
    "version_id",
    "VersionId",
    "mtime",
    "LastModified",
    "last_modified",
    "updated",
    "created",
)

# One lock per directory for the whole process, shared by every storage opened on it: two
# storages on one memory:// path (or one folder) change the same files, so they must exclude
# each other as much as two tasks of one storage do. It grows by one small lock per directory,
# and a forked child starts with none, since a lock held by a thread of the parent at the fork
# would never be released in the child.
_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def process_lock(key: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(key, threading.Lock())


def _forget_process_locks() -> None:
    global _PROCESS_LOCKS_GUARD
    _PROCESS_LOCKS_GUARD = threading.Lock()
    _PROCESS_LOCKS.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_process_locks)


class Files:
    """Paths under one root on one fsspec filesystem, with atomic writes and a lock."""

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.is_local = isinstance(fs, LocalFileSystem)
        self.is_memory = isinstance(fs, MemoryFileSystem)
        self.url: str = self.root if self.is_local else str(fs.unstrip_protocol(self.root))
        """Where the files are, as the user would write it (a path for a local folder)."""
        self._lock_key = str(fs.unstrip_protocol(self.root))
        lock_path = self.path(LOCK_NAME)
        self._file_lock = (
            filelock.FileLock(lock_path, timeout=LOCK_TIMEOUT) if self.is_local else None
        )
        self._object_lock = None if self.is_local or self.is_memory else ObjectLock(fs, lock_path)

    def path(self, *parts: str) -> str:
        return "/".join((self.root.rstrip("/"), *parts))

    # Reading

    def read(self, path: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` if there is none."""
        data = self.fs.cat_file(path)
        if not isinstance(data, bytes):  # pragma: no cover - a backend returning str
            data = bytes(data)
        return data

    def list_folders(self) -> list[str]:
        """The names of the root's sub-folders, sorted; none if the root does not exist."""
        if self.is_local:
            try:
                with os.scandir(self.root) as entries:
                    return sorted(entry.name for entry in entries if entry.is_dir())
            except FileNotFoundError:
                return []
        self.fs.invalidate_cache(self.root)  # s3fs and others cache listings
        try:
            listing = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return []
        names = {
            str(item["name"]).rstrip("/").rsplit("/", 1)[-1]
            for item in listing
            if item.get("type") == "directory"
        }
        return sorted(names)

    def exists(self, path: str) -> bool:
        if self.is_local:
            return os.path.lexists(path)
        self.fs.invalidate_cache(path)
        return bool(self.fs.exists(path))

    def fingerprint(self, path: str) -> Hashable | None:
        """Something that changes whenever the file is rewritten; None if it does not exist."""
        if self.is_local:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                return None
            # os.replace gives each version its own inode; mtime and ctime are nanoseconds.
            return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        self.fs.invalidate_cache(path)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return None
        return tuple((key, str(info[key])) for key in _CHANGE_KEYS if key in info)

    # Writing

    def make_folder(self, path: str) -> None:
        if self.is_local:
            os.makedirs(path, exist_ok=True)
        else:
            self.fs.makedirs(path, exist_ok=True)

    def write(self, path: str, data: bytes, *, sync_folder: bool = True) -> None:
        """Replace the file's content in one step: a reader sees the old bytes or the new.

        ``sync_folder=False`` leaves the rename itself to the system's next flush: after a
        crash the file holds the old bytes or the new, whole; only the change may be lost.
        """
        if self.is_local:
            _write_local(path, data, sync_folder)
        else:
            self.fs.pipe_file(path, data)

    def remove(self, path: str) -> None:
        """Remove one file, if it is there."""
        with contextlib.suppress(FileNotFoundError):
            if self.is_local:
                os.unlink(path)
            else:
                self.fs.rm_file(path)

    def remove_folder(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=True)
        if self.is_local:
            _fsync_folder(self.root)

    # Locking

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this directory's lock: the process's, then the file lock or lock object.

        Call it in a worker thread: it blocks until the lock is free (up to ``LOCK_TIMEOUT``).
        """
        in_process = process_lock(self._lock_key)  # looked up each time: see _PROCESS_LOCKS
        if not in_process.acquire(timeout=LOCK_TIMEOUT):
            raise SkillStorageError(
                f"timed out after {LOCK_TIMEOUT:.0f} s waiting for another thread's write"
                f" to the skill directory {self.url}"
            )
        try:
            if self._file_lock is not None:
                try:
                    self._file_lock.acquire()
                except filelock.Timeout:
                    raise SkillStorageError(
                        f"timed out after {LOCK_TIMEOUT:.0f} s waiting for the lock"
                        f" {self._file_lock.lock_file} of the skill directory {self.url}"
                        " (another process holds it)"
                    ) from None
                try:
                    yield
                finally:
                    self._file_lock.release()
            elif self._object_lock is not None:
                with self._object_lock:
                    yield
            else:
                yield
        finally:
            in_process.release()


class ObjectLock:
    """A lock held by the existence of one object, created only if absent.

    It excludes other processes only where the backend creates atomically (S3 through s3fs
    with ``If-None-Match``; fsspec's generic fallback checks and then writes, which leaves a
    window). A lock older than ``STALE_LOCK_AFTER`` is taken as abandoned and removed.
    """

    def __init__(self, fs: Any, path: str) -> None:
        self.fs = fs
        self.path = path
        self._token: str | None = None

    def __enter__(self) -> None:
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        body = json.dumps({"owner": token, "acquiredAt": time.time()}).encode()
        deadline = time.monotonic() + LOCK_TIMEOUT
        pause = 0.01
        while True:
            try:
                self.fs.pipe_file(self.path, body, mode="create")
            except FileExistsError:
                self._remove_if_stale()
            else:
                self._token = token
                return
            if time.monotonic() > deadline:
                raise SkillStorageError(
                    f"timed out after {LOCK_TIMEOUT:.0f} s waiting for the lock object"
                    f" {self.fs.unstrip_protocol(self.path)} (another process holds it; if"
                    f" none does, it is removed {STALE_LOCK_AFTER:.0f} s after it was taken)"
                )
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.1)

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        # Not raised: the work under the lock is done, and a lock left behind goes stale.
        with contextlib.suppress(OSError):
            if token is not None and self._owner() == token:
                self.fs.rm_file(self.path)

    def _owner(self) -> str | None:
        try:
            held = json.loads(self.fs.cat_file(self.path))
        except FileNotFoundError:
            return None
        except ValueError:
            return ""
        return str(held.get("owner")) if isinstance(held, dict) else ""

    def _remove_if_stale(self) -> None:
        try:
            held = json.loads(self.fs.cat_file(self.path))
            taken = float(held["acquiredAt"])
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError):
            taken = 0.0  # not a lock we wrote: unreadable, so nobody can release it but us
        if time.time() - taken > STALE_LOCK_AFTER:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(self.path)


def _write_local(path: str, data: bytes, sync_folder: bool) -> None:
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
        )
        with open(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            # The data, and the size that finds it, are on the disk before the rename (what
            # makes the replace safe across a crash); fdatasync skips the other metadata.
            getattr(os, "fdatasync", os.fsync)(file.fileno())
        _replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if sync_folder:
        _fsync_folder(folder)


def _replace(source: str, target: str) -> None:
    # On Windows a file another process has open cannot be replaced for a moment: retry.
    for attempt in range(_REPLACE_TRIES):
        try:
            os.replace(source, target)
        except PermissionError:
            if os.name != "nt" or attempt == _REPLACE_TRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))  # pragma: no cover - Windows only
        else:
            return


def _fsync_folder(folder: str) -> None:
    """Make a rename or removal in ``folder`` durable (POSIX; Windows has no folder fsync)."""
    if os.name == "nt":  # pragma: no cover - not run on CI
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some filesystems refuse a folder fsync; the rename itself has happened
    finally:
        os.close(descriptor)
