"""Syntax errors reported as a JavaScript engine would, at the model's own line and column."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Final

import tree_sitter

from codemode.typescript._tree import LANGUAGE, node_text


class TypeScriptSyntaxError(Exception):
    """The program does not parse. line and column are 1-based, in the model's own source."""

    # Public as codemode.typescript.strip.TypeScriptSyntaxError: name that module in
    # tracebacks, reprs and pickles, as before the class moved here.
    __module__ = "codemode.typescript.strip"

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message, line, column)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column})"


def position(src: bytes, offset: int) -> tuple[int, int]:
    line_start = src.rfind(b"\n", 0, offset) + 1
    column = len(src[line_start:offset].decode("utf-8", "replace")) + 1
    return src.count(b"\n", 0, offset) + 1, column


def _leaves(root: tree_sitter.Node) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node | None]]:
    """Every leaf in source order, with its parent (tree-sitter finds a parent from the root
    down, which costs as much as the tree is deep, so the walk keeps the ancestors itself)."""
    cursor = root.walk()
    ancestors: list[tree_sitter.Node] = []
    while True:
        node = cursor.node
        assert node is not None
        if node.child_count == 0:
            yield node, ancestors[-1] if ancestors else None
        elif cursor.goto_first_child():
            ancestors.append(node)
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return
            ancestors.pop()


def _first_error(root: tree_sitter.Node) -> tree_sitter.Node:
    cursor = root.walk()
    while True:
        node = cursor.node
        assert node is not None
        if node.is_error or node.is_missing:
            return node
        if node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return root


_SEMICOLON: Final = LANGUAGE.id_for_node_kind(";", False) or -1
_IDENTIFIERS: Final = frozenset(
    {
        "identifier",
        "property_identifier",
        "type_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
        "statement_identifier",
        "private_property_identifier",
    }
)
# After one of these an ERROR node still wanted an operand: the culprit is what follows.
# fmt: off
_WANTS_MORE: Final = frozenset((
    "=", "+", "-", "*", "/", "%", "**", "&", "|", "^", "~", "!", "<", ">", "<=", ">=", "==",
    "!=", "===", "!==", "&&", "||", "??", "<<", ">>", ">>>", ".", "?.", ",", ":", "?", "(",
    "[", "{", "=>", "+=", "-=", "*=", "/=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>=",
    ">>>=", "&&=", "||=", "??=", "...", "const", "let", "var", "new", "return", "throw",
    "typeof", "void", "delete", "await", "yield", "in", "instanceof", "of", "extends", "case",
))
# fmt: on
_OPENERS: Final = {"(": ")", "[": "]", "{": "}", "${": "}"}


@functools.cache
def _valid_symbols(state: int) -> frozenset[int]:
    iterator = LANGUAGE.lookahead_iterator(state)
    # Iterate rather than call symbols(): that method crashes in tree-sitter 0.26.1.
    return frozenset(symbol for symbol, _ in iterator) if iterator is not None else frozenset()


def syntax_error(root: tree_sitter.Node, src: bytes) -> TypeScriptSyntaxError:
    """Describe the first syntax error as an engine would, at the model's own position."""
    first = _first_error(root)
    pairs = [pair for pair in _leaves(root) if not pair[0].is_extra and not pair[0].is_missing]
    leaves = [leaf for leaf, _ in pairs]

    for leaf, parent in pairs if first.is_error else ():
        if leaf.start_byte >= first.end_byte:
            break
        if (
            leaf.start_byte >= first.start_byte
            and leaf.type in ("'", '"', "`")
            and parent is not None
            and parent.is_error
        ):
            kind = "template" if leaf.type == "`" else "string"
            line, column = position(src, leaf.start_byte)
            return TypeScriptSyntaxError(f"Unterminated {kind} literal", line, column)

    # Replay the tokens against the parse table: the first token no state accepts is what
    # a JavaScript engine would call unexpected. Near an error the recorded states may come
    # from an abandoned parse, so only a token from the error node on is trusted.
    previous: tree_sitter.Node | None = None
    for leaf in leaves:
        if previous is not None:
            valid = _valid_symbols(previous.next_parse_state)
            automatic_semicolon = _SEMICOLON in valid and (
                leaf.type == "}" or b"\n" in src[previous.end_byte : leaf.start_byte]
            )
            if leaf.grammar_id not in valid and not automatic_semicolon:
                if leaf.start_byte >= first.start_byte:
                    return _unexpected(src, leaf)
                break  # a state left over from an abandoned parse, not a real error
        if leaf.start_byte >= first.end_byte:
            break
        previous = leaf

    if first.is_missing:
        expected = first.type if not first.is_named else first.type.replace("_", " ")
        if not src[first.start_byte :].strip():
            return _end_of_input(src, leaves, f"missing '{expected}'")
        line, column = position(src, first.start_byte)
        return TypeScriptSyntaxError(f"Missing '{expected}'", line, column)

    inside = [leaf for leaf in leaves if first.start_byte <= leaf.start_byte < first.end_byte]
    after = [leaf for leaf in leaves if leaf.start_byte >= first.end_byte]
    if not after and _unclosed(leaves) is not None:
        return _end_of_input(src, leaves, None)
    if not inside:
        return _unexpected(src, after[0]) if after else _end_of_input(src, leaves, None)
    if inside[-1].type in _WANTS_MORE:
        return _unexpected(src, after[0]) if after else _end_of_input(src, leaves, None)
    return _unexpected(src, inside[-1])


def _unexpected(src: bytes, leaf: tree_sitter.Node) -> TypeScriptSyntaxError:
    text = node_text(src, leaf).decode("utf-8", "replace")
    if len(text) > 30:
        text = text[:27] + "..."
    kind = leaf.type
    if len(text) == 1 and not text.isprintable():
        message = f"Invalid character U+{ord(text):04X}"  # a NUL or a control character
    elif kind in _IDENTIFIERS:
        message = f"Unexpected identifier '{text}'"
    elif kind == "number":
        message = f"Unexpected number '{text}'"
    elif kind in ("string_fragment", "'", '"'):
        message = "Unexpected string"
    elif kind == "`":
        message = "Unexpected template string"
    else:
        message = f"Unexpected token '{text}'"
    line, column = position(src, leaf.start_byte)
    return TypeScriptSyntaxError(message, line, column)


def _unclosed(leaves: list[tree_sitter.Node]) -> tree_sitter.Node | None:
    stack: list[tree_sitter.Node] = []
    for leaf in leaves:
        kind = leaf.type
        if kind in _OPENERS:
            stack.append(leaf)
        elif stack and kind == _OPENERS[stack[-1].type]:
            stack.pop()
    return stack[-1] if stack else None


def _end_of_input(
    src: bytes, leaves: list[tree_sitter.Node], detail: str | None
) -> TypeScriptSyntaxError:
    opener = _unclosed(leaves)
    if detail is None and opener is not None:
        line, column = position(src, opener.start_byte)
        detail = f"'{opener.type}' at line {line}, column {column} is never closed"
    line, column = position(src, len(src.rstrip()))
    message = "Unexpected end of input" + (f": {detail}" if detail else "")
    return TypeScriptSyntaxError(message, line, column)
