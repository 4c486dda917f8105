"""``codemode cloudflare dev|install|deploy-files``: the Worker on a local workerd, workerd
itself, and the files for ``wrangler deploy``. Loaded by ``codemode``'s CLI on first use."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import click

from codemode_cloudflare._files import write_worker
from codemode_cloudflare._workerd import (
    WORKERD_VERSION,
    WorkerdNotFoundError,
    WorkerdProcess,
    default_install_dir,
    install_workerd,
)


@click.group("cloudflare")
def cloudflare_group() -> None:
    """Run codemode's Cloudflare Worker locally, or write it out for deployment."""


@cloudflare_group.command("install")
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to install (default: $CODEMODE_WORKERD_DIR, else a per-user cache folder).",
)
def install_command(target: Path | None) -> None:
    """Install the pinned workerd runtime with npm (needs Node.js 20+ and npm)."""
    try:
        binary = install_workerd(target or default_install_dir())
    except WorkerdNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"workerd {WORKERD_VERSION}: {binary}")


@cloudflare_group.command("dev")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--secret",
    envvar="CODEMODE_SECRET",
    help="The Authorization secret (default: $CODEMODE_SECRET, else a generated one).",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Serve without a secret (local development only: anyone who reaches the port can"
    " run code).",
)
def dev_command(port: int, host: str, secret: str | None, insecure: bool) -> None:
    """Serve the Worker on a local workerd (installed on first use) until Ctrl-C."""
    if insecure and secret:
        raise click.UsageError("--insecure and --secret exclude each other")
    if not insecure and not secret:
        secret = secrets.token_urlsafe(32)
    folder = Path(tempfile.mkdtemp(prefix="codemode-worker-"))
    worker = WorkerdProcess(
        folder,
        secret=None if insecure else secret,
        insecure=insecure,
        port=port,
        host=host,
        verbose=True,
    )
    try:
        url = worker.start()
    except WorkerdNotFoundError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise click.ClickException(str(exc)) from None
    click.echo(f"codemode Worker on workerd at {url} (pid {worker.pid})")
    if insecure:
        click.echo("insecure mode: no Authorization is checked")
        click.echo(f'  create_cloudflare_isolate_driver("{url}")')
    else:
        click.echo(f"Authorization: Bearer {secret}")
        click.echo(f'  create_cloudflare_isolate_driver("{url}", authorization="Bearer ...")')
    click.echo("Ctrl-C to stop.")
    sys.stdout.flush()
    # SIGTERM too must stop workerd (it would outlive us otherwise): exit through `finally`.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        status = worker.wait()
    except KeyboardInterrupt:
        status = 0
    finally:
        worker.close()
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(status)


@cloudflare_group.command("deploy-files")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="codemode-worker", show_default=True, help="The Worker's name.")
def deploy_files_command(directory: Path, name: str) -> None:
    """Write the Worker and a wrangler.toml into DIRECTORY, for `wrangler deploy`."""
    for path in write_worker(directory, wrangler=True, name=name):
        click.echo(f"wrote {path}")
    click.echo(
        f"next: cd {os.fspath(directory)} && npx wrangler secret put CODEMODE_SECRET"
        " && npx wrangler deploy"
    )
