"""Cloudflare Worker isolate driver for codemode: ``pip install codemode-cloudflare``, driver
``cloudflare``. Programs run in a Worker (on Cloudflare, or locally on workerd); tools stay on
the host.

Names load on first use, so loading the plugin (which every codemode process does to find
its drivers) imports no HTTP or WebSocket client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemode_cloudflare._driver import (
        DEFAULT_MAX_TOOL_ROUNDS,
        CloudflareIsolateDriver,
        create_cloudflare_isolate_driver,
    )
    from codemode_cloudflare._files import (
        write_worker,
    )
    from codemode_cloudflare._workerd import (
        WORKERD_VERSION,
        WorkerdNotFoundError,
        WorkerdProcess,
        find_workerd,
        install_workerd,
    )

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "WORKERD_VERSION",
    "CloudflareIsolateDriver",
    "WorkerdNotFoundError",
    "WorkerdProcess",
    "create_cloudflare_isolate_driver",
    "find_workerd",
    "install_workerd",
    "write_worker",
]

_HOMES = {
    "CloudflareIsolateDriver": "codemode_cloudflare._driver",
    "DEFAULT_MAX_TOOL_ROUNDS": "codemode_cloudflare._driver",
    "WORKERD_VERSION": "codemode_cloudflare._workerd",
    "WorkerdNotFoundError": "codemode_cloudflare._workerd",
    "WorkerdProcess": "codemode_cloudflare._workerd",
    "create_cloudflare_isolate_driver": "codemode_cloudflare._driver",
    "find_workerd": "codemode_cloudflare._workerd",
    "install_workerd": "codemode_cloudflare._workerd",
    "write_worker": "codemode_cloudflare._files",
}


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above instead.
    from codemode.plugins import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
    del lazy_exports
