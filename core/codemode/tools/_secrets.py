"""Detection of tool parameters that look like secrets.

Secrets must never enter the sandbox: a tool should read its API key on the host, not take
it as input, because the model's program sees (and could send elsewhere) every input it
builds. ``on_secret_parameter`` says what to do when a parameter name looks like a secret.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

from codemode.errors import ConfigError, SecretParameterError, SecretParameterWarning

SecretPolicy = Literal["warn", "throw", "ignore"] | Callable[[str, str], None]

_SECRET = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|credential|auth(orization)?|bearer|session[_-]?id|cookie)",
    re.IGNORECASE,
)
# Names that contain a secret-like word but are not secrets.
_BENIGN = re.compile(r"^(max_?tokens?|tokens?_?(count|limit|used)|num_?tokens|author)$", re.I)


def looks_like_secret(name: str) -> bool:
    """Whether a parameter name looks like it carries a secret (``api_key``, ``password``...)."""
    return bool(_SECRET.search(name)) and not _BENIGN.match(name)


def _property_names(schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            yield prefix + key
            if isinstance(sub, dict):
                yield from _property_names(sub, prefix + key + ".")


def check_secret_parameters(tool_name: str, schema: dict[str, Any], policy: SecretPolicy) -> None:
    """Apply ``policy`` to every secret-looking property of a tool's input schema."""
    if policy == "ignore":
        return
    for path in _property_names(schema):
        if not looks_like_secret(path.rsplit(".", 1)[-1]):
            continue
        message = (
            f"tool {tool_name!r} takes a parameter {path!r} that looks like a secret; the "
            "sandboxed program would see it. Read secrets inside the tool on the host instead."
        )
        if policy == "warn":
            warnings.warn(message, SecretParameterWarning, stacklevel=4)
        elif policy == "throw":
            raise SecretParameterError(message)
        elif callable(policy):
            policy(tool_name, path)
        else:
            raise ConfigError(
                "on_secret_parameter must be 'warn', 'throw', 'ignore' or a callable, "
                f"got {policy!r}"
            )
