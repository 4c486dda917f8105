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

TYPE_CHECKING = False

if TYPE_CHECKING:
    from codemode.adapters._litellm import litellm_text
    from codemode.adapters._openai import openai_text

__all__ = [
    "Finish",
    "ModelAdapter",
    "ModelChunk",
    "TextDelta",
    "ToolCallDelta",
    "Usage",
    "complete_text",
    "litellm_text",
    "openai_text",
]

# Loaded on first use (PEP 562), so importing codemode.adapters imports neither SDK's adapter.
_HOMES = {
    "litellm_text": "codemode.adapters._litellm",
    "openai_text": "codemode.adapters._openai",
}

if not TYPE_CHECKING:
    from codemode._lazy import lazy

    __getattr__, __dir__ = lazy("codemode.adapters", _HOMES, globals())
    del lazy
