"""The QuickJS driver against the hostile-program section of the conformance suite."""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._hostile import HostileProgramConformance
from codemode_quickjs import create_quickjs_isolate_driver


class TestQuickJSHostile(HostileProgramConformance):
    @pytest.fixture
    def driver(self) -> IsolateDriver:
        return create_quickjs_isolate_driver()
