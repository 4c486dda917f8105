"""The QuickJS driver passes the shared driver conformance suite."""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing import DriverConformance
from codemode_quickjs import create_quickjs_isolate_driver


class TestQuickJSConformance(DriverConformance):
    @pytest.fixture
    def driver(self) -> IsolateDriver:
        return create_quickjs_isolate_driver()
