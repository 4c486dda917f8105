"""Test kits and fakes: the driver conformance suite and small real tools.

``DriverConformance`` holds every guarantee of the isolate driver contract as tests; a driver
(ours or a third party's) runs it by subclassing it with a ``driver`` fixture.
"""

from codemode.testing._conformance import DriverConformance, run_program
from codemode.testing._tools import Recorder, bindings, echo, fail, sleep

__all__ = ["DriverConformance", "Recorder", "bindings", "echo", "fail", "run_program", "sleep"]
