"""``FileSkillStorage``: skills as files in TanStack AI's layout, on a local disk or fsspec.

::

    <directory>/
      _index.json            [{id, name, description, usageHints, trustLevel}, ...]
      fetch_github_stats/
        meta.json            every Skill field but code, camelCase
        code.ts              the program

A skill exists once its ``meta.json`` does. A save writes ``code.ts``, then ``meta.json``, then
the index, under the directory's lock; the index is a catalog, rebuilt from the folders when it
cannot be read (``reindex``). It is parsed once and kept, with its search index, until the file
changes. Every method does its file I/O in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import fsspec.core  # type: ignore[import-untyped]  # fsspec ships no type hints
import orjson
from pydantic import TypeAdapter, ValidationError

from codemode.errors import (
    ConfigError,
    CorruptSkillError,
    SkillError,
    SkillNameError,
    SkillStorageError,
)
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
from codemode_storage_fs._files import Files

__all__ = [
    "CODE_FILE",
    "INDEX_FILE",
    "META_FILE",
    "FileSkillStorage",
    "ReindexReport",
    "SkillStorageWarning",
]

INDEX_FILE: Final = "_index.json"
META_FILE: Final = "meta.json"
CODE_FILE: Final = "code.ts"
REINDEX_HINT: Final = "run `codemode skills reindex` to rebuild it"
INDEX_KEYS: Final = ("id", "name", "description", "usageHints", "trustLevel")

_T = TypeVar("_T")
_ENTRIES: Final = TypeAdapter(list[SkillIndexEntry])
"""Validates and dumps a whole index in one call: five times faster than entry by entry."""
TANSTACK_NAME: Final = re.compile(r"[A-Za-z0-9_-]+")
"""The names TanStack accepts. Those that are not snake_case (``fetchData``, ``get-weather``)
are not ours to load, but their index entries are kept as they are, for TanStack."""

Foreign = tuple[tuple[int, dict[str, Any]], ...]
"""TanStack-only index entries, verbatim, each with its position in the index."""


class SkillStorageWarning(UserWarning):
    """A stored skill or the index could not be read and was skipped; the message names it."""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """What ``FileSkillStorage.reindex()`` wrote into ``_index.json``, and what it left out."""

    index_file: str
    indexed: tuple[str, ...] = ()
    """The names now in the index, in its order."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Folders that hold no readable skill: folder path -> why."""
    kept: tuple[str, ...] = ()
    """TanStack skills whose names are not snake_case: listed in the index for TanStack."""


@dataclass(slots=True)
class _Catalog:
    """``_index.json`` as parsed (or, when it cannot be, the skills found in the folders)."""

    fingerprint: Hashable | None
    entries: list[SkillIndexEntry]
    foreign: Foreign = ()
    notes: tuple[str, ...] = ()
    """Warnings each use of this catalog repeats: the index is missing or unreadable."""
    search_index: SkillSearchIndex | None = None


class _BadIndex(Exception):
    pass


