"""The tree-sitter TypeScript parser, and the edits that overwrite spans of its source.

Shared by the type stripper, the enum rewriter and the syntax-error reporter.
"""

from __future__ import annotations

import bisect
import re
from typing import Final, TypeAlias

import tree_sitter
import tree_sitter_typescript

# The plain grammar, not TSX, so that `<T>value` parses as a type assertion. One parser is
# shared: py-tree-sitter holds the GIL while it parses, so threads cannot interleave on it.
LANGUAGE: Final = tree_sitter.Language(tree_sitter_typescript.language_typescript())
PARSER: Final = tree_sitter.Parser(LANGUAGE)

# An edit is (start, is_not_insertion, -end, is_blank, replacement): sorting the tuples
# puts, at one offset, insertions first, then the widest edit, then rewrites before blanks,
# so nested edits come after the edit that contains them and can be skipped.
Edit: TypeAlias = tuple[int, int, int, int, bytes]

# Every byte becomes a space except line breaks; UTF-8 continuation bytes are deleted so
# that one character becomes one space and columns (in characters) are kept.
_BLANK_TABLE: Final = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))
_CONTINUATION_BYTES: Final = bytes(range(0x80, 0xC0))
_JS_LINE_SEPARATORS: Final = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_NOT_LINE_BREAK: Final = re.compile(r"[^\r\n\u2028\u2029]")


def blank(text: bytes) -> bytes:
    if text.isascii():
        return text.translate(_BLANK_TABLE)
    if any(sep in text for sep in _JS_LINE_SEPARATORS):
        # U+2028/U+2029 end a line for a JavaScript engine, so they must survive too.
        spaces = _NOT_LINE_BREAK.sub(" ", text.decode("utf-8", "surrogatepass"))
        return spaces.encode("utf-8", "surrogatepass")
    return text.translate(_BLANK_TABLE, _CONTINUATION_BYTES)


def blank_edit(start: int, end: int) -> Edit:
    return (start, 1, -end, 1, b"")


def rewrite(start: int, end: int, replacement: bytes) -> Edit:
    return (start, 1 if end > start else 0, -end, 0, replacement)


def apply(src: bytes, edits: list[Edit], start: int, end: int) -> bytes:
    """Apply the sorted edits that lie in [start, end) to that slice of the source."""
    # The hot loop of stripping: one pass, locals only, and ASCII text blanked by one
    # ``translate`` per span rather than through ``blank``.
    out: list[bytes] = []
    append = out.append
    ascii_only = src.isascii()
    table = _BLANK_TABLE
    pos = start
    for index in range(bisect.bisect_left(edits, (start,)), len(edits)):
        s, _, neg_end, is_blank, replacement = edits[index]
        if s >= end and (s > end or neg_end != -s):
            break
        e = -neg_end
        if e > end:
            continue
        if s < pos:
            if e <= pos or not is_blank:
                continue
            s = pos
        append(src[pos:s])
        if not is_blank:
            append(replacement)
        elif ascii_only:
            append(src[s:e].translate(table))
        else:
            append(blank(src[s:e]))
        pos = e
    append(src[pos:end])
    return b"".join(out)


def node_text(src: bytes, node: tree_sitter.Node) -> bytes:
    return src[node.start_byte : node.end_byte]
