"""strip_types is total: JavaScript or a TypeScriptSyntaxError with a position, for any str.

Each test here pins an input that once raised something else, hung, or was refused wrongly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
import tree_sitter

from codemode.typescript import TypeScriptSyntaxError, strip_types, strip_types_cached
from codemode.typescript._module_syntax import Spans
from codemode.typescript._nesting import MAX_DEPTH, first_at_depth
from codemode.typescript._tree import PARSER

NODE = shutil.which("node")
_RUNNER = """
const source = require("fs").readFileSync(0, "utf8");
const run = new Function("return (async () => {\\n" + source + "\\n})()");
run().then((value) => process.stdout.write(JSON.stringify(value === undefined ? null : value)));
"""


def run_js(javascript: str) -> Any:
    if NODE is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [NODE, "-e", _RUNNER], input=javascript, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def error(source: str) -> TypeScriptSyntaxError:
    with pytest.raises(TypeScriptSyntaxError) as caught:
        strip_types(source)
    return caught.value


# --- enum initializers that once crashed the constant folder --------------------------------


def test_hex_literal_too_large_for_a_double_is_infinity() -> None:
    source = "enum E { A = 0x" + "F" * 400 + ", B = A * 2.5, C = A ** 999 }"
    assert strip_types(source) == (
        'const E = Object.freeze({ A: Infinity, [Infinity]: "A", B: Infinity, [Infinity]: "B",'
        ' C: Infinity, [Infinity]: "C", });'
    )


@pytest.mark.parametrize(
    ("initializer", "value"),
    [
        pytest.param("(" * 5000 + "1" + ")" * 5000, 1, id="5000 parentheses"),
        pytest.param("- " * 5000 + "1", 1, id="5000 unary minus"),
        pytest.param("- " * 5001 + "1", -1, id="5001 unary minus"),
        pytest.param("+".join(["1"] * 50_000), 50_000, id="50000 additions"),
        pytest.param("1" + " << 0 | 0" * 3000, 1, id="3000 mixed operators"),
    ],
)
def test_deeply_nested_initializers_fold(initializer: str, value: int) -> None:
    reverse = str(value) if value >= 0 else f"[{value}]"
    assert strip_types(f"enum E {{ A = {initializer} }}") == (
        f'const E = Object.freeze({{ A: {value}, {reverse}: "A", }});'
    )


def test_decrement_chains_are_left_to_the_engine() -> None:
    # "-----1" lexes as `-- -- -1`, which no engine accepts: not a constant, not a crash.
    output = strip_types("enum E { A = " + "-" * 5000 + "1 }")
    assert output.startswith('const E = (() => { const E = {}; E["A"] = (----')


# --- characters that once broke the parser or the encoder -------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "const s: string = 'a\0b'; return s;",
        'const s: string = "a\0b"; return s;',
        "const s: string = `a\0b${1}\0`; return s;",
        "const r = /a\0/.source; // \0\n/* \0 */ return r;",
        'enum E { A = "\0" }\nreturn E.A;',
    ],
)
def test_nul_inside_literals_and_comments_is_kept(source: str) -> None:
    output = strip_types(source)
    assert output.count("\0") == source.count("\0")
    assert len(output) == len(source) or "enum" in source
    assert "\0" in str(run_js(output))


@pytest.mark.parametrize(
    ("source", "column"),
    [("let a = 1;\0", 11), ("let a\0= 1;", 6), ("\0", 1), ("let b = 2;\x01", 11)],
)
def test_nul_outside_literals_is_an_invalid_character(source: str, column: int) -> None:
    problem = error(source)
    code = ord(source[column - 1])
    assert (problem.message, problem.line, problem.column) == (
        f"Invalid character U+{code:04X}",
        1,
        column,
    )


def test_lone_surrogates_read_as_replacement_characters() -> None:
    assert strip_types("const s = '\ud83d';") == "const s = '\ufffd';"
    assert strip_types("let s: string = '\udc00\ud800';") == "let s         = '\ufffd\ufffd';"
    assert strip_types_cached("const t = `\ud800`;") == "const t = `\ufffd`;"


def test_lone_surrogates_keep_error_columns() -> None:
    problem = error("const s = '\ud800';\nconst t = '\udfff'; )")
    assert (problem.line, problem.column) == (2, 16)
    plain = error("const s = 'x';\nconst t = 'y'; )")
    assert (plain.line, plain.column) == (2, 16)


# --- nesting --------------------------------------------------------------------------------


def test_nesting_just_under_the_limit_is_stripped() -> None:
    # Two tree levels per `A<`: the innermost type arguments sit about 59,000 levels down.
    levels = 29_500
    generic = "A<" * levels + "B" + ">" * levels
    source = f"let x: {generic} = 1;"
    assert first_at_depth(PARSER.parse(source.encode()).root_node, 59_000) is not None
    output = strip_types(source)
    assert len(output) == len(source)
    assert output.split() == ["let", "x", "=", "1;"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("const x = " + "[" * 70_000 + "]" * 70_000 + ";", id="brackets"),
        pytest.param("const x = " + "(" * 70_000 + "1" + ")" * 70_000 + ";", id="parentheses"),
        pytest.param("let x: " + "A<" * 40_000 + "B" + ">" * 40_000 + ";", id="generics"),
        pytest.param("const x = " + "+".join(["y"] * 70_000) + ";", id="operator chain"),
        pytest.param("enum E { A = " + "(" * 70_000 + "1" + ")" * 70_000 + " }", id="enum"),
    ],
)
def test_nesting_over_the_limit_is_a_syntax_error(source: str) -> None:
    problem = error(source)
    assert problem.message.startswith(f"Nesting deeper than {MAX_DEPTH} levels")
    assert "split it into smaller statements" in problem.message
    assert problem.line == 1
    assert 1 < problem.column < len(source)


def _preorder_depths(root: tree_sitter.Node) -> list[tuple[int, tree_sitter.Node]]:
    out: list[tuple[int, tree_sitter.Node]] = []
    pending = [(0, root)]
    while pending:
        depth, node = pending.pop()
        out.append((depth, node))
        pending.extend((depth + 1, child) for child in reversed(node.children))
    return out


@pytest.mark.parametrize(
    "source",
    [
        "f([[1]], [[[2]]], [[[3]]]);",
        "f([" + ", ".join(["1"] * 300) + "], " + "[" * 40 + "]" * 40 + ");",
        "let a = 1;\nif (a) { if (a) { g(a + a * (a - 1)); } }\n" * 5,
    ],
)
def test_first_at_depth_is_the_first_node_of_that_depth_in_source_order(source: str) -> None:
    root = PARSER.parse(source.encode()).root_node
    walked = _preorder_depths(root)
    deepest = max(depth for depth, _ in walked)
    for depth in range(deepest + 2):
        expected = next((node for d, node in walked if d == depth), None)
        found = first_at_depth(root, depth)
        assert (found is None) == (expected is None), depth
        if found is not None and expected is not None:
            assert (found.start_byte, found.end_byte, found.type) == (
                expected.start_byte,
                expected.end_byte,
                expected.type,
            )


# --- module syntax: deep namespaces, erased spans ---------------------------------------------


def test_deeply_nested_type_only_namespaces_are_erased() -> None:
    source = "namespace A {\n" * 3000 + "interface I {}\n" + "}\n" * 3000 + "f();"
    output = strip_types(source)
    assert output.split("\n")[-1] == "f();"
    assert output.strip() == "f();"


def test_deeply_nested_namespace_with_a_value_is_reported_at_the_outermost() -> None:
    source = "const a = 1;\n" + "namespace A {\n" * 3000 + "const x = 1;\n" + "}\n" * 3000
    problem = error(source)
    assert "namespace declarations are not supported" in problem.message
    assert (problem.line, problem.column) == (2, 1)


def test_namespace_with_values_after_a_type_only_one() -> None:
    source = "namespace T { interface I {} }\nnamespace V { namespace W { interface J {} } const v = 1; }"
    problem = error(source)
    assert (problem.line, problem.column) == (2, 1)


def test_import_inside_an_erased_namespace_is_not_reported() -> None:
    source = 'declare namespace N { import x = require("x"); }\nimport { y } from "y";'
    problem = error(source)
    assert (problem.line, problem.column) == (2, 1)


def test_spans_merge_and_answer_covers() -> None:
    spans = Spans()
    for start, end in [(10, 20), (30, 40), (15, 35), (50, 60), (0, 0), (55, 58)]:
        spans.add(start, end)
    covered = [offset for offset in range(70) if spans.covers(offset)]
    assert covered == [*range(10, 40), *range(50, 60)]


# --- parameter properties are found from the constructor down ---------------------------------


def test_parameter_properties_only_for_the_methods_that_have_them() -> None:
    source = "class A { m(a) {} constructor(private x, y, public z?) {} }"
    assert strip_types(source) == (
        "class A { m(a) {} constructor(        x, y,        z ) { this.x = x; this.z = z;} }"
    )


def test_parameter_properties_of_a_class_in_a_default_value() -> None:
    source = "class A { constructor(private a = class { constructor(public b) {} }) {} }"
    assert strip_types(source) == (
        "class A { constructor(        a = class { constructor(       b) { this.b = b;} }) "
        "{ this.a = a;} }"
    )


def test_deeply_nested_constructors() -> None:
    levels = 2000
    source = "class A { constructor(private a: number) {\n" * levels + "}}\n" * levels
    output = strip_types(source)
    assert output.count("this.a = a;") == levels
    assert output.count("\n") == source.count("\n")


def test_this_parameter_takes_its_comma_past_comments() -> None:
    source = (
        "function f(this: X /* c */ , a) {}\nfunction g(this: Y) {}\nfunction h(this: Z,\n  b) {}"
    )
    assert strip_types(source) == (
        "function f(                  a) {}\nfunction g(       ) {}\nfunction h(        \n  b) {}"
    )


def test_deeply_nested_this_parameters() -> None:
    levels = 3000
    source = "function f(this: X, a) {\n" * levels + "}\n" * levels
    assert strip_types(source).split("\n")[levels - 1] == "function f(         a) {"
