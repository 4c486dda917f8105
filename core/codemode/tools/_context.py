"""Where ``codemode.tools`` finds ``ToolExecutionContext``: it lives in the contract layer."""

from codemode.context import EventSink, ToolExecutionContext

__all__ = ["EventSink", "ToolExecutionContext"]
