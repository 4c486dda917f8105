"""Model adapters: the one interface the chat loop and skill selection talk to a model through.

An adapter streams one model turn as ``ModelChunk`` values. ``litellm_text`` and
``openai_text`` (extras) implement it; anything with a ``stream`` method of the same shape
works, which is how tests script a model.
"""

from codemode.adapters._protocol import (
    Finish,
    ModelAdapter,
    ModelChunk,
    TextDelta,
    ToolCallDelta,
    Usage,
    complete_text,
)

__all__ = [
    "Finish",
    "ModelAdapter",
    "ModelChunk",
    "TextDelta",
    "ToolCallDelta",
    "Usage",
    "complete_text",
]
