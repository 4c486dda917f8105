"""A bound on how deeply the syntax tree nests, checked before the tree is queried.

tree-sitter's query cursor keeps a node's depth in 16 bits: in a tree deeper than 65,535
levels it misses matches silently (a type left in the output) and slows down by orders of
magnitude (16 s for 80 KB of nested generics, 90 s for 120 KB). Such a program is refused
as a syntax error instead. Engines refuse nested brackets much sooner (V8 at a few thousand
levels), but a chain such as ``1 + 1 + ...`` nests one level per operator and runs fine
there, so the limit sits just under tree-sitter's rather than at an engine's.
"""

from __future__ import annotations

from typing import Final

import tree_sitter

from codemode.typescript._syntax_errors import TypeScriptSyntaxError, position

MAX_DEPTH: Final = 60_000
"""The deepest a node of the program may sit below the root of its syntax tree."""


def check_nesting(root: tree_sitter.Node, src: bytes) -> None:
    """Raise `TypeScriptSyntaxError` at the first node nested deeper than ``MAX_DEPTH``."""
    node = first_at_depth(root, MAX_DEPTH + 1)
    if node is not None:
        line, column = position(src, node.start_byte)
        raise TypeScriptSyntaxError(
            f"Nesting deeper than {MAX_DEPTH} levels (brackets, operators or statements "
            "inside one another): split it into smaller statements",
            line,
            column,
        )


def first_at_depth(root: tree_sitter.Node, depth: int) -> tree_sitter.Node | None:
    """The first node, in source order, ``depth`` levels below ``root``; None if none is."""
    # A subtree reaches that far down only if it holds at least as many nodes as the levels
    # left, and tree-sitter stores every subtree's node count: only such subtrees are walked,
    # which for ordinary code is the root's children and little more.
    if root.descendant_count <= depth:
        return None
    stack = [(root, 0)]
    while stack:
        node, level = stack.pop()
        if level == depth:
            return node
        needed = depth - level
        stack.extend(
            (child, level + 1)
            for child in reversed(node.children)
            if child.descendant_count >= needed
        )
    return None
