"""``codemode serve``: the local web app (``codemode.web``) on uvicorn.

It binds 127.0.0.1 unless ``--host`` names another address, and then also answers only
requests whose Host header is that address's: on a loopback address, a page of another site
that gets the browser to call ``http://attacker.example:PORT`` resolved to 127.0.0.1 (DNS
rebinding) is refused.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import webbrowser
from pathlib import Path
from typing import Any

import click

from codemode._extras import require_extra
from codemode.config import load_config
from codemode.errors import CodeModeError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        hint = " (another program uses it: try --port 0 for a free one)" if port else ""
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None
    sock.listen(128)
    return sock


def _bind_default(host: str) -> socket.socket:
    try:
        return _bind(host, DEFAULT_PORT)
    except click.UsageError:
        sock = _bind(host, 0)
        click.echo(f"port {DEFAULT_PORT} is taken; using {sock.getsockname()[1]}")
        return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


@click.command("serve")
@click.option(
    "--host",
    default=None,
    help=f"Address to listen on [default: {DEFAULT_HOST}]; another than loopback only when"
    " named here (the app has no login).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"0 picks a free port [default: {DEFAULT_PORT}, or a free one when it is taken].",
)
@click.option(
    "--driver", default=None, help="The driver programs run on first (the page can switch)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo database and skills live [default: the user's data directory,"
    " or CODEMODE_DATA_DIR].",
)
@click.option("--config", "config_path", default=None, help="codemode.toml to read.")
def serve_command(
    host: str | None,
    port: int | None,
    driver: str | None,
    open_browser: bool,
    data_dir: Path | None,
    config_path: str | None,
) -> None:
    """Start the local web app: a playground over a demo shop, and a chat when a model is
    configured."""
    require_extra("starlette", "server")
    uvicorn = require_extra("uvicorn", "server")
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from codemode.web import create_app

    chosen = host or DEFAULT_HOST
    try:
        config = load_config(config_path)
        app = create_app(config, data_dir=data_dir, driver=driver)
    except CodeModeError as exc:
        raise click.UsageError(str(exc)) from None
    web = app.state.web
    if is_loopback(chosen):
        app.add_middleware(
            TrustedHostMiddleware, allowed_hosts=[*LOOPBACK_NAMES, "[::1]", chosen.strip("[]")]
        )
    sock = _bind_default(chosen) if port is None else _bind(chosen, port)
    url = _url(chosen, sock.getsockname()[1])
    chat = web.chat.status()

    class _Server(uvicorn.Server):  # type: ignore[misc, name-defined]  # uvicorn is a module object here
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.should_exit:
                return
            lines = [
                f"codemode serve: {url}",
                f"  driver: {web.pool.default}; demo database: {web.database}",
                f"  chat: {chat['adapter']} {chat['model']}"
                if chat["enabled"]
                else "  chat: off (no [model] configured; the page says how to add one)",
            ]
            if not is_loopback(chosen):
                lines.append(
                    f"  warning: listening on {chosen}: anyone who can reach it can run programs"
                    " and use the configured model"
                )
            lines.append("  press Ctrl+C to stop")
            click.echo("\n".join(lines))
            sys.stdout.flush()
            if open_browser:
                webbrowser.open(url)

    server = _Server(
        uvicorn.Config(app, log_level="warning", ws="none", http="h11", timeout_graceful_shutdown=5)
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down on Ctrl+C, then raises the signal again: that is a normal stop.
        pass
    finally:
        sock.close()
    click.echo("codemode serve: stopped")
