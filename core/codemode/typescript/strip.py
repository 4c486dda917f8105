"""Turn the model's TypeScript program into JavaScript the sandbox can run.

Types are erased by overwriting them with spaces, so every token that remains keeps its
line and column and an engine's error position points into the model's own source without
a source map. The few TypeScript constructs that have runtime meaning (``enum`` and
constructor parameter properties) are rewritten in place without changing the line count.
The program runs as the body of an async function: top-level ``await`` and ``return`` are
accepted, ``export`` is dropped and ``import`` is rejected.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Final, TypeAlias

import tree_sitter
import tree_sitter_typescript

__all__ = ["TypeScriptSyntaxError", "strip_types", "strip_types_cached"]


class TypeScriptSyntaxError(Exception):
    """The program does not parse. line and column are 1-based, in the model's own source."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message, line, column)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column})"


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

# The plain grammar, not TSX, so that `<T>value` parses as a type assertion. One parser is
# shared: py-tree-sitter holds the GIL while it parses, so threads cannot interleave on it.
_LANGUAGE: Final = tree_sitter.Language(tree_sitter_typescript.language_typescript())
_PARSER: Final = tree_sitter.Parser(_LANGUAGE)

# One query, so the tree is walked once in C; Python only sees the interesting nodes.
_QUERY: Final = tree_sitter.Query(
    _LANGUAGE,
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

# An edit is (start, is_not_insertion, -end, is_blank, replacement): sorting the tuples
# puts, at one offset, insertions first, then the widest edit, then rewrites before blanks,
# so nested edits come after the edit that contains them and can be skipped.
_Edit: TypeAlias = tuple[int, int, int, int, bytes]

# A removed statement followed by one of these could glue the statements around it
# together (`let a = b` / `type T = U` / `(f)()`), so it leaves a `;` behind.
_STATEMENT_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`+\-/]", re.DOTALL)
_TAIL_HAZARD: Final = re.compile(rb"(?:\s|//[^\n]*|/\*.*?\*/)*+[(\[`]", re.DOTALL)
_WHITESPACE_OR_SLASH: Final = frozenset(b" \t\r\n/")

# Every byte becomes a space except line breaks; UTF-8 continuation bytes are deleted so
# that one character becomes one space and columns (in characters) are kept.
_BLANK_TABLE: Final = bytes(b if b in (0x0A, 0x0D) else 0x20 for b in range(256))
_CONTINUATION_BYTES: Final = bytes(range(0x80, 0xC0))
_JS_LINE_SEPARATORS: Final = (b"\xe2\x80\xa8", b"\xe2\x80\xa9")
_NOT_LINE_BREAK: Final = re.compile(r"[^\r\n\u2028\u2029]")


def _blank(text: bytes) -> bytes:
    if text.isascii():
        return text.translate(_BLANK_TABLE)
    if any(sep in text for sep in _JS_LINE_SEPARATORS):
        # U+2028/U+2029 end a line for a JavaScript engine, so they must survive too.
        spaces = _NOT_LINE_BREAK.sub(" ", text.decode("utf-8", "surrogatepass"))
        return spaces.encode("utf-8", "surrogatepass")
    return text.translate(_BLANK_TABLE, _CONTINUATION_BYTES)


def _blank_edit(start: int, end: int) -> _Edit:
    return (start, 1, -end, 1, b"")


def _rewrite(start: int, end: int, replacement: bytes) -> _Edit:
    return (start, 1 if end > start else 0, -end, 0, replacement)


def _apply(src: bytes, edits: list[_Edit], start: int, end: int) -> bytes:
    """Apply the sorted edits that lie in [start, end) to that slice of the source."""
    out: list[bytes] = []
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
        out.append(src[pos:s])
        out.append(_blank(src[s:e]) if is_blank else replacement)
        pos = e
    out.append(src[pos:end])
    return b"".join(out)


