"""The V8 driver passes the shared driver conformance suite."""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing import DriverConformance
from codemode_node_v8 import create_node_isolate_driver


class TestNodeV8Conformance(DriverConformance):
    @pytest.fixture
    def driver(self) -> IsolateDriver:
        return create_node_isolate_driver()
