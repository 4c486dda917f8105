"""The JavaScript a V8 context is set up with, and the script that starts a program.

Setting up is split in two, so that the slow half can run before anyone asks for a context:

- ``PREPARE`` (when the isolate is made, ahead of time) compiles codemode's prelude, this
  driver's ``setup.js`` and ``buffers.js``, the kit's ``guards.js`` and this driver's
  ``offheap.js`` into five functions kept in a script-scope ``const``; compiling them is most
  of the setup's cost. Its value is the (empty) argument list of every later call.
- ``install`` (when a context is asked for, with its config) calls them in order: the
  prelude with the config, setup.js with the prelude's api function, buffers.js with the
  memory limit in bytes (it returns its count of ArrayBuffer memory), guards.js, then
  offheap.js with the limit and that count. Its value is the *step* function the host calls
  for every turn (``mr_call_function``: a call is not compiled, unlike a script): with a
  string as ``this`` it delivers tool results, with ``this`` undefined it collects the turn.

The api function, the program starter and the compiled functions are script-scope
``const``s with random names, not properties of ``globalThis``, so no program can reach them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from importlib.resources import files
from typing import Final

from codemode.sandbox import GUARD_FAST, GUARD_SORT, GUARDS, PRELUDE, load

_HERE = files(__package__)
SETUP: Final = load(_HERE.joinpath("setup.js"))
"""The driver's own in-sandbox code: removes host hooks, returns the program starter."""

BUFFERS: Final = load(_HERE.joinpath("buffers.js"))
"""``(function __cm_buffers(limitBytes) {...})``: counts ArrayBuffer memory against the limit."""
OFFHEAP: Final = load(_HERE.joinpath("offheap.js"))
"""``(function __cm_offheap(limitBytes, used) {...})``: bounds native memory of ICU and the
regexp compiler."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """What ``prepare`` compiled into a new isolate, and how to name it."""

    script: str
    """Compiles the five functions; its value is the argument list for ``mr_call_function``."""
    functions: str
    """The name of the ``const`` array that holds them."""


def prepare() -> Prepared:
    functions = f"__cm_setup_{secrets.token_hex(8)}"
    parts = ", ".join(f"({part})" for part in (PRELUDE, SETUP, BUFFERS, GUARDS, OFFHEAP))
    script = f"const {functions} = [{parts}];\n[]"
    return Prepared(script, functions)


@dataclass(frozen=True, slots=True)
class Installed:
    script: str
    """Installs the prelude, setup, buffers, guards and offheap; its value is the step
    function."""
    starter: str
    """The name of the program starter: ``<program> instanceof <starter>`` starts one."""

    def start(self, program: str) -> str:
        """The script that starts ``program`` (``wrap_program`` output) from a microtask,
        keeping its line and column; it is compiled once per execution."""
        return f"{program} instanceof {self.starter}"


def install(prepared: Prepared, config_json: str, memory_limit_bytes: int) -> Installed:
    token = secrets.token_hex(8)
    api, starter, functions = f"__cm_api_{token}", f"__cm_go_{token}", prepared.functions
    lines = [
        f"const {api} = {functions}[0]({json.dumps(config_json)});",
        f"const {starter} = {functions}[1]({api});",
    ]
    used = f"__cm_used_{token}"
    lines += [
        f"const {used} = {functions}[2]({memory_limit_bytes});",
        f"{functions}[3]({GUARD_FAST}, {GUARD_SORT});",
        f"{functions}[4]({memory_limit_bytes}, {used});",
    ]
    lines.append(
        "(function __cm_step() {\n"
        '  "use strict";\n'
        f'  if (this === undefined) return {api}("collect");\n'
        f'  {api}("deliver", this);\n'
        "})"
    )
    return Installed("\n".join(lines), starter)