def strip_types(source: str) -> str:
    """Return JavaScript in which every remaining token keeps its line and column."""
    src = source.encode("utf-8", "surrogatepass")
    tree = _PARSER.parse(src)
    root = tree.root_node
    if root.has_error:
        raise _syntax_error(root, src)
    captures = tree_sitter.QueryCursor(_QUERY).captures(root)
    if not captures:
        return source

    edits: list[_Edit] = []
    problems: list[tuple[int, str]] = []
    removed: list[tuple[int, int]] = []

    for node in captures.get("remove", ()):
        start, end = node.start_byte, node.end_byte
        removed.append((start, end))
        edits.append(_remove(src, start, end))
    edits.extend(_blank_edit(n.start_byte, n.end_byte) for n in captures.get("blank", ()))
    for node in captures.get("annotation", ()):
        start, end = node.start_byte, node.end_byte
        # `let x: T` then a line starting with `(` would become `let x(...)`.
        if (
            end < len(src)
            and src[end] in _WHITESPACE_OR_SLASH
            and src[end - 1] < 0x80
            and _TAIL_HAZARD.match(src, end)
        ):
            edits.append(_rewrite(start, end, _blank(src[start : end - 1]) + b";"))
            continue
        edits.append(_blank_edit(start, end))
    for node in captures.get("as", ()):
        edits.append(_blank_edit(node.child(0).end_byte, node.end_byte))
    for node in captures.get("arrow_return", ()):
        _arrow_return(src, node, edits)
    for node in captures.get("arrow_assertion", ()):
        _arrow_assertion(src, node, edits)
    for node in captures.get("this_param", ()):
        following = node.next_sibling
        end = (
            following.end_byte if following is not None and following.type == "," else node.end_byte
        )
        edits.append(_blank_edit(node.start_byte, end))
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
            line, column = _position(src, offset)
            raise TypeScriptSyntaxError(message, line, column)

    enums = captures.get("enum")
    if enums:
        # Enum initializers may hold types, so enums are rewritten once every other edit
        # is known and can be applied to the initializer text.
        edits.sort()
        rewrites = [_rewrite(n.start_byte, n.end_byte, _enum(src, n, edits)) for n in enums]
        edits.extend(rewrites)
    edits.sort()
    return _apply(src, edits, 0, len(src)).decode("utf-8", "surrogatepass")


strip_types_cached = functools.lru_cache(maxsize=256)(strip_types)
"""``strip_types`` memoized for the pipeline, where a model often resends one program."""


def _remove(src: bytes, start: int, end: int) -> _Edit:
    if src[start] < 0x80 and _STATEMENT_HAZARD.match(src, end):
        return _rewrite(start, end, b";" + _blank(src[start + 1 : end]))
    return _blank_edit(start, end)


def _inside(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in ranges)


def _text(src: bytes, node: tree_sitter.Node) -> bytes:
    return src[node.start_byte : node.end_byte]


def _arrow_return(src: bytes, node: tree_sitter.Node, edits: list[_Edit]) -> None:
    # JavaScript forbids a line break between `)` and `=>`, so a return type spanning
    # lines takes the `)` with it: `(a): Promise<{\n}> =>` becomes `(a  \n  )=>`.
    start, end = node.start_byte, node.end_byte
    paren = src.rfind(b")", 0, start)
    if paren < 0 or b"\n" not in src[paren:end] or src[end - 1] >= 0x80:
        return
    edits.append(_blank_edit(paren, paren + 1))
    edits.append(_rewrite(start, end, _blank(src[start : end - 1]) + b")"))


def _arrow_assertion(src: bytes, node: tree_sitter.Node, edits: list[_Edit]) -> None:
    # `() => <T>{ a: 1 }` must not become a block body: keep the object in parentheses.
    type_args, value = node.child(0), node.child(node.child_count - 1)
    if src[value.start_byte] != ord("{"):
        return
    start, end = type_args.start_byte, type_args.end_byte
    edits.append(_rewrite(start, end, b"(" + _blank(src[start + 1 : end])))
    edits.append(_rewrite(node.end_byte, node.end_byte, b")"))


