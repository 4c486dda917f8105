"""Cloudflare Worker isolate driver for codemode: ``pip install codemode-cloudflare``, driver
``cloudflare``. Programs run in a Worker (on Cloudflare, or locally on workerd); tools stay on
the host."""

from codemode_cloudflare._driver import (
    DEFAULT_MAX_TOOL_ROUNDS,
    CloudflareIsolateDriver,
    create_cloudflare_isolate_driver,
)
from codemode_cloudflare._files import write_worker
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
