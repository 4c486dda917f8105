"""Test kits and fakes: the driver conformance suite and small real tools.

``DriverConformance`` holds every guarantee of the isolate driver contract as tests; a driver
(ours or a third party's) runs it by subclassing it with a ``driver`` fixture.
"""

from codemode._extras import require_extra

# First, so that without pytest the error says which extra to install.
require_extra("pytest", "testing")

from codemode.testing._adapter_conformance import AdapterConformance  # noqa: E402 (after the check)
from codemode.testing._adapters import ScriptedAdapter, ScriptedRequest  # noqa: E402 (after the check)
from codemode.testing._conformance import DriverConformance  # noqa: E402 (after the check)
from codemode.testing._harness import run_program  # noqa: E402 (after the check)
from codemode.testing._openai_server import (  # noqa: E402 (after the check)
    DelayReply,
    DropReply,
    ErrorReply,
    RecordedRequest,
    Reply,
    ScriptedOpenAIServer,
    ScriptedToolCall,
    TextReply,
    ToolCallsReply,
)
from codemode.testing._serve import serve_asgi  # noqa: E402 (after the check)
from codemode.testing._storage_conformance import SkillStorageConformance  # noqa: E402 (after the check)
from codemode.testing._tools import Recorder, bindings, echo, fail, sleep  # noqa: E402 (after the check)

__all__ = [
    "AdapterConformance",
    "DelayReply",
    "DriverConformance",
    "DropReply",
    "ErrorReply",
    "RecordedRequest",
    "Recorder",
    "Reply",
    "ScriptedAdapter",
    "ScriptedOpenAIServer",
    "ScriptedRequest",
    "ScriptedToolCall",
    "SkillStorageConformance",
    "TextReply",
    "ToolCallsReply",
    "bindings",
    "echo",
    "fail",
    "run_program",
    "serve_asgi",
    "sleep",
]
