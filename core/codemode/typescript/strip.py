"""Turn the model's TypeScript program into JavaScript the sandbox can run.

Types are erased by overwriting them with spaces, so every token that remains keeps its
line and column and an engine's error position points into the model's own source without
a source map. The few TypeScript constructs that have runtime meaning (``enum`` and
constructor parameter properties) are rewritten in place without changing the line count.
The program runs as the body of an async function: top-level ``await`` and ``return`` are
accepted, ``export`` is dropped and ``import`` is rejected.

Stripping is total: for any ``str`` it returns JavaScript or raises `TypeScriptSyntaxError`
with a line and a column, in time linear in the length of the program. Lone surrogates are
read as U+FFFD (``well_formed``), and a tree nested more than 60,000 levels deep is refused
(``_nesting``).
"""

from __future__ import annotations

import functools
import re
from typing import Final

import tree_sitter

from codemode._unicode import well_formed
from codemode.typescript import _module_syntax
from codemode.typescript._captures import type_captures
from codemode.typescript._enums import rewrite_enum
from codemode.typescript._module_syntax import Spans, remove
from codemode.typescript._nesting import check_nesting
from codemode.typescript._syntax_errors import TypeScriptSyntaxError, position, syntax_error
from codemode.typescript._tree import (
    PARSER,
    Edit,
    apply,
    blank,
    blank_edit,
    node_text,
    rewrite,
)

__all__ = ["TypeScriptSyntaxError", "strip_types", "strip_types_cached"]

