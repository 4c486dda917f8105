"""Reports, at the top of every run, whether this machine's CPU has memory protection keys:
the V8 driver's threading is built for them, and a machine without them cannot fault on a
mistake there (the tests then rely on the driver's own checks of which thread does what)."""

from __future__ import annotations

from codemode_node_v8 import _pkeys


def pytest_report_header() -> str:
    return f"codemode-node-v8: {_pkeys.describe()}"
