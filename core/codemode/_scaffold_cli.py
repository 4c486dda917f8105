"""``codemode new-plugin KIND NAME``: write a plugin distribution that works as generated.

Exit status: 0 when the package was written, 2 on bad usage (a name that is not snake_case,
a folder that already exists).
"""

from __future__ import annotations

from pathlib import Path

import click

from codemode._scaffold import KINDS, check_name, write_plugin


@click.command("new-plugin")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default="the current folder",
    help="Where to write the codemode-NAME folder.",
)
def new_plugin_command(kind: str, name: str, directory: Path) -> None:
    """Write a KIND plugin named NAME into DIR/codemode-NAME/, ready for pip install -e.

    KIND is driver, storage, trust or adapter; NAME, a snake_case identifier, is what the
    plugin registers as (and what codemode.toml selects).
    """
    try:
        check_name(name)
        target = write_plugin(kind, name, directory)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    except FileExistsError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {target}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && pytest")
