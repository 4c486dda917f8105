"""The tree-sitter query that finds every piece of type syntax the stripper edits.

It runs in C, so Python only sees the interesting nodes; what it costs is the walk over every
node of the tree (half what the parse costs). A top-level ``interface``, ``type`` or overload
signature is erased whole and holds only types, so the walk skips it: the query runs over the
byte ranges between such declarations, and they are reported as ``remove`` captures themselves.
A ``declare`` statement is not skipped: it may hold code (an initializer, an enum, a class)
whose edits are made, and may reach its end, as everywhere else.
"""

from __future__ import annotations

import re
from typing import Final

import tree_sitter

from codemode.typescript._tree import LANGUAGE

__all__ = ["QUERY", "type_captures"]

QUERY: Final = tree_sitter.Query(
    LANGUAGE,
    """
    [
      (interface_declaration)
      (type_alias_declaration)
      (ambient_declaration)
      (function_signature)
      (abstract_method_signature)
      (index_signature)
      (method_signature)
      (public_field_definition "declare")
      (public_field_definition "abstract")
    ] @remove
    (type_annotation) @annotation
    [
      (type_predicate_annotation)
      (asserts_annotation)
      (type_parameters)
      (type_arguments)
      (implements_clause)
      (accessibility_modifier)
      (override_modifier)
      (hash_bang_line)
    ] @blank
    (non_null_expression "!" @blank)
    (optional_parameter ["?" "readonly"] @blank)
    (required_parameter "readonly" @blank)
    (public_field_definition ["?" "!" "readonly"] @blank)
    (method_definition "?" @blank)
    (variable_declarator "!" @blank)
    (abstract_class_declaration "abstract" @blank)
    [(as_expression) (satisfies_expression)] @as
    (arrow_function return_type: (_) @arrow_return)
    (arrow_function body: (type_assertion) @arrow_assertion)
    (required_parameter pattern: (this)) @this_param
    ; Two patterns: as one alternation under formal_parameters, tree-sitter 0.26 matches
    ; every method.
    (method_definition parameters: (formal_parameters
      (required_parameter [(accessibility_modifier) (override_modifier) "readonly"]))) @constructor
    (method_definition parameters: (formal_parameters
      (optional_parameter [(accessibility_modifier) (override_modifier) "readonly"]))) @constructor
    (enum_declaration) @enum
    (export_statement) @export
    [(import_statement) (import_alias)] @import
    [(internal_module) (module)] @namespace
    (expression_statement [(internal_module) (module)]) @namespace_statement
    """,
)

# The statements of the program erased whole, found without looking inside any statement.
_TOP_LEVEL_TYPES: Final = tree_sitter.Query(
    LANGUAGE,
    """
    [
      (interface_declaration)
      (type_alias_declaration)
      (function_signature)
    ] @remove
    """,
)
# Text between two top-level statements that holds no statement, so no type syntax.
_NOTHING: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+", re.DOTALL)


def type_captures(root: tree_sitter.Node, src: bytes) -> dict[str, list[tree_sitter.Node]]:
    """``QUERY``'s captures in the program, but none inside a top-level type declaration.

    Whatever such a declaration holds needs no edit of its own: every edit inside a type is
    nested in the blanking of the declaration, which skips it.
    """
    top_cursor = tree_sitter.QueryCursor(_TOP_LEVEL_TYPES)
    top_cursor.set_max_start_depth(1)
    top = top_cursor.captures(root).get("remove")
    cursor = tree_sitter.QueryCursor(QUERY)
    if not top:
        return cursor.captures(root)
    # One pattern per kind of declaration: the captures come grouped by kind.
    top.sort(key=lambda node: node.start_byte)
    ranges = []
    at = 0
    for node in top:
        start = node.start_byte
        if start > at and _NOTHING.fullmatch(src, at, start) is None:
            ranges.append((at, start))
        at = node.end_byte
    if at < len(src):
        ranges.append((at, len(src)))
    captures: dict[str, list[tree_sitter.Node]] = {"remove": top}
    for start, end in ranges:
        cursor.set_byte_range(start, end)
        for name, nodes in cursor.captures(root).items():
            held = captures.get(name)
            if held is None:
                captures[name] = nodes
            else:
                held += nodes
    return captures