def _parameter_properties(src: bytes, params: list[tree_sitter.Node], edits: list[_Edit]) -> None:
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
        names.setdefault(body.start_byte, []).append(_text(src, pattern))
        bodies[body.start_byte] = body
    for key, body in bodies.items():
        assignments = b" ".join(b"this.%s = %s;" % (name, name) for name in names[key])
        at, prefix = body.start_byte + 1, b" "
        super_call = _super_statement(body)
        if super_call is not None:
            at = super_call.end_byte
            if not _text(src, super_call).endswith(b";"):
                prefix = b"; "
        edits.append(_rewrite(at, at, prefix + assignments))


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
    edits: list[_Edit],
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
            edits.append(_blank_edit(start, declaration.start_byte))
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
    edits: list[_Edit],
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
    edits: list[_Edit],
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


# --- enums -------------------------------------------------------------------------------

_Value: TypeAlias = float | bytes  # a number, or the source text of a string literal

_PLAIN_NAME: Final = re.compile(rb"[A-Za-z_$][\w$]*")
_RESERVED: Final = frozenset(
    b"arguments await break case catch class const continue debugger default delete do else "
    b"enum eval export extends false finally for function if implements import in instanceof "
    b"interface let new null package private protected public return static super switch this "
    b"throw true try typeof var void while with yield".split()
)


def _enum(src: bytes, node: tree_sitter.Node, edits: list[_Edit]) -> bytes:
    """Rewrite an enum as a frozen object (an IIFE if a value needs runtime code)."""
    name_node = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    if name_node is None or body is None:
        return _blank(_text(src, node))
    name = _text(src, name_node)
    env: dict[bytes, _Value] = {}
    # (member node, key as a JS string literal, key if an identifier, value, initializer)
    members: list[tuple[tree_sitter.Node, bytes, bytes | None, _Value | None, bytes | None]] = []
    previous: _Value | None = -1.0
    for member in body.named_children:
        if member.type == "comment":
            continue
        key_node, value_node = member, None
        if member.type == "enum_assignment":
            key_node = member.child_by_field_name("name") or member
            value_node = member.child_by_field_name("value")
        if key_node.type == "computed_property_name":
            key_node = key_node.named_child(0)
        if key_node.type == "string":
            literal, ident = _text(src, key_node), None
        else:
            ident = _text(src, key_node)
            literal = b'"%s"' % ident if _PLAIN_NAME.fullmatch(ident) else _js_string(ident)
        value: _Value | None
        initializer = None
        if value_node is None:
            value = previous + 1.0 if isinstance(previous, float) else None
        else:
            value = _evaluate(src, value_node, env, name)
            if value is None:
                initializer = _apply(src, edits, value_node.start_byte, value_node.end_byte)
        if value is not None and ident is not None:
            env[ident] = value
        previous = value
        members.append((member, literal, ident, value, initializer))

    pieces: list[tuple[tree_sitter.Node, bytes]] = []
    if all(value is not None for _, _, _, value, _ in members):
        for member, literal, ident, value, _ in members:
            # A computed key, so that a member named __proto__ stays an own property.
            key = ident if ident is not None and ident != b"__proto__" else b"[%s]" % literal
            if isinstance(value, float):
                number = _js_number(value)
                reverse = number if value >= 0 and math.isfinite(value) else b"[%s]" % number
                pieces.append((member, b"%s: %s, %s: %s," % (key, number, reverse, literal)))
            elif value is not None:
                pieces.append((member, b"%s: %s," % (key, value)))
        head, tail = b"const %s = Object.freeze({" % name, b"});"
        return _layout(src, node, head, pieces, tail)

    previous_slot = b"-1"
    for member, literal, ident, value, initializer in members:
        slot = b"%s[%s]" % (name, literal)
        if isinstance(value, float):
            code = b"%s[%s = %s] = %s;" % (name, slot, _js_number(value), literal)
        elif isinstance(value, bytes):
            code = b"%s = %s;" % (slot, value)
        elif initializer is not None:
            code = b'%s = (%s); if (typeof %s !== "string") %s[%s] = %s;' % (
                slot,
                initializer,
                slot,
                name,
                slot,
                literal,
            )
        else:
            code = b"%s[%s = %s + 1] = %s;" % (name, slot, previous_slot, literal)
        # Later initializers may name earlier members bare, as TypeScript allows.
        if ident is not None and ident != name and ident not in _RESERVED:
            code += b" const %s = %s;" % (ident, slot)
        pieces.append((member, code))
        previous_slot = slot
    head = b"const %s = (() => { const %s = {};" % (name, name)
    tail = b"return Object.freeze(%s); })();" % name
    return _layout(src, node, head, pieces, tail)


