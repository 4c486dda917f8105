"""The conformance suite for a driver in process isolation, as its plugin's tests run it.

By default the sections whose outcome a worker process can change: the language, limits,
isolation and life-cycle sections, and the hostile values and text that cross the wire. The
hostile sections that only probe the engine itself (prelude tampering, engine hooks, engine
limits) run the same code in a worker as in-process, where each driver's own conformance
tests already run them, and take minutes: ``CODEMODE_ISOLATION_FULL_CONFORMANCE=1`` runs the
whole ``DriverConformance`` instead (the issue-12 hostile programs run in process isolation
anyway, in core/tests/test_isolation_hostile.py).
"""

from __future__ import annotations

import os
from typing import Final

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._conformance import DriverConformance
from codemode.testing._hostile_engine import ContextLifecycle
from codemode.testing._hostile_values import HostileText, HostileValues
from codemode.testing._isolation import IsolationConformance
from codemode.testing._language import LanguageConformance
from codemode.testing._lifecycle import LifecycleConformance
from codemode.testing._limits import LimitsConformance

FULL_VARIABLE: Final = "CODEMODE_ISOLATION_FULL_CONFORMANCE"


class WireConformance(
    LanguageConformance,
    LimitsConformance,
    IsolationConformance,
    LifecycleConformance,
    HostileValues,
    HostileText,
    ContextLifecycle,
):
    """The sections a worker process can change the outcome of."""

    @pytest.fixture
    def driver(self) -> IsolateDriver:
        raise NotImplementedError("provide a `driver` fixture returning your IsolateDriver")


ProcessConformance: type = (
    DriverConformance if os.environ.get(FULL_VARIABLE) == "1" else WireConformance
)
"""What a driver's process-isolation tests subclass."""
