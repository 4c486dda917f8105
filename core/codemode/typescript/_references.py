"""``$ref`` inside one JSON Schema document: which definition it points to, and what it means.

Only ``#`` and ``#/$defs/<key>`` (or draft-7 ``#/definitions/<key>``) resolve; any other
pointer or document is left to the caller as unresolvable. A definition's fingerprint
covers everything it references, so two tools share a declaration only when it means the
same type in both.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

Target = tuple[str, str]
"""A definition: ("$defs" or "definitions", key)."""

ROOT: Final = "#"


def parse_ref(ref: str) -> Target | Literal["#"] | None:
    if ref == ROOT:
        return ROOT
    if not ref.startswith("#/"):
        return None
    # RFC 6901 in a URI fragment: percent-decode, split, then unescape ~1 and ~0.
    parts = urllib.parse.unquote(ref[2:]).split("/")
    if len(parts) != 2 or parts[0] not in ("$defs", "definitions"):
        return None
    return parts[0], parts[1].replace("~1", "/").replace("~0", "~")


def lookup(root: object, target: Target) -> object:
    section = root.get(target[0]) if isinstance(root, dict) else None
    return section.get(target[1]) if isinstance(section, dict) else None


def _refs_in(schema: object) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs_in(item)


@dataclass
class Document:
    """One tool input or output schema: where its ``$ref``s resolve."""

    root: object
    name: str
    ref_names: dict[Target, str] = field(default_factory=dict)

    def fingerprint(self, start: Target) -> str:
        """What a definition means here: its schema and those of all it references."""
        reached: dict[str, object] = {}
        pending = [start]
        while pending:
            target = pending.pop()
            label = "/".join(target)
            if label in reached:
                continue
            schema = lookup(self.root, target)
            reached[label] = schema
            for ref in _refs_in(schema):
                parsed = parse_ref(ref)
                if parsed == ROOT:
                    reached[ROOT] = self.name  # "#" means this document's own type
                elif parsed is not None:
                    pending.append(parsed)
        return json.dumps([start, reached], sort_keys=True, default=repr)