def _js_string(text: bytes) -> bytes:
    return json.dumps(text.decode("utf-8", "surrogatepass"), ensure_ascii=False).encode()


def _layout(
    src: bytes,
    node: tree_sitter.Node,
    head: bytes,
    pieces: list[tuple[tree_sitter.Node, bytes]],
    tail: bytes,
) -> bytes:
    """Put each member's code on the member's own line so the line count is unchanged."""
    out = [head]
    row = node.start_point[0]
    for member, code in pieces:
        out.append(_move_to(src, member.start_byte, member.start_point[0] - row))
        out.append(code)
        row = member.start_point[0] + code.count(b"\n")
    out.append(_move_to(src, node.end_byte - 1, node.end_point[0] - row))
    out.append(tail)
    return b"".join(out)


def _move_to(src: bytes, offset: int, lines: int) -> bytes:
    if lines <= 0:
        return b" "
    line_start = src.rfind(b"\n", 0, offset) + 1
    indent = len(src[line_start:offset].decode("utf-8", "surrogatepass"))
    return b"\n" * lines + b" " * indent


_BINARY: Final[dict[bytes, Callable[[float, float], float]]] = {
    b"+": lambda a, b: a + b,
    b"-": lambda a, b: a - b,
    b"*": lambda a, b: a * b,
    b"/": lambda a, b: a / b,
    b"%": math.fmod,
    b"**": lambda a, b: float(a**b),
    b"|": lambda a, b: float(_int32(a) | _int32(b)),
    b"&": lambda a, b: float(_int32(a) & _int32(b)),
    b"^": lambda a, b: float(_int32(a) ^ _int32(b)),
    b"<<": lambda a, b: float(_int32(_int32(a) << (_uint32(b) & 31))),
    b">>": lambda a, b: float(_int32(a) >> (_uint32(b) & 31)),
    b">>>": lambda a, b: float(_uint32(a) >> (_uint32(b) & 31)),
}
_TRANSPARENT: Final = frozenset(
    {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"}
)


def _evaluate(
    src: bytes, node: tree_sitter.Node, env: dict[bytes, _Value], enum: bytes
) -> _Value | None:
    """TypeScript's constant folding of enum initializers; None means "only at runtime"."""
    kind = node.type
    if kind == "number":
        return _parse_number(_text(src, node))
    if kind == "string":
        return _text(src, node)
    if kind == "template_string":
        has_substitution = any(c.type == "template_substitution" for c in node.named_children)
        return None if has_substitution else _text(src, node)
    if kind in _TRANSPARENT:
        return _evaluate(src, node.named_child(0), env, enum)
    if kind == "type_assertion":
        return _evaluate(src, node.named_child(node.named_child_count - 1), env, enum)
    if kind == "identifier":
        return env.get(_text(src, node))
    if kind == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and prop is not None and _text(src, obj) == enum:
            return env.get(_text(src, prop))
        return None
    if kind == "unary_expression":
        operator, argument = (
            node.child_by_field_name("operator"),
            node.child_by_field_name("argument"),
        )
        if operator is None or argument is None:
            return None
        value = _evaluate(src, argument, env, enum)
        if not isinstance(value, float):
            return None
        op = _text(src, operator)
        if op == b"-":
            return -value
        if op == b"+":
            return value
        if op == b"~":
            return float(~_int32(value))
        return None
    if kind == "binary_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        operator = node.child_by_field_name("operator")
        if left is None or right is None or operator is None:
            return None
        function = _BINARY.get(_text(src, operator))
        a, b = _evaluate(src, left, env, enum), _evaluate(src, right, env, enum)
        if function is None or not isinstance(a, float) or not isinstance(b, float):
            return None
        try:
            return function(a, b)
        except (ArithmeticError, ValueError, TypeError):
            return None  # x / 0, or (-8) ** 0.5 turning complex: let the engine compute it
    return None


def _parse_number(text: bytes) -> float | None:
    digits = text.replace(b"_", b"").lower()
    try:
        if digits[:2] in (b"0x", b"0o", b"0b"):
            return float(int(digits, 0))
        if len(digits) > 1 and digits[0] == ord("0") and digits[1:2].isdigit():
            return None  # legacy octal: not valid in strict mode anyway
        return float(digits)
    except ValueError:
        return None  # a BigInt, for instance


def _js_number(value: float) -> bytes:
    if math.isnan(value):
        return b"NaN"
    if math.isinf(value):
        return b"Infinity" if value > 0 else b"-Infinity"
    if value.is_integer() and abs(value) < 2**53:
        return b"%d" % int(value)
    return repr(value).encode()


def _int32(value: float) -> int:
    if not math.isfinite(value):
        return 0
    n = int(value) & 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def _uint32(value: float) -> int:
    return _int32(value) & 0xFFFFFFFF


# --- syntax errors -----------------------------------------------------------------------


def _position(src: bytes, offset: int) -> tuple[int, int]:
    line_start = src.rfind(b"\n", 0, offset) + 1
    column = len(src[line_start:offset].decode("utf-8", "replace")) + 1
    return src.count(b"\n", 0, offset) + 1, column


def _leaves(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    cursor = root.walk()
    while True:
        node = cursor.node
        assert node is not None
        if node.child_count == 0:
            yield node
        elif cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


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


_SEMICOLON: Final = _LANGUAGE.id_for_node_kind(";", False) or -1
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
    iterator = _LANGUAGE.lookahead_iterator(state)
    # Iterate rather than call symbols(): that method crashes in tree-sitter 0.26.1.
    return frozenset(symbol for symbol, _ in iterator) if iterator is not None else frozenset()


def _syntax_error(root: tree_sitter.Node, src: bytes) -> TypeScriptSyntaxError:
    """Describe the first syntax error as an engine would, at the model's own position."""
    first = _first_error(root)
    leaves = [leaf for leaf in _leaves(root) if not leaf.is_extra and not leaf.is_missing]

    for leaf in leaves if first.is_error else ():
        if leaf.start_byte >= first.end_byte:
            break
        if leaf.start_byte >= first.start_byte and leaf.type in ("'", '"', "`"):
            parent = leaf.parent
            if parent is not None and parent.is_error:
                kind = "template" if leaf.type == "`" else "string"
                line, column = _position(src, leaf.start_byte)
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
        line, column = _position(src, first.start_byte)
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
    text = _text(src, leaf).decode("utf-8", "replace")
    if len(text) > 30:
        text = text[:27] + "..."
    kind = leaf.type
    if kind in _IDENTIFIERS:
        message = f"Unexpected identifier '{text}'"
    elif kind == "number":
        message = f"Unexpected number '{text}'"
    elif kind in ("string_fragment", "'", '"'):
        message = "Unexpected string"
    elif kind == "`":
        message = "Unexpected template string"
    else:
        message = f"Unexpected token '{text}'"
    line, column = _position(src, leaf.start_byte)
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
        line, column = _position(src, opener.start_byte)
        detail = f"'{opener.type}' at line {line}, column {column} is never closed"
    line, column = _position(src, len(src.rstrip()))
    message = "Unexpected end of input" + (f": {detail}" if detail else "")
    return TypeScriptSyntaxError(message, line, column)
