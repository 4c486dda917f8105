"""``SqliteSkillStorage``: skills in one SQLite file, shared safely by tasks, threads and
processes.

One row per skill (``skills``: name, first-save position, the ``meta.json`` fields as JSON,
code, content hash). The database is in WAL mode, and every read-modify-write (``save``,
``delete``, ``update_stats``) is one ``BEGIN IMMEDIATE`` transaction, so SQLite's own locking
(with a busy timeout) serialises writers across threads and processes and no update is lost.
Blocking calls run in ``asyncio.to_thread``; each thread has its own connection, as sqlite3
connections are not meant to cross threads. The shared rules (``prepare_save``,
``record_run``, ``check_loaded``) are applied exactly as the memory storage applies them.

Search uses a ``SkillSearchIndex`` cached until the data changes: triggers bump a counter row
on any change a search could see (by this process, another one, or a hand edit in the
``sqlite3`` shell), and a run that only moves the stats does not.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from codemode.errors import ConfigError, CorruptSkillError, SkillNameError, SkillStorageError
from codemode.skills import (
    Skill,
    SkillIndexEntry,
    SkillSearchIndex,
    check_loaded,
    check_skill_name,
    prepare_save,
    record_run,
)
from codemode.trust import TrustStrategy, create_default_trust_strategy

__all__ = ["SqliteSkillStorage", "SqliteStorageWarning", "create_sqlite_skill_storage"]

T = TypeVar("T")

DEFAULT_PATH: Final = "./skills.db"
DB_FILE_NAME: Final = "skills.db"
"""The file made inside ``directory=`` (the ``[skills] directory`` of a config)."""
BUSY_TIMEOUT_SECONDS: Final = 30.0
"""How long a connection waits for another writer's lock before failing."""
SCHEMA_VERSION: Final = 1
"""Kept in ``PRAGMA user_version``; a file written by a newer version is refused."""

# The counter row moves with every change a search index could see. An update that changes
# only the stats and updatedAt (a run that keeps the level) leaves it, so the index is kept.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS skills (
    name TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL UNIQUE,
    meta TEXT NOT NULL,
    code TEXT NOT NULL,
    content_hash TEXT
);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO changes (id, version) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS skills_inserted AFTER INSERT ON skills BEGIN
    UPDATE changes SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS skills_deleted AFTER DELETE ON skills BEGIN
    UPDATE changes SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS skills_updated AFTER UPDATE ON skills
WHEN old.name IS NOT new.name
    OR old.code IS NOT new.code
    OR old.content_hash IS NOT new.content_hash
    OR CASE WHEN json_valid(old.meta) AND json_valid(new.meta)
        THEN json_remove(old.meta, '$.stats', '$.updatedAt')
            IS NOT json_remove(new.meta, '$.stats', '$.updatedAt')
        ELSE 1 END
BEGIN
    UPDATE changes SET version = version + 1 WHERE id = 1;
