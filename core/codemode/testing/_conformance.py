"""The isolate driver conformance suite: every guarantee of the driver contract, as tests.

Run it against any driver with a few lines of pytest::

    import pytest
    from codemode.testing import DriverConformance
    from my_driver import create_my_driver

    class TestMyDriver(DriverConformance):
        @pytest.fixture
        def driver(self):
            return create_my_driver()

The tests are plain functions that run their own event loop, so no pytest plugin is needed.
Bounds on time are deliberately generous: they tell "concurrent" from "sequential" and
"stopped" from "hung", not fast from slow (that is the benchmarks' job). The sections live in
modules of their own; the hostile-program section tries every way known to break a sandbox's
own machinery, each case followed by a normal run in the same process.
"""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._hostile import HostileProgramConformance
from codemode.testing._isolation import IsolationConformance
from codemode.testing._language import LanguageConformance
from codemode.testing._lifecycle import LifecycleConformance
from codemode.testing._limits import LimitsConformance


class DriverConformance(
    LanguageConformance,
    LimitsConformance,
    IsolationConformance,
    LifecycleConformance,
    HostileProgramConformance,
):
    """Subclass in a ``Test*`` class and provide a ``driver`` fixture."""

    @pytest.fixture
    def driver(self) -> IsolateDriver:
        raise NotImplementedError("provide a `driver` fixture returning your IsolateDriver")
