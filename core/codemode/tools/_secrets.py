"""Detection of tool parameters that look like secrets.

Secrets must never enter the sandbox: a tool should read its API key on the host, not take
it as input, because the model's program sees (and could send elsewhere) every input it
builds. ``on_secret_parameter`` says what to do when a parameter name looks like a secret.

Names are judged by their words (``apiKey``, ``api_key`` and ``x-api-key`` all hold the words
``api key``), not by substrings, so ``tokenizer``, ``monkey`` and ``passenger`` are left alone.
The input schema is walked through nested objects, arrays, ``$ref`` and unions, and a finding is
reported by its dotted path (``auth.credentials[].api_key``).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

from codemode.errors import ConfigError, SecretParameterError, SecretParameterWarning

SecretPolicy = Literal["warn", "throw", "ignore"] | Callable[[str, str], None]
"""What to do about a secret-looking parameter; a callable gets ``(tool_name, path)``."""

_POLICIES = ("warn", "throw", "ignore")

# A word is a run of lowercase letters, a capitalised word, an acronym (``API`` in ``APIKey``)
# or a number; everything else (``_``, ``-``, ``.``, spaces) only separates words.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Word pairs that name one secret. Merged before judging, so ``api_key`` and ``apikey`` agree.
_KEY_OWNERS = ("access", "api", "auth", "encryption", "master", "private", "secret", "session")
_TOKEN_OWNERS = ("access", "api", "auth", "bearer", "csrf", "id", "oauth", "refresh", "session")
_COMPOUNDS = {
    **{(owner, key): owner + key for owner in _KEY_OWNERS for key in ("key", "keys")},
    # "tokens" alone is text split for a model (``tokens``, ``max_tokens``); these are not.
    **{(owner, "tokens"): owner + "tokens" for owner in _TOKEN_OWNERS},
    ("session", "id"): "sessionid",
    ("pass", "phrase"): "passphrase",
    ("pass", "word"): "password",
    ("pass", "code"): "passcode",
    ("auth", "header"): "authheader",
}
_SECRET_WORDS = frozenset(
    {
        *_COMPOUNDS.values(),
        "authorization",
        "bearer",
        "clientsecret",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "creds",
        "jwt",
        "passwd",
        "passwords",
        "secret",
        "secrets",
        "token",
        *(owner + "token" for owner in _TOKEN_OWNERS),
    }
)
# Too short to judge inside a longer name (``first_pass``, ``auth_mode``), but a parameter
# called just that usually carries the credential itself (as ``requests``' ``auth=``).
_SECRET_ALONE = frozenset({"auth", "pass"})
# Counting words before the secret word make the name a number about secrets: ``max_tokens``.
_QUANTIFIERS = frozenset({"max", "min", "num", "number", "total"})
# A describing word after the secret word is the thing the name really holds, in English word
# order: ``token_count`` is a count, ``api_key_name`` a name, ``authorization_url`` a URL.
_DESCRIPTORS = frozenset(
    {
        "budget",
        "count",
        "counts",
        "endpoint",
        "enabled",
        "expires",
        "expiry",
        "file",
        "format",
        "hint",
        "host",
        "id",
        "ids",
        "index",
        "kind",
        "len",
        "length",
        "limit",
        "method",
        "mode",
        "name",
        "names",
        "path",
        "policy",
        "provider",
        "required",
        "scheme",
        "scope",
        "scopes",
        "size",
        "ttl",
        "type",
        "uri",
        "url",
        "usage",
        "used",
    }
)


def _words(name: str) -> list[str]:
    words = [word.lower() for word in _WORD.findall(name)]
    merged: list[str] = []
    index = 0
    while index < len(words):
        pair = (words[index], words[index + 1]) if index + 1 < len(words) else None
        if pair in _COMPOUNDS:
            merged.append(_COMPOUNDS[pair])
            index += 2
        else:
            merged.append(words[index])
            index += 1
    return merged


def _is_secret_word(word: str) -> bool:
    # ``newpassword``, ``dbpasswd``: no ordinary word ends so, whatever is glued in front.
    return word in _SECRET_WORDS or word.endswith(("password", "passwd"))


def looks_like_secret(name: str) -> bool:
    """Whether a parameter name looks like it carries a secret (``api_key``, ``password``...)."""
    words = _words(name)
    if len(words) == 1 and words[0] in _SECRET_ALONE:
        return True
    found = [index for index, word in enumerate(words) if _is_secret_word(word)]
    if not found:
        return False
    last = found[-1]
    if any(word in _QUANTIFIERS for word in words[:last]):
        return False
    return not any(word in _DESCRIPTORS for word in words[last + 1 :])


class _SchemaWalk:
    """Finds the dotted path of every secret-looking property of one JSON Schema."""

    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root

    def paths(self) -> list[str]:
        # A dict keeps the first of equal paths (``allOf`` branches may repeat a property).
        return list(dict.fromkeys(self._visit(self._root, "", ())))

    def _visit(self, node: Any, path: str, refs: tuple[str, ...]) -> Iterator[str]:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref not in refs:
            # Only the refs on the way here are skipped: a recursive model stops, while one
            # model used by two properties is reported under both.
            yield from self._visit(self._resolve(ref), path, (*refs, ref))
        properties = node.get("properties")
        if isinstance(properties, dict):
            for key, sub in properties.items():
                child = _join(path, str(key))
                inner = list(self._visit(sub, child, refs))
                # The deepest finding is the useful one: ``auth.credentials[].api_key`` says
                # more than ``auth``; a secret-looking name is reported itself when nothing
                # inside it is (a string, a list of strings, a map of opaque values).
                if inner:
                    yield from inner
                elif looks_like_secret(str(key)):
                    yield child
        for branch in ("anyOf", "oneOf", "allOf"):
            for sub in _list(node.get(branch)):
                yield from self._visit(sub, path, refs)
        items = node.get("items")
        for sub in items if isinstance(items, list) else [items]:  # a list is draft-4 tuples
            yield from self._visit(sub, f"{path}[]", refs)
        for position, sub in enumerate(_list(node.get("prefixItems"))):
            yield from self._visit(sub, f"{path}[{position}]", refs)
        # Any key of a map: ``accounts.*.password``.
        yield from self._visit(node.get("additionalProperties"), _join(path, "*"), refs)
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict):
            for sub in patterns.values():
                yield from self._visit(sub, _join(path, "*"), refs)

    def _resolve(self, ref: str) -> Any:
        """The target of a local ``#/$defs/Name`` (or any ``#/...`` pointer), else None."""
        if not ref.startswith("#"):
            return None  # a remote schema: nothing here to look into
        node: Any = self._root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _check_policy(policy: object) -> None:
    if callable(policy) or (isinstance(policy, str) and policy in _POLICIES):
        return
    close = difflib.get_close_matches(policy, _POLICIES, n=1) if isinstance(policy, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        "on_secret_parameter must be 'warn', 'throw', 'ignore' or a callable"
        f" (tool_name, path) -> None, got {policy!r}{hint}"
    )


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _stacklevel_outside_codemode() -> int:
    """The ``warnings.warn`` stacklevel, from our caller, of the first frame not in codemode.

    The warning should point at the user's ``create_code_mode(...)`` line however many
    codemode functions lie in between (``skip_file_prefixes`` would do this from 3.12 on).
    """
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def check_secret_parameters(tool_name: str, schema: dict[str, Any], policy: SecretPolicy) -> None:
    """Apply ``policy`` to every secret-looking property of a tool's input schema.

    The policy is checked first, so a misspelt one fails even for a tool without secrets.
    ``"warn"`` and ``"throw"`` name every path found in one message; a callable is called
    once per path with ``(tool_name, path)``.
    """
    _check_policy(policy)
    if policy == "ignore":
        return
    paths = _SchemaWalk(schema).paths()
    if not paths:
        return
    if callable(policy):
        for path in paths:
            policy(tool_name, path)
        return
    listed = ", ".join(repr(path) for path in paths)
    what = (
        f"a parameter {listed} that looks" if len(paths) == 1 else f"parameters {listed} that look"
    )
    message = (
        f"tool {tool_name!r} takes {what} like a secret, which the sandboxed program would "
        "see; read secrets inside the tool on the host instead (or pass "
        "on_secret_parameter='ignore' if these are not secrets)"
    )
    if policy == "throw":
        raise SecretParameterError(message)
    warnings.warn(message, SecretParameterWarning, stacklevel=_stacklevel_outside_codemode())
