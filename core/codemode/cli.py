"""The ``codemode`` command: list plugins, print the system prompt, run a program, serve the
web app.

Exit status of ``codemode exec``: 0 when the program succeeded, 1 when it failed (the error
is in the printed result), 2 on bad usage (a missing file, a bad ``--tools``, an unknown
driver, a broken config).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from codemode import plugins
from codemode._scaffold import LISTED_AS
from codemode._scaffold_cli import new_plugin_command
from codemode._serve_cli import serve_command
from codemode._skills_cli import skills_group
from codemode.code_mode import create_code_mode, create_code_mode_system_prompt, events
from codemode.config import CodeModeConfig, load_config
from codemode.errors import CodeModeError
from codemode.tools import Tool, ToolExecutionContext

USAGE_ERROR = 2
PROGRAM_ERROR = 1


def _fail_usage(message: str) -> NoReturn:
    raise click.UsageError(message)


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec)
        if not path.is_file():
            _fail_usage(f"--tools: no such file {spec!r}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            _fail_usage(f"--tools: cannot import {spec!r}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
        return module
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        _fail_usage(f"--tools: cannot import module {spec!r}: {exc}")


def load_tools(reference: str) -> list[Tool]:
    """Tools from ``MODULE:ATTR`` (a dotted module or a .py path), where ATTR is a Tool, a
    list of Tools, or a function returning either. Without ``:ATTR``, every Tool in the module."""
    module_part, _, attr = reference.rpartition(":") if ":" in reference else (reference, "", "")
    module = _load_module(module_part)
    if not attr:
        found = [value for value in vars(module).values() if isinstance(value, Tool)]
    else:
        if not hasattr(module, attr):
            _fail_usage(f"--tools: {module_part!r} has no attribute {attr!r}")
        value = getattr(module, attr)
        if callable(value) and not isinstance(value, Tool):
            value = value()
        found = [value] if isinstance(value, Tool) else list(value)
    bad = [item for item in found if not isinstance(item, Tool)]
    if bad:
        _fail_usage(f"--tools: {reference!r} holds things that are not Tools: {bad[:3]!r}")
    return found


def _config(path: str | None) -> CodeModeConfig:
    try:
        return load_config(path)
    except CodeModeError as exc:
        _fail_usage(str(exc))


class EventPrinter:
    """Prints code-mode events to stderr the moment they are emitted."""

    def __init__(self, console: Console, as_json: bool) -> None:
        self._console = console
        self._as_json = as_json

    def __call__(self, name: str, data: Any) -> None:
        if self._as_json:
            # JSON Lines: one compact object per event, for other programs to read.
            line = json.dumps({"event": name, "data": data}, default=str, ensure_ascii=False)
            self._console.file.write(line + "\n")
            self._console.file.flush()
            return
        self._console.print(self._line(name, data), highlight=False)

    def _line(self, name: str, data: dict[str, Any]) -> str:
        if name == events.EXECUTION_STARTED:
            return f"[bold]▶ started[/] ({data['codeLength']} characters of TypeScript)"
        if name == events.CONSOLE:
            style = {"warn": "yellow", "error": "red"}.get(data["level"], "dim")
            return f"[{style}]  {data['level']:5}[/] {escape(data['message'])}"
        if name == events.EXTERNAL_CALL:
            args = escape(_short(data["args"]))
            return f"[cyan]→ {data['function']}[/]({args})"
        if name == events.EXTERNAL_RESULT:
            result = escape(_short(data["result"]))
            return f"[green]← {data['function']}[/] {data['duration']:.1f} ms: {result}"
        if name == events.EXTERNAL_ERROR:
            error = escape(str(data["error"]))
            return f"[red]✗ {data['function']}[/] {data['duration']:.1f} ms: {error}"
        if name == events.EXECUTION_FINISHED:
            outcome = "[green]success[/]" if data["success"] else "[red]failed[/]"
            return f"[bold]■ finished[/] in {data['durationMs']:.1f} ms: {outcome}"
        return f"  {escape(name)} {escape(_short(data))}"


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.group()
@click.version_option(package_name="codemode")
def main() -> None:
    """codemode: run model-written TypeScript programs against your Python tools."""


@main.command("plugins")
def plugins_command() -> None:
    """List installed plugins, their versions and what they provide."""
    table = Table("distribution", "version", "provides")
    for info in plugins.installed_plugins():
        provides = "; ".join(f"{kind}: {', '.join(items)}" for kind, items in info.kinds.items())
        if info.error is not None:
            provides = f"[red]failed to load: {escape(info.error)}[/]"
        table.add_row(info.name, info.version or "?", provides or "-")
    Console().print(table)
    kinds: tuple[plugins.Kind, ...] = ("driver", "storage", "trust_strategy", "adapter")
    for kind in kinds:
        found = plugins.names(kind)
        click.echo(f"{LISTED_AS[kind]}: {', '.join(found) if found else '(none installed)'}")


_tools_option = click.option(
    "--tools",
    "tools_ref",
    required=True,
    metavar="MODULE:ATTR",
    help="Where the tools are: a module or .py path, and an attribute holding a Tool or a list.",
)


@main.command("prompt")
@_tools_option
@click.option("--config", "config_path", type=click.Path(), help="A codemode.toml to use.")
def prompt_command(tools_ref: str, config_path: str | None) -> None:
    """Print the system prompt for these tools."""
    config = _config(config_path)
    click.echo(
        create_code_mode_system_prompt(
            tools=load_tools(tools_ref),
            timeout=config.driver.timeout,
            memory_limit=config.driver.memory_limit,
            max_tool_calls=config.limits.max_tool_calls,
        )
    )


@main.command("exec")
@click.argument("program", type=click.Path(allow_dash=True))
@_tools_option
@click.option("--driver", help="Isolate driver name (default: from config, else quickjs).")
@click.option("--timeout", type=click.IntRange(min=1), help="Time limit in ms.")
@click.option("--memory-limit", type=click.IntRange(min=1), help="Memory limit in MB.")
@click.option("--config", "config_path", type=click.Path(), help="A codemode.toml to use.")
@click.option("--json-events", is_flag=True, help="Print events as JSON Lines instead of text.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print events.")
def exec_command(
    program: str,
    tools_ref: str,
    driver: str | None,
    timeout: int | None,
    memory_limit: int | None,
    config_path: str | None,
    json_events: bool,
    quiet: bool,
) -> None:
    """Run PROGRAM (a .ts file, or - for stdin) and print its result as JSON."""
    if program == "-":
        code = sys.stdin.read()
    else:
        path = Path(program)
        if not path.is_file():
            _fail_usage(f"no such program file: {program}")
        code = path.read_text(encoding="utf-8")
    config = _config(config_path)
    tools = load_tools(tools_ref)
    try:
        code_mode = create_code_mode(
            driver=driver,
            tools=tools,
            timeout=timeout,
            memory_limit=memory_limit,
            config=config,
        )
    except CodeModeError as exc:
        _fail_usage(str(exc))
    sink: Callable[[str, Any], None] | None = None
    if not quiet:
        sink = EventPrinter(Console(stderr=True), json_events)
    try:
        result = asyncio.run(code_mode.run(code, ToolExecutionContext(sink)))
    except CodeModeError as exc:  # the driver cannot run here, or is misconfigured
        _fail_usage(str(exc))
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    sys.exit(0 if result["success"] else PROGRAM_ERROR)


class PluginGroup(click.Group):
    """A command group that a plugin provides, imported only when it is used; without the
    plugin it says which ``pip install`` adds it."""

    def __init__(self, name: str, module: str, attribute: str, distribution: str, help: str):
        super().__init__(name, help=help)
        self._target = (module, attribute, distribution)

    def _plugin_group(self) -> click.Group | None:
        module, attribute, _ = self._target
        try:
            group: click.Group = getattr(importlib.import_module(module), attribute)
        except ImportError:
            return None
        return group

    def _missing(self) -> NoReturn:
        _fail_usage(
            f"`codemode {self.name}` needs the {self._target[2]} plugin:"
            f" pip install {self._target[2]}"
        )

    def list_commands(self, ctx: click.Context) -> list[str]:
        group = self._plugin_group()
        return group.list_commands(ctx) if group is not None else []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        group = self._plugin_group()
        if group is None:
            self._missing()
        return group.get_command(ctx, cmd_name)


main.add_command(skills_group)
main.add_command(new_plugin_command)
main.add_command(serve_command)
main.add_command(
    PluginGroup(
        "cloudflare",
        "codemode_cloudflare._cli",
        "cloudflare_group",
        "codemode-cloudflare",
        help="The Cloudflare Worker: dev (local workerd), install (workerd), deploy-files.",
    )
)