class FileSkillStorage:
    """A ``SkillStorage`` in a folder or under any fsspec URL; see ``create_file_skill_storage``.

    Beyond the protocol it has ``reindex()``, which rebuilds ``_index.json`` from the folders.
    """

    trust_strategy: TrustStrategy

    def __init__(
        self,
        directory: str = "./.skills",
        trust_strategy: TrustStrategy | None = None,
        **fsspec_options: Any,
    ) -> None:
        try:
            fs, root = fsspec.core.url_to_fs(directory, **fsspec_options)
        except (ImportError, ValueError, TypeError) as exc:
            # An unknown protocol, a backend not installed ("Install s3fs to access S3"), or
            # options the backend does not take.
            raise ConfigError(f"cannot open the skill directory {directory!r}: {exc}") from exc
        self.directory = directory
        """The directory or URL as given."""
        self.trust_strategy = (
            create_default_trust_strategy() if trust_strategy is None else trust_strategy
        )
        self._files = Files(fs, str(root))
        self._index_path = self._files.path(INDEX_FILE)
        # Replaced whole, never changed in place, so threads may read it without a lock.
        self._catalog_cache: _Catalog | None = None

    @property
    def location(self) -> str:
        """Where the skills are: an absolute path for a local folder, else the fsspec URL."""
        return self._files.url

    def __repr__(self) -> str:
        return f"FileSkillStorage({self.location!r}, trust_strategy={self.trust_strategy!r})"

    # The protocol

    async def load_index(self) -> list[SkillIndexEntry]:
        catalog = await self._run("read the index", self._catalog)
        _warn(catalog.notes)
        return [_copy(entry) for entry in catalog.entries]

    async def load_all(self) -> list[Skill]:
        skills, notes = await self._run("read the skills", self._load_all)
        _warn(notes)
        return skills

    async def get(self, name: str) -> Skill | None:
        if not _is_valid_name(name):
            return None
        skill = await self._run(f"read the skill {name!r}", self._load_skill, name)
        return None if skill is None else check_loaded(skill, self.trust_strategy)

    async def save(self, skill: Skill) -> Skill:
        # Again, though a Skill checks its name: model_construct() skips validation.
        check_skill_name(skill.name)
        return await self._run(f"save the skill {skill.name!r}", self._save, skill)

    async def delete(self, name: str) -> bool:
        if not _is_valid_name(name):
            return False
        return await self._run(f"delete the skill {name!r}", self._delete, name)

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        index, notes = await self._run("read the index", self._search_index)
        _warn(notes)
        return [_copy(entry) for entry in index.search(query, limit)]

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        check_skill_name(name)
        return await self._run(
            f"record a run of the skill {name!r}", self._update_stats, name, success
        )

    # Beyond the protocol

    async def reindex(self) -> ReindexReport:
        """Rebuild ``_index.json`` from the skill folders (``codemode skills reindex``)."""
        return await self._run("rebuild the index", self._reindex)

    # The work, in a worker thread

    async def _run(self, doing: str, work: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.to_thread(self._translated, doing, work, *args)

    def _translated(self, doing: str, work: Callable[..., _T], *args: Any) -> _T:
        try:
            return work(*args)
        except (SkillError, ValidationError):
            raise
        except (OSError, NotImplementedError, ValueError) as exc:
            # Read-only fsspec filesystems raise NotImplementedError or ValueError.
            raise SkillStorageError(
                f"skill directory {self.location}: cannot {doing}: {_reason(exc)}"
            ) from exc

    def _catalog(self) -> _Catalog:
        fingerprint = self._files.fingerprint(self._index_path)
        cached = self._catalog_cache
        if cached is not None and fingerprint is not None and cached.fingerprint == fingerprint:
            return cached
        catalog = self._read_catalog(fingerprint)
        if fingerprint is not None:
            self._catalog_cache = catalog
        return catalog

    def _read_catalog(self, fingerprint: Hashable | None) -> _Catalog:
        if fingerprint is not None:
            try:
                data = self._files.read(self._index_path)
            except FileNotFoundError:  # removed since it was looked at
                return self._read_catalog(None)
            try:
                return _Catalog(fingerprint, *_parse_index(data))
            except _BadIndex as exc:
                problem = f"{self._index_path} is unreadable ({exc})"
        else:
            problem = f"{self._index_path} is missing"
        skills, foreign, skipped = self._scan()
        notes = [f"{path}: skipped ({reason})" for path, reason in skipped.items()]
        if fingerprint is not None or skills:
            notes.insert(
                0,
                f"{problem}; using the {len(skills)} skill(s) found in the skill folders"
                f" instead; {REINDEX_HINT}",
            )
        entries = [check_loaded(skill, self.trust_strategy).index_entry() for skill in skills]
        foreign_at = tuple((len(entries) + i, item) for i, (_, item) in enumerate(foreign))
        return _Catalog(fingerprint, entries, foreign_at, tuple(notes))

    def _search_index(self) -> tuple[SkillSearchIndex, tuple[str, ...]]:
        catalog = self._catalog()
        if catalog.search_index is None:
            catalog.search_index = SkillSearchIndex(catalog.entries)
        return catalog.search_index, catalog.notes

    def _load_all(self) -> tuple[list[Skill], list[str]]:
        catalog = self._catalog()
        notes = list(catalog.notes)
        skills = []
        for entry in catalog.entries:
            try:
                skill = self._load_skill(entry.name)
            except CorruptSkillError as exc:
                notes.append(f"skipped the skill {entry.name!r}: {exc}")
                continue
            except OSError as exc:
                notes.append(f"skipped the skill {entry.name!r}: {_reason(exc)}")
                continue
            if skill is None:
                notes.append(
                    f"{self._index_path} lists the skill {entry.name!r}, but"
                    f" {self._files.path(entry.name, META_FILE)} does not exist; {REINDEX_HINT}"
                )
                continue
            skills.append(check_loaded(skill, self.trust_strategy))
        return skills, notes

    def _load_skill(self, name: str) -> Skill | None:
        """The skill as stored (before ``check_loaded``), or None if it has no meta.json."""
        raw = self._read_raw(name)
        if raw is None:
            return None
        skill = self._parse_skill(name, *raw)
        if skill.content_hash is None or skill.content_hash == skill.computed_hash():
            return skill
        # Edited by hand, or read between a save's code.ts and its meta.json: a save holds
        # the lock across both, so what is read under it is what is really stored.
        try:
            with self._files.locked():
                raw = self._read_raw(name)
        except CorruptSkillError:
            raise
        except (SkillStorageError, OSError, NotImplementedError, ValueError):
            return skill  # a read-only directory cannot be locked: nothing is being written
        return None if raw is None else self._parse_skill(name, *raw)

    def _read_raw(self, name: str) -> tuple[bytes, bytes] | None:
        meta_path = self._files.path(name, META_FILE)
        code_path = self._files.path(name, CODE_FILE)
        try:
            meta = self._files.read(meta_path)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise CorruptSkillError(meta_path, "is a folder, not a file") from None
        try:
            code = self._files.read(code_path)
        except FileNotFoundError:
            raise CorruptSkillError(
                code_path, f"is missing, though {META_FILE} beside it is there"
            ) from None
        except IsADirectoryError:
            raise CorruptSkillError(code_path, "is a folder, not a file") from None
        return meta, code

    def _parse_skill(self, name: str, meta_data: bytes, code_data: bytes) -> Skill:
        meta_path = self._files.path(name, META_FILE)
        try:
            meta = _loads(meta_data)
        except ValueError as exc:
            raise CorruptSkillError(meta_path, f"not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise CorruptSkillError(meta_path, f"not a JSON object but {_kind(meta)}")
        if meta.get("name") != name:
            found = "no name" if "name" not in meta else f"the name {meta['name']!r}"
            raise CorruptSkillError(
                meta_path, f"it has {found}, but its folder is {name!r} (the two must agree)"
            )
        try:
            code = code_data.decode("utf-8")
        except UnicodeDecodeError as exc:
            code_path = self._files.path(name, CODE_FILE)
            raise CorruptSkillError(code_path, f"not UTF-8 text ({exc})") from None
        try:
            return Skill.from_meta(meta, code)
        except ValidationError as exc:
            raise CorruptSkillError(meta_path, f"not a valid skill: {_describe(exc)}") from None

    def _scan(self) -> tuple[list[Skill], Foreign, dict[str, str]]:
        """Every readable skill in the folders (oldest first), the TanStack-only skills' index
        entries, and the folders skipped, with why."""
        skills: list[Skill] = []
        foreign: list[tuple[int, dict[str, Any]]] = []
        skipped: dict[str, str] = {}
        for folder in self._files.list_folders():
            if folder.startswith("."):
                continue  # .git and the like: not ours
            path = self._files.path(folder)
            try:
                if not _is_valid_name(folder) and TANSTACK_NAME.fullmatch(folder):
                    item = self._foreign_entry(folder)
                    if item is not None:
                        foreign.append((len(foreign), item))
                        continue
                check_skill_name(folder)
                raw = self._read_raw(folder)
                if raw is None:
                    skipped[path] = f"no {META_FILE}: a save that did not finish, or not a skill"
                    continue
                skills.append(self._parse_skill(folder, *raw))
            except SkillNameError as exc:
                skipped[path] = f"not a skill name: {exc}"
            except CorruptSkillError as exc:
                skipped[path] = str(exc)
            except OSError as exc:
                skipped[path] = _reason(exc)
        skills.sort(key=_age)
        return skills, tuple(foreign), skipped

    def _foreign_entry(self, folder: str) -> dict[str, Any] | None:
        """The index entry of a TanStack skill whose name is not ours, from its meta.json."""
        try:
            meta = _loads(self._files.read(self._files.path(folder, META_FILE)))
        except (FileNotFoundError, IsADirectoryError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("name") != folder:
            return None
        return {key: meta[key] for key in INDEX_KEYS if key in meta}

    def _save(self, skill: Skill) -> Skill:
        files = self._files
        try:
            files.make_folder(files.root)
        except (OSError, NotImplementedError, ValueError) as exc:
            raise SkillStorageError(
                f"cannot create the skill directory {self.location}: {_reason(exc)}"
            ) from exc
        folder = files.path(skill.name)
        meta_path = files.path(skill.name, META_FILE)
        code_path = files.path(skill.name, CODE_FILE)
        with files.locked():
            old_meta = _read_or_none(files, meta_path)
            old_code = _read_or_none(files, code_path)
            existing = None
            if old_meta is not None and old_code is not None:
                # A corrupt skill is replaced as if there were none.
                with contextlib.suppress(CorruptSkillError):
                    existing = self._parse_skill(skill.name, old_meta, old_code)
            # Schemas as they will read back: a whole float is written, and read, as an integer
            # (as JavaScript does), and the content hash must be that of what is read back.
            as_written = skill.model_copy(
                update={
                    "input_schema": _js_numbers(skill.input_schema),
                    "output_schema": _js_numbers(skill.output_schema),
                }
            )
            stored = prepare_save(existing, as_written, self.trust_strategy)
            code_data = stored.code.encode("utf-8")
            meta_data = _dumps(_js_numbers(stored.to_meta()))
            had_folder = files.exists(folder)
            wrote: list[str] = []
            try:
                files.make_folder(folder)
                if code_data != old_code:
                    files.write(code_path, code_data)
                    wrote.append(code_path)
                files.write(meta_path, meta_data)
                wrote.append(meta_path)
                catalog = self._catalog()
                self._write_index(
                    _with_entry(catalog.entries, stored.index_entry()), catalog.foreign
                )
            except BaseException:
                # Put back what was there, so a failed save leaves no half-written skill.
                if not had_folder:
                    with contextlib.suppress(Exception):
                        files.remove_folder(folder)
                else:
                    _restore(files, meta_path, old_meta, meta_path in wrote)
                    _restore(files, code_path, old_code, code_path in wrote)
                raise
        return stored

    def _delete(self, name: str) -> bool:
        files = self._files
        folder = files.path(name)
        if not files.exists(folder):
            if _entry(self._catalog().entries, name) is not None:
                with files.locked():  # a crash left it in the index: tidy up
                    catalog = self._catalog()
                    entries = [entry for entry in catalog.entries if entry.name != name]
                    self._write_index(entries, catalog.foreign)
            return False
        meta_path = files.path(name, META_FILE)
        with files.locked():
            existed = files.exists(meta_path)
            files.remove(meta_path)  # first: without it there is no skill
            catalog = self._catalog()
            entries = [entry for entry in catalog.entries if entry.name != name]
            if len(entries) != len(catalog.entries) or catalog.notes:
                self._write_index(entries, catalog.foreign)
            files.remove_folder(folder)
        return existed

    def _update_stats(self, name: str, success: bool) -> Skill | None:
        files = self._files
        if not files.exists(files.path(name, META_FILE)):
            return None
        with files.locked():
            raw = self._read_raw(name)
            if raw is None:
                return None
            stored = self._parse_skill(name, *raw)
            loaded = check_loaded(stored, self.trust_strategy)
            # After a hand edit, record_run also records the new content hash, so the fresh
            # stats count runs of the code as it is now.
            updated = record_run(loaded, success, self.trust_strategy)
            # One more count of an existing file: written whole and synced, but the rename is
            # not flushed at once (a crash may cost this count, never the file); a save syncs it.
            files.write(
                files.path(name, META_FILE),
                _dumps(_js_numbers(updated.to_meta())),
                sync_folder=False,
            )
            catalog = self._catalog()
            entry = updated.index_entry()
            if catalog.notes or _entry(catalog.entries, name) != entry:
                self._write_index(_with_entry(catalog.entries, entry), catalog.foreign)
        return updated

    def _reindex(self) -> ReindexReport:
        files = self._files
        files.make_folder(files.root)
        with files.locked():
            order = _index_order(_read_or_none(files, self._index_path))
            skills, foreign, skipped = self._scan()
            skills.sort(key=lambda skill: order.get(skill.name, len(order)))  # stable
            entries = [check_loaded(skill, self.trust_strategy).index_entry() for skill in skills]
            foreign_at = tuple((order.get(item["name"], len(order)), item) for _, item in foreign)
            self._write_index(entries, tuple(sorted(foreign_at, key=lambda at: at[0])))
        return ReindexReport(
            index_file=self._index_path,
            indexed=tuple(entry.name for entry in entries),
            skipped=skipped,
            kept=tuple(item["name"] for _, item in foreign),
        )

    def _write_index(self, entries: list[SkillIndexEntry], foreign: Foreign) -> None:
        """Write ``_index.json`` (holding the lock) and keep what was written as the catalog."""
        items: list[Any] = _ENTRIES.dump_python(entries, mode="json", by_alias=True)
        for position, item in foreign:
            items.insert(min(position, len(items)), item)
        self._files.write(self._index_path, _dumps(items))
        fingerprint = self._files.fingerprint(self._index_path)
        self._catalog_cache = _Catalog(fingerprint, list(entries), foreign)


def _loads(data: bytes) -> Any:
    """JSON from UTF-8 bytes (a byte order mark allowed, as editors on Windows write one)."""
    return json.loads(data.decode("utf-8-sig"))


def _parse_index(data: bytes) -> tuple[list[SkillIndexEntry], Foreign]:
    try:
        items = _loads(data)
    except ValueError as exc:
        raise _BadIndex(f"not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise _BadIndex(f"not a JSON array but {_kind(items)}")
    ours: list[dict[str, Any]] = []
    foreign: list[tuple[int, dict[str, Any]]] = []
    names: set[str] = set()
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise _BadIndex(f"entry {position} is {_kind(item)}, not an object")
        name = item.get("name")
        if isinstance(name, str):
            if name in names:
                raise _BadIndex(f"entry {position} repeats the name {name!r}")
            names.add(name)
        if isinstance(name, str) and not _is_valid_name(name) and TANSTACK_NAME.fullmatch(name):
            foreign.append((position, item))
        else:
            ours.append(item)
    try:
        entries = _ENTRIES.validate_python(ours)
    except ValidationError:
        # Said again entry by entry, to name the first bad one by its place in the file.
        for position, item in enumerate(items):
            try:
                SkillIndexEntry.model_validate(item)
            except ValidationError as exc:
                if all(item is not other for _, other in foreign):
                    raise _BadIndex(f"entry {position}: {_describe(exc)}") from None
        raise  # pragma: no cover - the list failed, so one entry does
    return entries, tuple(foreign)


def _index_order(data: bytes | None) -> dict[str, int]:
    """The names in an index, by position, read leniently (to keep its order on reindex)."""
    try:
        items = _loads(data) if data is not None else []
    except ValueError:
        return {}
    names = (
        [item.get("name") for item in items if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )
    order: dict[str, int] = {}
    for name in names:
        if isinstance(name, str):
            order.setdefault(name, len(order))
    return order


def _age(skill: Skill) -> tuple[float, str]:
    created = skill.created_at
    return (math.inf if created is None else created.timestamp(), skill.name)


def _with_entry(entries: list[SkillIndexEntry], entry: SkillIndexEntry) -> list[SkillIndexEntry]:
    """``entries`` with ``entry`` in place of the one of its name, or appended."""
    updated = [entry if existing.name == entry.name else existing for existing in entries]
    if not any(existing.name == entry.name for existing in entries):
        updated.append(entry)
    return updated


def _copy(entry: SkillIndexEntry) -> SkillIndexEntry:
    # Its only mutable field is the list of hints: three times faster than a deep copy.
    return entry.model_copy(update={"usage_hints": list(entry.usage_hints)})


def _entry(entries: list[SkillIndexEntry], name: str) -> SkillIndexEntry | None:
    return next((entry for entry in entries if entry.name == name), None)


def _read_or_none(files: Files, path: str) -> bytes | None:
    try:
        return files.read(path)
    except (FileNotFoundError, IsADirectoryError):
        return None


def _restore(files: Files, path: str, old: bytes | None, replaced: bool) -> None:
    """Put back a file a failed save replaced (at best: the filesystem may be what failed)."""
    if not replaced:
        return
    with contextlib.suppress(Exception):
        if old is None:
            files.remove(path)
        else:
            files.write(path, old)


def _dumps(value: Any) -> bytes:
    """``JSON.stringify(value, null, 2)``, as TanStack writes its files, byte for byte.

    orjson's two-space indent is JSON.stringify's, and so is its spelling of floats (``1e-7``,
    ``0.00001``), but for whole floats, which JavaScript writes as integers (``1``, not
    ``1.0``): pass a value with floats through ``_js_numbers`` first.
    The standard library writes the same layout, slower: it is there for what orjson refuses
    (integers beyond 64 bits, lone surrogates, which it escapes as JSON.stringify does).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:
        return json.dumps(value, indent=2).encode("ascii")


def _js_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: _js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_js_numbers(item) for item in value]
    return value


def _is_valid_name(name: str) -> bool:
    try:
        check_skill_name(name)
    except SkillNameError:
        return False
    return True


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    parts = [
        f"{'.'.join(str(part) for part in error['loc']) or 'the value'}: {error['msg']}"
        for error in errors[:3]
    ]
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "; ".join(parts)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) or text:
        return text or type(exc).__name__
    return f"{type(exc).__name__} (the filesystem cannot do it; is it read-only?)"


def _warn(notes: Iterator[str] | list[str] | tuple[str, ...]) -> None:
    for note in notes:
        warnings.warn(note, SkillStorageWarning, stacklevel=3)
