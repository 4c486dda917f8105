"""``import``, ``export`` and ``namespace``: erased when they only concern types, else reported.

The program runs as the body of an async function, so a value import, a re-export, an
``export default`` or a namespace with values cannot work there; each becomes a problem at
its position. A problem inside something erased (``declare module "m" { import ... }``) is
none, so problems are only settled once every erased span is known.
"""

from __future__ import annotations

import bisect
import re
from typing import Final

import tree_sitter

from codemode.typescript._tree import Edit, blank, blank_edit, rewrite

_IMPORT_MESSAGE: Final = (
    "import declarations are not available in the sandbox: "
    "tools are global async functions named external_<name>"
)
_REEXPORT_MESSAGE: Final = (
    "export ... from declarations are not available in the sandbox: "
    "tools are global async functions named external_<name>"
)
_EXPORT_VALUE_MESSAGE: Final = (
    "export default is not available: the program is the body of an async function, "
    "so return the result instead"
)
_NAMESPACE_MESSAGE: Final = (
    "namespace declarations are not supported in the sandbox: use a plain object instead"
)

TYPE_ONLY_DECLARATIONS: Final = frozenset(
    {"interface_declaration", "type_alias_declaration", "ambient_declaration", "function_signature"}
)

# A removed statement followed by one of these could glue the statements around it
# together (`let a = b` / `type T = U` / `(f)()`), so it leaves a `;` behind.
_STATEMENT_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`+\-/]", re.DOTALL)


class Spans:
    """Byte ranges of the source, merged, asked whether they cover an offset in O(log n)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        if start >= end:
            return
        # The held ranges are disjoint and sorted, so their ends are sorted too: those that
        # overlap [start, end) are one run, merged here with the new range.
        first = bisect.bisect_right(self._ends, start)
        last = bisect.bisect_left(self._starts, end)
        if first < last:
            start = min(start, self._starts[first])
            end = max(end, self._ends[last - 1])
        self._starts[first:last] = [start]
        self._ends[first:last] = [end]

    def covers(self, offset: int) -> bool:
        index = bisect.bisect_right(self._starts, offset) - 1
        return index >= 0 and offset < self._ends[index]


def remove(src: bytes, start: int, end: int) -> Edit:
    """Blank a whole statement, leaving a ``;`` if the next one could glue onto the previous."""
    if src[start] < 0x80 and _STATEMENT_HAZARD.match(src, end):
        return rewrite(start, end, b";" + blank(src[start + 1 : end]))
    return blank_edit(start, end)


def export(
    src: bytes,
    node: tree_sitter.Node,
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: Spans,
) -> None:
    start, end = node.start_byte, node.end_byte
    declaration = node.child_by_field_name("declaration")
    if declaration is not None:
        if declaration.type in TYPE_ONLY_DECLARATIONS:
            removed.add(start, end)
            edits.append(remove(src, start, end))
        else:
            edits.append(blank_edit(start, declaration.start_byte))
        return
    kinds = [child.type for child in node.children]
    if "type" in kinds or ("as" in kinds and "namespace" in kinds):
        removed.add(start, end)
        edits.append(remove(src, start, end))
    elif "from" in kinds:
        problems.append((start, _REEXPORT_MESSAGE))
    elif "export_clause" in kinds:
        edits.append(remove(src, start, end))
    else:
        problems.append((start, _EXPORT_VALUE_MESSAGE))


def import_(
    src: bytes,
    node: tree_sitter.Node,
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: Spans,
) -> None:
    second = node.child(1).type if node.child_count > 1 else None
    if second == "type":
        type_only = True
    elif second == "import_clause":
        # `import { type A, type B } from "m"` only brings in types.
        clause = node.child(1)
        named = clause.named_child(0)
        type_only = (
            clause.named_child_count == 1
            and named.type == "named_imports"
            and all(s.child(0).type == "type" for s in named.named_children)
        )
    else:
        type_only = False
    if type_only:
        removed.add(node.start_byte, node.end_byte)
        edits.append(remove(src, node.start_byte, node.end_byte))
    else:
        problems.append((node.start_byte, _IMPORT_MESSAGE))


def namespaces(
    src: bytes,
    nodes: list[tree_sitter.Node],
    statements: list[tree_sitter.Node],
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: Spans,
) -> None:
    """Erase type-only namespaces; report the others. ``statements`` are the expression
    statements that hold a namespace (``namespace N {}`` parses as one), erased with it."""
    holders = {statement.start_byte: statement for statement in statements}
    # Outermost first, and nothing inside a namespace already settled is looked at again:
    # an inner problem would come after the outer one, so each namespace is walked once.
    settled = Spans()
    for node in sorted(nodes, key=lambda n: n.start_byte):
        if removed.covers(node.start_byte) or settled.covers(node.start_byte):
            continue
        if _type_only_namespace(node):
            holder = holders.get(node.start_byte)
            target = holder if holder is not None else node
            removed.add(target.start_byte, target.end_byte)
            edits.append(remove(src, target.start_byte, target.end_byte))
        else:
            settled.add(node.start_byte, node.end_byte)
            problems.append((node.start_byte, _NAMESPACE_MESSAGE))


def _type_only_namespace(namespace: tree_sitter.Node) -> bool:
    pending = [namespace]
    while pending:
        body = pending.pop().child_by_field_name("body")
        for statement in body.named_children if body is not None else ():
            kind = statement.type
            if kind == "export_statement":
                declaration = statement.child_by_field_name("declaration")
                if declaration is None:
                    return False
                statement, kind = declaration, declaration.type
            if kind == "expression_statement":
                statement = statement.named_child(0)
                kind = statement.type
            if kind in ("internal_module", "module"):
                pending.append(statement)
            elif kind not in TYPE_ONLY_DECLARATIONS and kind not in ("comment", "empty_statement"):
                return False
    return True
