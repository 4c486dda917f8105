"""Text made well-formed Unicode before it is encoded for a parser, an engine or a wire.

Used by the TypeScript stripper and by the sandbox kit (a driver may be handed program text
directly), so it lives below both.

A Python ``str`` may hold lone surrogates (U+D800 to U+DFFF), which UTF-8 cannot encode.
Each surrogate code point becomes U+FFFD, one for one: one code point and one UTF-16 unit
either way, so every line and column stays where it was. Two surrogates that would pair up
in UTF-16 are still two code points in Python and become two U+FFFD, as with
``str.encode("utf-8", "replace")``, rather than the astral character they might spell.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["well_formed"]

_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def well_formed(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD; ``text`` itself if it has none."""
    if text.isascii():  # O(1) in CPython: the string knows it is ASCII
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
