"""``codemode skills list|show|rm|export|import|reindex``: the skill library from a shell.

Every command works on the configured storage (``[skills] storage`` / ``directory`` /
``trust`` of ``codemode.toml``, or ``CODEMODE_SKILLS_*``), or on ``--storage NAME_OR_URL``.
``export DIR`` and ``import DIR`` copy skills to and from a folder in the on-disk layout
(TanStack AI's), through the file storage; trust and stats travel with each skill.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from codemode import plugins
from codemode.config import CodeModeConfig, load_config
from codemode.errors import CodeModeError, SkillError
from codemode.skills import Skill, SkillStorage
from codemode.skills._configured import load_configured_storage

T = TypeVar("T")
_FAILED = 1


def _usage(message: str) -> NoReturn:
    raise click.UsageError(message)


def _run(step: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(step())  # type: ignore[arg-type]
    except SkillError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(_FAILED)


def open_storage(storage: str | None, config_path: str | None) -> SkillStorage:
    """The storage named by ``--storage``, else the config's ``[skills]`` storage."""
    try:
        config: CodeModeConfig = load_config(config_path)
        found = load_configured_storage(config, storage)
    except CodeModeError as exc:
        _usage(str(exc))
    if storage is None and config.skills.storage == "memory":
        click.echo(
            "note: the configured skill storage is 'memory' (in-process), so nothing persists"
            ' between commands; set [skills] storage = "fs" or pass --storage DIR',
            err=True,
        )
    return found


_storage_option = click.option(
    "--storage",
    metavar="NAME_OR_URL",
    help="A storage name or a folder / fsspec URL (default: the config's [skills]).",
)
_config_option = click.option(
    "--config", "config_path", type=click.Path(), help="A codemode.toml to use."
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("skills")
def skills_group() -> None:
    """Manage the saved skills."""


@skills_group.command("list")
@_storage_option
@_config_option
@_json_option
def list_command(storage: str | None, config_path: str | None, as_json: bool) -> None:
    """List the skills, with trust level and stats."""
    store = open_storage(storage, config_path)
    skills: list[Skill] = _run(store.load_all)
    if as_json:
        click.echo(json.dumps([_summary(skill) for skill in skills], indent=2))
        return
    table = Table("name", "trust", "runs", "success", "description", title=f"{len(skills)} skills")
    for skill in skills:
        table.add_row(
            skill.name,
            skill.trust_level.value,
            str(skill.stats.executions),
            f"{skill.stats.success_rate:.0%}" if skill.stats.executions else "-",
            escape(skill.description),
        )
    Console().print(table)


def _summary(skill: Skill) -> dict[str, Any]:
    return {
        "name": skill.name,
        "description": skill.description,
        "trustLevel": skill.trust_level.value,
        "stats": skill.stats.model_dump(by_alias=True),
    }


@skills_group.command("show")
@click.argument("name")
@_storage_option
@_config_option
@_json_option
def show_command(name: str, storage: str | None, config_path: str | None, as_json: bool) -> None:
    """Show one skill: its metadata and code."""
    store = open_storage(storage, config_path)
    skill = _run(lambda: store.get(name))
    if skill is None:
        click.echo(f"error: there is no skill named {name!r}", err=True)
        sys.exit(_FAILED)
    if as_json:
        click.echo(json.dumps(skill.to_json(), indent=2, ensure_ascii=False))
        return
    console = Console()
    console.print(f"[bold]{skill.name}[/] [dim]({skill.trust_level.value})[/]")
    console.print(escape(skill.description))
    for hint in skill.usage_hints:
        console.print(f"  - {escape(hint)}")
    runs = skill.stats.executions
    console.print(f"runs: {runs}, success: {skill.stats.success_rate:.0%}" if runs else "runs: 0")
    if skill.depends_on:
        console.print(f"calls: {', '.join(skill.depends_on)}")
    console.print("input schema: " + json.dumps(skill.input_schema))
    console.print("output schema: " + json.dumps(skill.output_schema))
    console.print(Syntax(skill.code, "typescript", line_numbers=True))


@skills_group.command("rm")
@click.argument("name")
@_storage_option
@_config_option
def rm_command(name: str, storage: str | None, config_path: str | None) -> None:
    """Delete a skill."""
    store = open_storage(storage, config_path)
    if not _run(lambda: store.delete(name)):
        click.echo(f"error: there is no skill named {name!r}", err=True)
        sys.exit(_FAILED)
    click.echo(f"deleted {name}")


@skills_group.command("export")
@click.argument("directory")
@_storage_option
@_config_option
def export_command(directory: str, storage: str | None, config_path: str | None) -> None:
    """Copy every skill into DIRECTORY (a folder or fsspec URL, in the on-disk layout)."""
    source = open_storage(storage, config_path)
    target = _folder(directory, source)
    _copy(source, target, f"exported to {directory}")


@skills_group.command("import")
@click.argument("directory")
@_storage_option
@_config_option
def import_command(directory: str, storage: str | None, config_path: str | None) -> None:
    """Copy every skill of DIRECTORY (a folder or fsspec URL) into the storage."""
    target = open_storage(storage, config_path)
    source = _folder(directory, target)
    _copy(source, target, f"imported from {directory}")


def _folder(directory: str, like: SkillStorage) -> SkillStorage:
    try:
        found: SkillStorage = plugins.load_storage(
            "fs", directory=directory, trust_strategy=like.trust_strategy
        )
    except CodeModeError as exc:
        _usage(str(exc))
    return found


def _copy(source: SkillStorage, target: SkillStorage, done: str) -> None:
    async def copy() -> tuple[int, int]:
        copied = replaced = 0
        for skill in await source.load_all():
            replaced += await target.get(skill.name) is not None
            await target.save(skill)
            copied += 1
        return copied, replaced

    copied, replaced = _run(copy)
    suffix = f" ({replaced} replaced)" if replaced else ""
    click.echo(f"{copied} skill{'s' if copied != 1 else ''} {done}{suffix}")


@skills_group.command("reindex")
@_storage_option
@_config_option
def reindex_command(storage: str | None, config_path: str | None) -> None:
    """Rebuild the storage's index from the skill folders (after a crash or hand edits)."""
    store = open_storage(storage, config_path)
    reindex = getattr(store, "reindex", None)
    if reindex is None:
        click.echo(f"{type(store).__name__} keeps no index: nothing to rebuild")
        return
    report = _run(reindex)
    indexed = list(getattr(report, "indexed", ()))
    skipped = getattr(report, "skipped", None) or {}
    where = getattr(report, "index_file", None)
    click.echo(
        f"indexed {len(indexed)} skill{'s' if len(indexed) != 1 else ''}"
        + (f" in {where}" if where else "")
    )
    for folder, reason in dict(skipped).items():
        click.echo(f"skipped {folder}: {reason}", err=True)
    if skipped:
        sys.exit(_FAILED)