END;
"""


class SqliteStorageWarning(UserWarning):
    """A stored row could not be read back and was skipped (``load_index`` / ``load_all``)."""


def _is_valid_name(name: str) -> bool:
    try:
        check_skill_name(name)
    except SkillNameError:
        return False
    return True


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions, only the explicit BEGIN ... COMMIT below.
    # check_same_thread=False only so that close() may close every thread's connection; each
    # connection is otherwise used by the one thread that opened it.
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL mode
    return connection


def _close_all(connections: dict[threading.Thread, sqlite3.Connection]) -> None:
    for connection in connections.values():
        connection.close()
    connections.clear()


@contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: the write lock is taken first, so no one writes in between."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class SqliteSkillStorage:
    """A ``SkillStorage`` in a SQLite file; make one with ``create_sqlite_skill_storage()``.

    Use it as ``async with`` (or call ``aclose()``) to close its connections; they are also
    closed when the storage is garbage-collected.
    """

    trust_strategy: TrustStrategy

    def __init__(
        self, path: str | os.PathLike[str], trust_strategy: TrustStrategy | None = None
    ) -> None:
        self.path = Path(path)
        self.trust_strategy = (
            create_default_trust_strategy() if trust_strategy is None else trust_strategy
        )
        self._lock = threading.Lock()  # guards the connections and the cached index
        self._connections: dict[threading.Thread, sqlite3.Connection] = {}
        self._closed = False
        self._search: tuple[int, SkillSearchIndex] | None = None
        self._finalizer = weakref.finalize(self, _close_all, self._connections)
        self._create_schema()

    def __repr__(self) -> str:
        return f"SqliteSkillStorage({str(self.path)!r}, trust_strategy={self.trust_strategy!r})"

    async def __aenter__(self) -> SqliteSkillStorage:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection; the storage cannot be used afterwards."""
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._finalizer()

    # The protocol.

    async def load_index(self) -> list[SkillIndexEntry]:
        return [skill.index_entry() for skill in await self._call(self._load_all)]

    async def load_all(self) -> list[Skill]:
        return await self._call(self._load_all)

    async def get(self, name: str) -> Skill | None:
        if not _is_valid_name(name):
            return None
        return await self._call(self._get, name)

    async def save(self, skill: Skill) -> Skill:
        # Again, though a Skill checks its name: model_construct() skips validation.
        check_skill_name(skill.name)
        return await self._call(self._save, skill.model_copy(deep=True))

    async def delete(self, name: str) -> bool:
        if not _is_valid_name(name):
            return False
        return await self._call(self._delete, name)

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        if limit <= 0 or not query.strip():
            return []  # what the index would answer, without building one
        index = await self._call(self._search_index)
        # The index never changes once built, so it is searched outside any lock.
        return [entry.model_copy(deep=True) for entry in index.search(query, limit)]

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        check_skill_name(name)
        return await self._call(self._update_stats, name, success)

    # Blocking parts, each run in a worker thread on that thread's connection.

    async def _call(self, step: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._in_thread, step, *args)

    def _in_thread(self, step: Callable[..., T], *args: Any) -> T:
        try:
            return step(self._connection(), *args)
        except sqlite3.Error as exc:
            raise SkillStorageError(f"{self.path}: {type(exc).__name__}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        thread = threading.current_thread()
        with self._lock:
            if self._closed:
                raise SkillStorageError(f"{self.path}: the skill storage is closed")
            connection = self._connections.get(thread)
            if connection is None:
                # Worker threads come and go (each asyncio.run has its own executor): the
                # connections of ended threads are closed, so their number stays bounded.
                for ended in [t for t in self._connections if not t.is_alive()]:
                    self._connections.pop(ended).close()
                connection = self._connections[thread] = _connect(self.path)
        return connection

    def _create_schema(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = _connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise SkillStorageError(f"{self.path}: cannot open the database: {exc}") from exc
        try:
            # Persistent in the file: readers never block the one writer, nor it them.
            connection.execute("PRAGMA journal_mode = WAL")
            with _immediate(connection):
                (version,) = connection.execute("PRAGMA user_version").fetchone()
                if version > SCHEMA_VERSION:
                    raise SkillStorageError(
                        f"{self.path}: written by a newer codemode-example-sqlite (schema"
                        f" {version}; this one reads {SCHEMA_VERSION})"
                    )
                for statement in _statements(_SCHEMA):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise SkillStorageError(f"{self.path}: cannot create the tables: {exc}") from exc
        finally:
            connection.close()

    def _load_all(self, connection: sqlite3.Connection) -> list[Skill]:
        rows = connection.execute(
            "SELECT name, meta, code, content_hash FROM skills ORDER BY position"
        ).fetchall()
        skills = []
        for row in rows:
            try:
                skills.append(check_loaded(self._decode(*row), self.trust_strategy))
            except CorruptSkillError as exc:
                warnings.warn(f"skipped: {exc}", SqliteStorageWarning, stacklevel=2)
        return skills

    def _get(self, connection: sqlite3.Connection, name: str) -> Skill | None:
        row = _row(connection, name)
        return None if row is None else check_loaded(self._decode(*row), self.trust_strategy)

    def _save(self, connection: sqlite3.Connection, skill: Skill) -> Skill:
        with _immediate(connection):
            row = _row(connection, skill.name)
            try:
                existing = None if row is None else self._decode(*row)
            except CorruptSkillError:
                existing = None  # saving over an unreadable row is how it is repaired
            stored = prepare_save(existing, skill, self.trust_strategy)
            meta, code, digest = _encode(stored)
            if row is None:
                connection.execute(
                    "INSERT INTO skills (name, position, meta, code, content_hash)"
                    " VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM skills), ?, ?, ?)",
                    (stored.name, meta, code, digest),
                )
            else:
                _update(connection, stored.name, meta, code, digest)
        # What a later get() answers: the row as written, read back.
        return self._decode(stored.name, meta, code, digest)

    def _delete(self, connection: sqlite3.Connection, name: str) -> bool:
        with _immediate(connection):
            cursor = connection.execute("DELETE FROM skills WHERE name = ?", (name,))
        return cursor.rowcount > 0

    def _update_stats(
        self, connection: sqlite3.Connection, name: str, success: bool
    ) -> Skill | None:
        with _immediate(connection):
            row = _row(connection, name)
            if row is None:
                return None
            existing = check_loaded(self._decode(*row), self.trust_strategy)
            updated = record_run(existing, success, self.trust_strategy)
            meta, code, digest = _encode(updated)
            _update(connection, name, meta, code, digest)
        return self._decode(name, meta, code, digest)

    def _search_index(self, connection: sqlite3.Connection) -> SkillSearchIndex:
        version = _change_count(connection)
        with self._lock:
            cached = self._search
        if cached is not None and cached[0] == version:
            return cached[1]
        # A read transaction: the rows and the counter come from one snapshot.
        connection.execute("BEGIN")
        try:
            version = _change_count(connection)
            skills = self._load_all(connection)
        finally:
            connection.execute("COMMIT")
        index = SkillSearchIndex([skill.index_entry() for skill in skills])
        with self._lock:
            if self._search is None or self._search[0] < version:
                self._search = (version, index)
        return index

    def _decode(self, name: str, meta: str, code: str, digest: str | None) -> Skill:
        try:
            fields = json.loads(meta)
            if not isinstance(fields, dict):
                raise TypeError(f"meta is a JSON {type(fields).__name__}, not an object")
            return Skill.from_meta({**fields, "name": name, "contentHash": digest}, code)
        except (ValueError, TypeError) as exc:  # ValidationError and JSONDecodeError included
            reason = (
                f"invalid fields: {exc.errors(include_url=False)}"
                if isinstance(exc, ValidationError)
                else str(exc)
            )
            raise CorruptSkillError(f"{self.path} (skill {name!r})", reason) from exc


def _statements(script: str) -> list[str]:
    """The statements of ``script`` (a trigger's body holds semicolons of its own)."""
    statements, current = [], ""
    for line in script.strip().splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _row(connection: sqlite3.Connection, name: str) -> tuple[str, str, str, str | None] | None:
    row: tuple[str, str, str, str | None] | None = connection.execute(
        "SELECT name, meta, code, content_hash FROM skills WHERE name = ?", (name,)
    ).fetchone()
    return row


def _update(connection: sqlite3.Connection, name: str, meta: str, code: str, digest: str) -> None:
    connection.execute(
        "UPDATE skills SET meta = ?, code = ?, content_hash = ? WHERE name = ?",
        (meta, code, digest, name),
    )


def _change_count(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute("SELECT version FROM changes WHERE id = 1").fetchone()
    return int(version)


def _encode(skill: Skill) -> tuple[str, str, str]:
    """``(meta, code, content_hash)`` of a row; name and hash have columns of their own."""
    meta = skill.to_meta()
    del meta["name"], meta["contentHash"]
    digest = skill.content_hash or skill.computed_hash()
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")), skill.code, digest


def create_sqlite_skill_storage(
    path: str | os.PathLike[str] = DEFAULT_PATH,
    trust_strategy: TrustStrategy | None = None,
    *,
    directory: str | os.PathLike[str] | None = None,
) -> SqliteSkillStorage:
    """A skill storage in the SQLite file ``path`` (made if missing), or in
    ``<directory>/skills.db`` when ``directory`` is given; the default trust strategy unless
    one is given."""
    if directory is not None:
        if os.fspath(path) != DEFAULT_PATH:
            raise ConfigError("give the sqlite skill storage a path or a directory, not both")
        if "://" in os.fspath(directory):
            raise ConfigError(
                f"the sqlite skill storage needs a local folder, not the URL {directory!r}"
            )
        path = Path(directory).expanduser() / DB_FILE_NAME
    return SqliteSkillStorage(Path(path).expanduser(), trust_strategy)
