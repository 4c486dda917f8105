"""``/** ... */`` comments in the stubs: descriptions, defaults and string formats.

These are what the model reads beside each type, so they carry what a schema says that a
TypeScript type cannot (``@default``, ``@format``); a ``*/`` in the text is escaped.
"""

from __future__ import annotations

import inspect
from typing import Any

from codemode.typescript._type_syntax import json_text


def description_lines(description: object) -> list[str]:
    if not isinstance(description, str) or not description.strip():
        return []
    return [line.rstrip() for line in inspect.cleandoc(description).splitlines()]


def doc_lines(schema: object, *, is_property: bool) -> list[str]:
    if not isinstance(schema, dict):
        return []
    lines = description_lines(schema.get("description"))
    if is_property and "default" in schema:
        lines.append(f"@default {json_text(schema['default'])}")
    lines.extend(f"@format {fmt}" for fmt in _formats(schema))
    return lines


def _formats(schema: dict[str, Any]) -> list[str]:
    own = schema.get("format")
    if isinstance(own, str):
        return [own]
    # Optional[datetime] puts the format inside anyOf, next to {"type": "null"}.
    found: dict[str, None] = {}
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        for member in members if isinstance(members, list) else ():
            fmt = member.get("format") if isinstance(member, dict) else None
            if isinstance(fmt, str):
                found[fmt] = None
    return list(found)


def doc_comment(lines: list[str], pad: str) -> str:
    """A ``/** */`` comment, with a newline after it, or "" when there is nothing to say."""
    lines = [line.replace("*/", "*\\/") for line in lines]
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{pad}/** {lines[0]} */\n"
    body = "".join(f"{pad} * {line}".rstrip() + "\n" for line in lines)
    return f"{pad}/**\n{body}{pad} */\n"
