"""V8 isolate driver for codemode: ``pip install codemode-node-v8``, drivers ``node`` and ``v8``."""

from codemode_node_v8._driver import NodeIsolateDriver, create_node_isolate_driver
from codemode_node_v8._probe import ProbeResult, probe_mini_racer

__all__ = ["NodeIsolateDriver", "ProbeResult", "create_node_isolate_driver", "probe_mini_racer"]