# `let x: T` then a line starting with one of these would become `let x(...)`.
_TAIL_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`]", re.DOTALL)
_WHITESPACE_OR_SLASH: Final = frozenset(b" \t\r\n/")
_COMMA: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+,", re.DOTALL)
_PARAMETER_MODIFIERS: Final = frozenset({"accessibility_modifier", "override_modifier", "readonly"})


def strip_types(source: str) -> str:
    """Return JavaScript in which every remaining token keeps its line and column."""
    source = well_formed(source)
    src = source.encode()
    # tree-sitter's lexers read U+0000 as the end of the input, so a NUL in a string would
    # look unterminated. U+0001 lexes as any other character inside strings, templates,
    # comments and regular expressions, and is no token outside them, as U+0000 is not;
    # only the parser sees it, every edit reads the real source.
    tree = PARSER.parse(src.replace(b"\0", b"\x01") if b"\0" in src else src)
    root = tree.root_node
    if root.has_error:
        raise syntax_error(root, src)
    check_nesting(root, src)
    captures = type_captures(root, src)
    if not captures:
        return source

    edits: list[Edit] = []
    problems: list[tuple[int, str]] = []
    removed = Spans()

    for node in captures.get("remove", ()):
        start, end = node.start_byte, node.end_byte
        removed.add(start, end)
        edits.append(remove(src, start, end))
    # The two most numerous kinds: their edits are written out as `blank_edit` makes them.
    edits += [(n.start_byte, 1, -n.end_byte, 1, b"") for n in captures.get("blank", ())]
    size = len(src)
    for node in captures.get("annotation", ()):
        start, end = node.start_byte, node.end_byte
        if (
            end < size
            and src[end] in _WHITESPACE_OR_SLASH
            and src[end - 1] < 0x80
            and _TAIL_HAZARD.match(src, end)
        ):
            edits.append(rewrite(start, end, blank(src[start : end - 1]) + b";"))
        else:
            edits.append((start, 1, -end, 1, b""))
    for node in captures.get("as", ()):
        edits.append(blank_edit(node.child(0).end_byte, node.end_byte))
    for node in captures.get("arrow_return", ()):
        _arrow_return(src, node, edits)
    for node in captures.get("arrow_assertion", ()):
        _arrow_assertion(src, node, edits)
    for node in captures.get("this_param", ()):
        # Its `,` goes too. Found in the text, not as the next sibling: tree-sitter finds a
        # sibling through the parent, from the root down, at a cost as deep as the tree.
        comma = _COMMA.match(src, node.end_byte)
        edits.append(blank_edit(node.start_byte, comma.end() if comma else node.end_byte))
    if "constructor" in captures:
        _parameter_properties(src, captures["constructor"], edits)
    for node in captures.get("export", ()):
        _module_syntax.export(src, node, edits, problems, removed)
    for node in captures.get("import", ()):
        _module_syntax.import_(src, node, edits, problems, removed)
    if "namespace" in captures:
        _module_syntax.namespaces(
            src,
            captures["namespace"],
            captures.get("namespace_statement", []),
            edits,
            problems,
            removed,
        )

    if problems:
        problems = [p for p in problems if not removed.covers(p[0])]
        if problems:
            offset, message = min(problems)
            line, column = position(src, offset)
            raise TypeScriptSyntaxError(message, line, column)

    enums = captures.get("enum")
    if enums:
        # Enum initializers may hold types, so enums are rewritten once every other edit
        # is known and can be applied to the initializer text.
        edits.sort()
        rewrites = [rewrite(n.start_byte, n.end_byte, rewrite_enum(src, n, edits)) for n in enums]
        edits.extend(rewrites)
    edits.sort()
    return apply(src, edits, 0, len(src)).decode()


strip_types_cached = functools.lru_cache(maxsize=256)(strip_types)
"""``strip_types`` memoized for the pipeline, where a model often resends one program."""


def _arrow_return(src: bytes, node: tree_sitter.Node, edits: list[Edit]) -> None:
    # JavaScript forbids a line break between `)` and `=>`, so a return type spanning
    # lines takes the `)` with it: `(a): Promise<{\n}> =>` becomes `(a  \n  )=>`.
    start, end = node.start_byte, node.end_byte
    paren = src.rfind(b")", 0, start)
    if paren < 0 or b"\n" not in src[paren:end] or src[end - 1] >= 0x80:
        return
    edits.append(blank_edit(paren, paren + 1))
    edits.append(rewrite(start, end, blank(src[start : end - 1]) + b")"))


def _arrow_assertion(src: bytes, node: tree_sitter.Node, edits: list[Edit]) -> None:
    # `() => <T>{ a: 1 }` must not become a block body: keep the object in parentheses.
    type_args, value = node.child(0), node.child(node.child_count - 1)
    if src[value.start_byte] != ord("{"):
        return
    start, end = type_args.start_byte, type_args.end_byte
    edits.append(rewrite(start, end, b"(" + blank(src[start + 1 : end])))
    edits.append(rewrite(node.end_byte, node.end_byte, b")"))


def _parameter_properties(src: bytes, methods: list[tree_sitter.Node], edits: list[Edit]) -> None:
    # Reached from the method down: tree-sitter finds a node's parent from the root down,
    # which would cost as much as the tree is deep for every parameter.
    seen: set[int] = set()
    for method in methods:
        parameters = method.child_by_field_name("parameters")
        body = method.child_by_field_name("body")
        if parameters is None or body is None or method.start_byte in seen:
            continue
        seen.add(method.start_byte)
        names = []
        for param in parameters.named_children:
            pattern = param.child_by_field_name("pattern")
            if pattern is not None and any(c.type in _PARAMETER_MODIFIERS for c in param.children):
                names.append(node_text(src, pattern))
        if not names:
            continue
        assignments = b" ".join(b"this.%s = %s;" % (name, name) for name in names)
        at, prefix = body.start_byte + 1, b" "
        super_call = _super_statement(body)
        if super_call is not None:
            at = super_call.end_byte
            if not node_text(src, super_call).endswith(b";"):
                prefix = b"; "
        edits.append(rewrite(at, at, prefix + assignments))


def _super_statement(body: tree_sitter.Node) -> tree_sitter.Node | None:
    for statement in body.named_children:
        if statement.type != "expression_statement":
            continue
        call = statement.named_child(0)
        if call.type == "call_expression":
            function = call.child_by_field_name("function")
            if function is not None and function.type == "super":
                return statement
    return None
