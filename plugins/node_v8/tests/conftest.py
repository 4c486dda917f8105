"""Reports, at the top of every run, whether this machine's CPU has memory protection keys:
the V8 driver's threading is built for them, and a machine without them cannot fault on a
mistake there (the tests then rely on the driver's own checks of which thread does what)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codemode_node_v8 import _pkeys, _probe_cache


def pytest_report_header() -> str:
    return f"codemode-node-v8: {_pkeys.describe()}"


@pytest.fixture(autouse=True, scope="session")
def _own_probe_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The first probe of the session runs its child for real: the session has a probe cache
    of its own, empty at the start (never the user's)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_probe_cache.CACHE_VARIABLE, str(tmp_path_factory.mktemp("probe-cache")))
        yield
