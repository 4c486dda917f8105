"""The built-in model adapters, registered through the same hook as a plugin's."""

from __future__ import annotations

from codemode.hookspecs import Factory, hookimpl


@hookimpl
def codemode_model_adapters() -> dict[str, Factory]:
    # Each factory imports its SDK when called, so listing them imports no SDK.
    from codemode.adapters._litellm import litellm_text
    from codemode.adapters._openai import openai_text

    return {"litellm": litellm_text, "openai": openai_text}
