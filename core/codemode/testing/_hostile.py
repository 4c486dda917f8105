"""The hostile-program section of the driver conformance suite: tampering and hostile values.

``HostileProgramConformance`` holds programs written to break the sandbox rather than to do
work: they redefine what the sandbox's own code calls, hook the engine, throw values nothing
can describe, send text that is not UTF-8, and run away in ways a plain ``while (true) {}``
does not. For each, the driver must return an ``ExecutionResult`` (never raise), end with the
program's success or a named error whose text is bounded and UTF-8, keep the tool-call and
console bounds, stop within its timeout, leave no engine thread busy, and still run a normal
program in a new context afterwards. Subclass it with a ``driver`` fixture, like
``DriverConformance``; the tests run their own event loops, so no pytest plugin is needed.

The checks of threads and memory use ``psutil`` and are skipped when it is not installed.
Cases that can abort the process or leave a thread spinning run in a child pytest process,
on the same tests with the same ``driver`` fixture (see ``_hostile_child``).
"""

from __future__ import annotations

import pytest

from codemode.isolate import IsolateDriver
from codemode.testing._hostile_engine import ContextLifecycle, EngineLimits
from codemode.testing._hostile_prelude import EngineHooks, PreludeTampering
from codemode.testing._hostile_values import HostileText, HostileValues


class HostileProgramConformance(
    PreludeTampering, EngineHooks, HostileValues, HostileText, EngineLimits, ContextLifecycle
):
    """Subclass in a ``Test*`` class and provide a ``driver`` fixture."""

    @pytest.fixture
    def driver(self) -> IsolateDriver:
        raise NotImplementedError("provide a `driver` fixture returning your IsolateDriver")
