"""The V8 driver against the hostile-program section of the conformance suite."""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._hostile import HostileProgramConformance
from codemode_node_v8 import create_node_isolate_driver


class TestNodeV8Hostile(HostileProgramConformance):
    @pytest.fixture
    def driver(self) -> IsolateDriver:
        return create_node_isolate_driver()
