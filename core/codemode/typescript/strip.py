"""Turn the model's TypeScript program into JavaScript the sandbox can run.

Types are erased by overwriting them with spaces, so every token that remains keeps its
line and column and an engine's error position points into the model's own source without
a source map. The few TypeScript constructs that have runtime meaning (``enum`` and
constructor parameter properties) are rewritten in place without changing the line count.
The program runs as the body of an async function: top-level ``await`` and ``return`` are
accepted, ``export`` is dropped and ``import`` is rejected.
"""

from __future__ import annotations

import functools
import re
from typing import Final

import tree_sitter

from codemode.typescript._enums import rewrite_enum
from codemode.typescript._syntax_errors import TypeScriptSyntaxError, position, syntax_error
from codemode.typescript._tree import (
    LANGUAGE,
    PARSER,
    Edit,
    apply,
    blank,
    blank_edit,
    node_text,
    rewrite,
)

__all__ = ["TypeScriptSyntaxError", "strip_types", "strip_types_cached"]

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

# One query, so the tree is walked once in C; Python only sees the interesting nodes.
_QUERY: Final = tree_sitter.Query(
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
    [
      (required_parameter [(accessibility_modifier) (override_modifier) "readonly"])
      (optional_parameter [(accessibility_modifier) (override_modifier) "readonly"])
    ] @param_property
    (enum_declaration) @enum
    (export_statement) @export
    [(import_statement) (import_alias)] @import
    [(internal_module) (module)] @namespace
    """,
)

# A removed statement followed by one of these could glue the statements around it
# together (`let a = b` / `type T = U` / `(f)()`), so it leaves a `;` behind.
_STATEMENT_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`+\-/]", re.DOTALL)
_TAIL_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`]", re.DOTALL)
_WHITESPACE_OR_SLASH: Final = frozenset(b" \t\r\n/")


def strip_types(source: str) -> str:
    """Return JavaScript in which every remaining token keeps its line and column."""
    src = source.encode("utf-8", "surrogatepass")
    tree = PARSER.parse(src)
    root = tree.root_node
    if root.has_error:
        raise syntax_error(root, src)
    captures = tree_sitter.QueryCursor(_QUERY).captures(root)
    if not captures:
        return source

    edits: list[Edit] = []
    problems: list[tuple[int, str]] = []
    removed: list[tuple[int, int]] = []

    for node in captures.get("remove", ()):
        start, end = node.start_byte, node.end_byte
        removed.append((start, end))
        edits.append(_remove(src, start, end))
    edits.extend(blank_edit(n.start_byte, n.end_byte) for n in captures.get("blank", ()))
    for node in captures.get("annotation", ()):
        start, end = node.start_byte, node.end_byte
        # `let x: T` then a line starting with `(` would become `let x(...)`.
        if (
            end < len(src)
            and src[end] in _WHITESPACE_OR_SLASH
            and src[end - 1] < 0x80
            and _TAIL_HAZARD.match(src, end)
        ):
            edits.append(rewrite(start, end, blank(src[start : end - 1]) + b";"))
            continue
        edits.append(blank_edit(start, end))
    for node in captures.get("as", ()):
        edits.append(blank_edit(node.child(0).end_byte, node.end_byte))
    for node in captures.get("arrow_return", ()):
        _arrow_return(src, node, edits)
    for node in captures.get("arrow_assertion", ()):
        _arrow_assertion(src, node, edits)
    for node in captures.get("this_param", ()):
        following = node.next_sibling
        end = (
            following.end_byte if following is not None and following.type == "," else node.end_byte
        )
        edits.append(blank_edit(node.start_byte, end))
    if "param_property" in captures:
        _parameter_properties(src, captures["param_property"], edits)
    for node in captures.get("export", ()):
        _export(src, node, edits, problems, removed)
    for node in captures.get("import", ()):
        _import(src, node, edits, problems, removed)
    for node in captures.get("namespace", ()):
        _namespace(src, node, edits, problems, removed)

    if problems:
        problems = [p for p in problems if not _inside(p[0], removed)]
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
    return apply(src, edits, 0, len(src)).decode("utf-8", "surrogatepass")


strip_types_cached = functools.lru_cache(maxsize=256)(strip_types)
"""``strip_types`` memoized for the pipeline, where a model often resends one program."""


def _remove(src: bytes, start: int, end: int) -> Edit:
    if src[start] < 0x80 and _STATEMENT_HAZARD.match(src, end):
        return rewrite(start, end, b";" + blank(src[start + 1 : end]))
    return blank_edit(start, end)


def _inside(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in ranges)


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


def _parameter_properties(src: bytes, params: list[tree_sitter.Node], edits: list[Edit]) -> None:
    names: dict[int, list[bytes]] = {}
    bodies: dict[int, tree_sitter.Node] = {}
    seen: set[int] = set()
    for param in sorted(params, key=lambda node: node.start_byte):
        pattern = param.child_by_field_name("pattern")
        parameters = param.parent
        method = parameters.parent if parameters is not None else None
        body = method.child_by_field_name("body") if method is not None else None
        if pattern is None or body is None or param.start_byte in seen:
            continue
        seen.add(param.start_byte)
        names.setdefault(body.start_byte, []).append(node_text(src, pattern))
        bodies[body.start_byte] = body
    for key, body in bodies.items():
        assignments = b" ".join(b"this.%s = %s;" % (name, name) for name in names[key])
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


_TYPE_ONLY_DECLARATIONS: Final = frozenset(
    {"interface_declaration", "type_alias_declaration", "ambient_declaration", "function_signature"}
)


def _export(
    src: bytes,
    node: tree_sitter.Node,
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: list[tuple[int, int]],
) -> None:
    start, end = node.start_byte, node.end_byte
    declaration = node.child_by_field_name("declaration")
    if declaration is not None:
        if declaration.type in _TYPE_ONLY_DECLARATIONS:
            removed.append((start, end))
            edits.append(_remove(src, start, end))
        else:
            edits.append(blank_edit(start, declaration.start_byte))
        return
    kinds = [child.type for child in node.children]
    if "type" in kinds or ("as" in kinds and "namespace" in kinds):
        removed.append((start, end))
        edits.append(_remove(src, start, end))
    elif "from" in kinds:
        problems.append((start, _REEXPORT_MESSAGE))
    elif "export_clause" in kinds:
        edits.append(_remove(src, start, end))
    else:
        problems.append((start, _EXPORT_VALUE_MESSAGE))


def _import(
    src: bytes,
    node: tree_sitter.Node,
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: list[tuple[int, int]],
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
        removed.append((node.start_byte, node.end_byte))
        edits.append(_remove(src, node.start_byte, node.end_byte))
    else:
        problems.append((node.start_byte, _IMPORT_MESSAGE))


def _namespace(
    src: bytes,
    node: tree_sitter.Node,
    edits: list[Edit],
    problems: list[tuple[int, str]],
    removed: list[tuple[int, int]],
) -> None:
    if _inside(node.start_byte, removed):
        return
    if _type_only_namespace(node):
        # `namespace N {}` parses as an expression statement; take its `;` along.
        parent = node.parent
        target = parent if parent is not None and parent.type == "expression_statement" else node
        removed.append((target.start_byte, target.end_byte))
        edits.append(_remove(src, target.start_byte, target.end_byte))
    else:
        problems.append((node.start_byte, _NAMESPACE_MESSAGE))


def _type_only_namespace(node: tree_sitter.Node) -> bool:
    body = node.child_by_field_name("body")
    if body is None:
        return True
    for statement in body.named_children:
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
            if not _type_only_namespace(statement):
                return False
        elif kind not in _TYPE_ONLY_DECLARATIONS and kind not in ("comment", "empty_statement"):
            return False
    return True
