"""Tests for codemode.typescript.strip: type erasure that keeps every token in place."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from codemode.typescript import TypeScriptSyntaxError, strip_types, strip_types_cached

NODE = shutil.which("node")
IMPORT_MESSAGE = (
    "import declarations are not available in the sandbox: "
    "tools are global async functions named external_<name>"
)

# Runs the stripped program the way the sandbox does: as the body of an async function.
_RUNNER = """
const source = require("fs").readFileSync(0, "utf8");
const run = new Function("return (async () => {\\n" + source + "\\n})()");
run().then(
  (value) => process.stdout.write(JSON.stringify(value === undefined ? null : value)),
  (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
);
"""


def run_js(javascript: str) -> Any:
    """Evaluate stripped output in node and return its JSON result."""
    if NODE is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [NODE, "-e", _RUNNER], input=javascript, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def marked(template: str) -> tuple[str, str]:
    """Split a template into (source, expected): text inside «» is blanked in the output."""
    source = template.replace("«", "").replace("»", "")
    expected = re.sub(
        "«(.*?)»", lambda m: re.sub(r"[^\r\n]", " ", m.group(1)), template, flags=re.DOTALL
    )
    return source, expected


def assert_same_positions(source: str, output: str) -> None:
    """Every character left in the output sits at its (line, column) in the source."""
    source_lines, output_lines = source.split("\n"), output.split("\n")
    assert len(source_lines) == len(output_lines)
    for number, (before, after) in enumerate(zip(source_lines, output_lines, strict=True), 1):
        assert len(after) == len(before), f"line {number}: {after!r}"
        for column, char in enumerate(after):
            if char != " ":
                assert before[column] == char, f"line {number} column {column + 1}: {after!r}"


# --- erasure: the output equals the source with the marked parts blanked -----------------

ERASED = {
    "variable annotation": "let total«: number» = 0;",
    "parameter and return types": "function add(a«: number», b«: number»)«: number» { return a + b; }",
    "optional parameter": "function f(a«?: string», b«?») { return a; }",
    "destructured parameter": "const f = ({ a, b }«: { a: number; b?: string }») => a;",
    "rest parameter": "function f(...args«: unknown[]») {}",
    "catch clause": "try { f(); } catch (e«: unknown») { g(e); }",
    "interface": "«interface User {\n  id: number;\n  name?: string;\n}»\nconst u = 1;",
    "type alias": "«type Id = string | number;»\nconst id = 1;",
    "exported interface and type": "«export interface A { x: number }»\n«export type B = A[];»\nf();",
    "declare statements": "«declare const DEBUG: boolean;»\n«declare function log(x: string): void;»\nf();",
    "declare global": "«declare global { interface Window { x: number } }»\nf();",
    "import type": '«import type { Foo } from "./foo";»\nf();',
    "inline type imports only": '«import { type A, type B } from "./types";»\nf();',
    "export type": "«export type { Foo };»\nf();",
    "export list": "const a = 1;\n«export { a };»",
    "generic function": "function id«<T extends object = {}>»(x«: T»)«: T» { return x; }",
    "generic class and method": "class Box«<T>» { get«<U>»(x«: U»)«: U» { return x; } }",
    "call type arguments": "const m = useMap«<string, number>»(1);",
    "new type arguments": "const m = new Map«<string, Array<number>>»();",
    "optional call type arguments": "a?.«<T>»(x);",
    "instantiation expression": "const g = f«<string>»;",
    "as": "const n = (value« as number») + 1;",
    "as const": "const c = [1, 2]« as const»;",
    "chained as": "const x = y« as unknown as string»;",
    "satisfies": "const s = { a: 1 }« satisfies Record<string, number>»;",
    "non-null": "const n = map.get(k)«!».size + a«!»[0] + b«!»();",
    "non-null assignment": "obj.value«!» = 3;",
    "angle assertion": "const v = «<string>»raw;",
    "implements": "class A «implements I, J» {}",
    "extends with type arguments": "class A extends B«<string>» {}",
    "access modifiers": (
        "class A {\n  «private» a = 1;\n  «protected» «readonly» b = 2;\n"
        "  «public» «override» m() {}\n  static «readonly» c = 3;\n}"
    ),
    "declare field": "class A {\n  «declare x: number»;\n  y = 1;\n}",
    "definite assignment": "class A { x«!: number»; }\nlet y«!: string»;",
    "optional members": "class A { x«?: number» = 1; m«?»() {} }",
    "overload signatures": (
        "«function f(a: string): string;»\n«function f(a: number): number;»\n"
        "function f(a«: any») { return a; }"
    ),
    "exported overload": "«export function f(a: string): void;»\n«export» function f(a«: any») {}",
    "method overloads": "class A {\n  «m(a: string): void»;\n  m(a«: any») {}\n}",
    "abstract class": "«abstract» class A {\n  «abstract m(): void»;\n  «abstract x: number»;\n  n() {}\n}",
    "index signature in class": "class A {\n  «[key: string]: unknown»;\n  x = 1;\n}",
    "this parameter": "function f(«this: Window, »a«: number») {}\nfunction g(«this: Window») {}",
    "type predicate": "function isS(x«: unknown»)«: x is string» { return true; }",
    "asserts": "function check(x«: unknown»)«: asserts x is string» {}",
    "export declarations": (
        "«export» const a = 1;\n«export» function f() {}\n«export» class C {}\n"
        "«export» «abstract» class D {}\n«export default» function g() {}"
    ),
    "type-only namespace": "«namespace Types {\n  export interface A {}\n}»\nf();",
    "declare namespace": "«declare namespace Lib { const version: string; }»\nf();",
    "getter return type": "const o = { get a()«: number» { return 1; } };",
    "object method generics": "const o = { m«<T>»(a«: T»)«: T» { return a; } };",
    "function type annotation": "let cb«: (a: number) => void» = () => {};",
    "hashbang": "«#!/usr/bin/env node»\nf();",
}


@pytest.mark.parametrize("template", ERASED.values(), ids=ERASED.keys())
def test_type_syntax_is_blanked_in_place(template: str) -> None:
    source, expected = marked(template)
    assert strip_types(source) == expected


# A top-level interface, type alias, `declare` or overload signature is erased whole and the
# query skips what is inside it (``_captures``): what lies between them must still be seen.
TOP_LEVEL = {
    "first statement": "«interface A { x: number }»\nlet a«: A» = f()«!»;",
    "last statement": "let a«: number» = 1;\n«type B = { y: string };»",
    "only types": "«interface A { x: number }»\n«type B = A;»\n«declare const c: B;»",
    "comments between": "«type A = 1;» // a comment\n/* block */ «type B = 2;»\nlet x«: A» = 1;",
    "code between": "«type A = 1;»\nconst a = b« as A»;\n«interface C { d: A }»\nf«<C>»();",
    "overloads then body": (
        "«function f(a: string): string;»\n«function f(a: number): number;»\n"
        "function f(a«: any»)«: any» { return a«!»; }"
    ),
    "hashbang then type": "«#!/usr/bin/env node»\n«type A = 1;»\nlet a«: A» = 1;",
    "non-ASCII before and between": (
        'let ü = "ö";\u00a0«type Ü = string;» const v«: Ü» = ü« as Ü»;\n'
        '«interface 名前 { 値: Ü }» const w«: 名前» = { 値: "é" }«!»;'
    ),
    "nested declarations are not top level": (
        "function f() {\n  «interface I { a: number }»\n  «type X = I;»\n  return 1« as X»;\n}"
    ),
    "exported type declarations": "«export interface I { a: 1 }»\n«export type Q = I;»\nf«<Q>»();",
    "declare global and module": (
        '«declare global { interface Window { z: number } }»\n«declare module "m" {}»\nwindow.z«!»;'
    ),
}


@pytest.mark.parametrize("template", TOP_LEVEL.values(), ids=TOP_LEVEL.keys())
def test_top_level_type_declarations_and_what_lies_between(template: str) -> None:
    source, expected = marked(template)
    assert strip_types(source) == expected


def test_enum_between_top_level_types_is_rewritten() -> None:
    assert strip_types("type A = number;\nenum E { X = 1 as A }\ninterface B { e: E }") == (
        '                \nconst E = Object.freeze({ X: 1, 1: "X", });\n                    '
    )


def test_removed_top_level_declaration_before_a_parenthesis_keeps_statements_apart() -> None:
    assert strip_types("interface A { x: number }\n(f as any)();\n") == (
        ";                        \n(f       )();\n"
    )
    assert strip_types("type T = number\n[1, 2].forEach((x: T) => x);\n") == (
        ";              \n[1, 2].forEach((x   ) => x);\n"
    )


def test_import_after_declare_module_is_still_reported() -> None:
    with pytest.raises(TypeScriptSyntaxError) as caught:
        strip_types('declare module "m" { import x from "y"; }\nimport z from "z";\n')
    assert (caught.value.message, caught.value.line, caught.value.column) == (IMPORT_MESSAGE, 2, 1)


def test_generic_arrow_functions() -> None:
    source, expected = marked(
        "const f = «<T,>»(x«: T»)«: T» => x;\nconst g = async «<T>»(x«: T») => x;\nreturn [f(1), await g(2)];"
    )
    output = strip_types(source)
    assert output == expected
    assert run_js(output) == [1, 2]


def test_comparisons_are_not_generics() -> None:
    source = "const a = 1, b = 2, c = 3, d = 2;\nreturn [a < b && c > d, a < b, c > d, a <b>c];"
    assert strip_types(source) == source
    assert run_js(source) == [True, True, True, False]


def test_plain_javascript_is_unchanged() -> None:
    source = (
        "const re = /ab+c/gi.test(s) ? `x${a ? b : c}y` : 'z';\n"
        "label: for (const x of xs) { if (x) continue label; }\n"
        "const o = { get a() { return 1; }, async *g() { yield* other(); }, [k]: 1, ...rest };\n"
        "let { a, b: [c, d = 2], ...e } = obj;\n"
        "x ??= y; x ||= z; a?.b?.[c]?.(d);\n"
        "class A extends B { static #p = 1; static { A.#p++; } #m() {} }\n"
        "const type = 1, as = 2, declare = 3, module = 4;\n"
        "const cond = a ? b : c; const big = 10n ** 3n; const t = tag`x${y}`;\n"
    )
    assert strip_types(source) == source


def test_empty_program() -> None:
    assert strip_types("") == ""
    assert strip_types("\n\n  \n") == "\n\n  \n"


def test_top_level_await_and_return() -> None:
    source = "const v«: number» = await Promise.resolve(41);\nreturn v + 1;\n"
    source, expected = marked(source)
    output = strip_types(source)
    assert output == expected
    assert run_js(output) == 42


def test_non_ascii_strings_comments_and_types() -> None:
    source, expected = marked(
        '// héllo wörld 🎉\nconst s«: "ü" | \'é\'» = "ü"; /* ñ */ const n = s«!».length;\n'
        '«type 名前 = { 名: string };»\nconst 名«: 名前» = { 名: "🎉" }; return [s, n, 名.名];'
    )
    output = strip_types(source)
    assert output == expected
    assert run_js(output) == ["ü", 1, "🎉"]


def test_javascript_line_separators_survive_blanking() -> None:
    source = "let x: 'a\u2028b' = 1;"
    output = strip_types(source)
    assert output.count("\u2028") == 1
    assert output.startswith("let x")
    assert output.endswith(" = 1;")


def test_crlf_line_endings() -> None:
    source, expected = marked("«interface A {\r\n  x: number\r\n}»\r\nlet a«: A» = 1;\r\n")
    assert strip_types(source) == expected


def test_positions_survive_in_a_realistic_program() -> None:
    source = REALISTIC.replace(ENUMS, ENUMS_PLAIN).replace(CTOR, CTOR_PLAIN)
    output = strip_types(source)
    assert_same_positions(source, output)
    # A few named identifiers after erased constructs keep their (line, column).
    for name in ("daysSince", "groupBy", "toSummary", "ranker", "summaries", "external_post"):
        assert output.index(name) == source.index(name)


# --- statement boundaries: erasure must not glue two statements together ------------------


def test_removed_statement_before_a_parenthesis_leaves_a_semicolon() -> None:
    source = "let a = 1\ntype T = string\n(function () {})()\ninterface I {}\n[a].forEach(f)"
    output = strip_types(source)
    assert output.split("\n") == [
        "let a = 1",
        ";              ",
        "(function () {})()",
        ";             ",
        "[a].forEach(f)",
    ]


def test_annotation_without_initializer_before_a_bracket() -> None:
    source = "let z: number\n[1, 2].map(String)"
    assert strip_types(source) == "let z       ;\n[1, 2].map(String)"


def test_removed_class_member_before_computed_member() -> None:
    source = "class C {\n  x = [1]\n  declare y: number\n  [Symbol.iterator]() {}\n}"
    output = strip_types(source)
    assert output.split("\n")[2] == "  ;                "


def test_multiline_arrow_return_type_keeps_arrow_on_the_parameters_line() -> None:
    source = (
        "const f = async (x: number): Promise<{\n  a: number\n}> => ({ a: x });\nreturn await f(3);"
    )
    output = strip_types(source)
    assert output.split("\n") == [
        "const f = async (x                    ",
        "           ",
        " ) => ({ a: x });",
        "return await f(3);",
    ]
    assert run_js(output) == {"a": 3}


def test_arrow_returning_asserted_object_stays_an_object() -> None:
    source = "const g = () => <any>{ a: 1 };\nreturn g();"
    output = strip_types(source)
    assert output == "const g = () => (    { a: 1 });\nreturn g();"
    assert run_js(output) == {"a": 1}


# --- rewrites: enums and parameter properties ---------------------------------------------


def test_enum_rewrite_text() -> None:
    assert strip_types('enum E { A, B = 5, C, D = "x" }') == (
        'const E = Object.freeze({ A: 0, 0: "A", B: 5, 5: "B", C: 6, 6: "C", D: "x", });'
    )


def test_enum_keeps_the_line_count_and_members_on_their_lines() -> None:
    source = "enum Color {\n  Red, // first\n\n  Green = 4,\n}\nconst after = Color.Green;"
    output = strip_types(source)
    assert output.split("\n") == [
        "const Color = Object.freeze({",
        '  Red: 0, 0: "Red",',
        "",
        '  Green: 4, 4: "Green",',
        "});",
        "const after = Color.Green;",
    ]


def test_enum_semantics() -> None:
    source = (
        'enum E { A, B = 5, C, D = "x" }\n'
        "const enum F {\n  X = 1 << 3,\n  Y = X | 1,\n  Z = F.Y + 1,\n  W = -2,\n  V,\n}\n"
        "export enum G { Only }\n"
        "return { E, F, G, frozen: Object.isFrozen(E), reverse: E[0], six: E[6], none: E['x'] ?? null };"
    )
    output = strip_types(source)
    assert output.count("\n") == source.count("\n")
    result = run_js(output)
    assert result["E"] == {"0": "A", "5": "B", "6": "C", "A": 0, "B": 5, "C": 6, "D": "x"}
    assert result["F"] == {
        "8": "X", "9": "Y", "10": "Z", "-2": "W", "-1": "V",
        "X": 8, "Y": 9, "Z": 10, "W": -2, "V": -1,
    }  # fmt: skip
    assert result["G"] == {"0": "Only", "Only": 0}
    assert result["frozen"] is True
    assert (result["reverse"], result["six"], result["none"]) == ("A", "C", None)


def test_enum_with_runtime_initializers() -> None:
    source = (
        'enum R {\n  P = "p".length,\n  Q,\n  S = P * 10,\n  T = Math.max(1, 2) as number,\n  U = "u",\n}\n'
        "return R;"
    )
    output = strip_types(source)
    assert output.count("\n") == source.count("\n")
    assert " as number" not in output
    assert run_js(output) == {
        "1": "P", "2": "T", "10": "S",
        "P": 1, "Q": 2, "S": 10, "T": 2, "U": "u",
    }  # fmt: skip


def test_declare_enum_is_removed() -> None:
    source, expected = marked("«declare enum E { A }»\nf();")
    assert strip_types(source) == expected


def test_parameter_properties_text() -> None:
    source = (
        "class P {\n  constructor(private x: number, public readonly y = 2) {\n    f();\n  }\n}"
    )
    assert strip_types(source).split("\n") == [
        "class P {",
        "  constructor(        x        ,                 y = 2) { this.x = x; this.y = y;",
        "    f();",
        "  }",
        "}",
    ]


def test_parameter_properties_after_super() -> None:
    source = (
        "class Base { constructor(public tag: string) {} }\n"
        "class Point extends Base {\n"
        "  constructor(public x: number, private y = 2, protected readonly z?: number) {\n"
        "    const pre = 1;\n"
        '    super("pt")\n'
        "    this.sum = x + y + pre + this.x;\n"
        "  }\n"
        "  sum!: number;\n"
        "}\n"
        "class Plain { constructor(readonly a: string, override b = 3) {} }\n"
        "const p = new Point(1);\n"
        'return [p.tag, p.x, p.y, p.z ?? "none", p.sum, new Plain("q").a, new Plain("q").b];'
    )
    output = strip_types(source)
    assert output.split("\n")[4] == '    super("pt"); this.x = x; this.y = y; this.z = z;'
    assert run_js(output) == ["pt", 1, 2, "none", 5, "q", 3]


# --- errors --------------------------------------------------------------------------------


def _error(source: str) -> TypeScriptSyntaxError:
    with pytest.raises(TypeScriptSyntaxError) as caught:
        strip_types(source)
    return caught.value


def test_syntax_error_position_is_in_the_model_source() -> None:
    lines = [
        "interface Issue {",
        "  id: number;",
        "  title: string;",
        "}",
        "type Ids = Issue['id'][];",
        "",
        "function ids(issues: Issue[]): Ids {",
        "  return issues.map((i) => i.id);",
        "}",
        "",
        "const issues = await external_list_issues({ repo: 'a/b' });",
        "const count = issues.filter((i: Issue) => i.id > 3).length 7;",
        "return count;",
    ]
    error = _error("\n".join(lines))
    assert (error.line, error.column) == (12, 60)
    assert error.message == "Unexpected number '7'"
    assert str(error) == "Unexpected number '7' (line 12, column 60)"


CASES = {
    "const x = ;": ("Unexpected token ';'", 1, 11),
    "const x = 1\nconst y = )": ("Unexpected token ')'", 2, 11),
    "f(x));": ("Unexpected token ')'", 1, 5),
    "let x: = 3;": ("Unexpected token '='", 1, 8),
    "a b": ("Unexpected identifier 'b'", 1, 3),
    "const o = {a: 1 b: 2};": ("Unexpected identifier 'b'", 1, 17),
    "for (let i = 0; i < 3 i++) {}": ("Unexpected identifier 'i'", 1, 23),
    "let a = [1, 2;": ("Missing ']'", 1, 14),
    "while (true {}": ("Missing ')'", 1, 12),
    "if (x) {\n  f();\n": ("Unexpected end of input: missing '}'", 2, 7),
    "foo(a,\n  b": ("Unexpected end of input: '(' at line 1, column 4 is never closed", 2, 4),
    "let s = 'abc": ("Unterminated string literal", 1, 9),
    "let t = `abc": ("Unterminated template literal", 1, 9),
    'let s = f"hello {x}";': ("Unexpected string", 1, 10),
    "if x > 3:\n  print(x)": ("Unexpected identifier 'x'", 1, 4),
    "let é = 'ü'; )": ("Unexpected token ')'", 1, 14),
}


@pytest.mark.parametrize(("source", "expected"), CASES.items(), ids=list(CASES))
def test_syntax_error_messages(source: str, expected: tuple[str, int, int]) -> None:
    error = _error(source)
    assert (error.message, error.line, error.column) == expected


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ('import { readFile } from "fs";', 1, 1),
        ('const a = 1;\n  import fs from "fs";', 2, 3),
        ('import "side-effect";', 1, 1),
        ('import x = require("x");', 1, 1),
        ('import { type A, b } from "m";', 1, 1),
    ],
)
def test_imports_are_rejected(source: str, line: int, column: int) -> None:
    error = _error(source)
    assert (error.message, error.line, error.column) == (IMPORT_MESSAGE, line, column)
    assert "external_<name>" in error.message


def test_dynamic_import_is_left_to_the_engine() -> None:
    source = 'const m = await import("x");'
    assert strip_types(source) == source


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("export default { a: 1 };", "export default is not available"),
        ('export * from "m";', "export ... from"),
        ("namespace N { export const a = 1; }", "namespace declarations are not supported"),
    ],
)
def test_unsupported_module_syntax_is_reported(source: str, fragment: str) -> None:
    error = _error(source)
    assert fragment in error.message
    assert (error.line, error.column) == (1, 1)


def test_import_inside_declare_module_is_not_an_error() -> None:
    source, expected = marked(
        '«declare module "m" { import { A } from "a"; export default A; }»\nf();'
    )
    assert strip_types(source) == expected


def test_error_is_picklable_and_keeps_fields() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(TypeScriptSyntaxError("Missing ')'", 3, 4)))
    assert (error.message, error.line, error.column) == ("Missing ')'", 3, 4)


# --- the whole pipeline on a realistic program --------------------------------------------
# About 150 lines in the style a model writes; also the input for timing strip_types.

ENUMS = """enum Severity {
  Trivial,
  Minor,
  Major = 5,
  Critical,
}

const enum Flags {
  None = 0,
  Stale = 1 << 0,
  Hot = 1 << 1,
}
"""
ENUMS_PLAIN = "const Severity = { Trivial: 0, Minor: 1, Major: 5, Critical: 6 };\n" + "\n" * 12
CTOR = "constructor(private readonly now: Date, public threshold: number = 3) {"
CTOR_PLAIN = "constructor(now: Date, threshold: number = 3) {"

REALISTIC = (
    """// Fetch open issues, rank them, and summarise by label.
interface Issue {
  id: number;
  title: string;
  labels: string[];
  assignee?: string | null;
  createdAt: string;
  comments: number;
}

interface Summary {
  label: string;
  count: number;
  oldest?: Issue;
}

type Priority = "low" | "medium" | "high";
type Ranked<T> = T & { score: number; priority: Priority };

"""
    + ENUMS
    + """
declare const DEBUG: boolean;
const NOW = new Date("2024-03-01T00:00:00Z");

function daysSince(iso: string, now: Date = NOW): number {
  const then = new Date(iso);
  return Math.floor((now.getTime() - then.getTime()) / 86_400_000);
}

function severityOf(issue: Issue): Severity {
  if (issue.labels.includes("critical")) return Severity.Critical;
  if (issue.labels.includes("bug")) return Severity.Major;
  if (issue.comments > 10) return Severity.Minor;
  return Severity.Trivial;
}

function groupBy<T, K extends string>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}

class Ranker<T extends Issue> implements Iterable<number> {
  private readonly weights: Record<string, number>;
  protected cache = new Map<number, number>();
  public count!: number;

  """
    + CTOR
    + """
    this.weights = { bug: 3, feature: 1, docs: 0.5 };
    this.count = 0;
  }

  score(issue: T): number {
    const cached = this.cache.get(issue.id);
    if (cached !== undefined) return cached;
    let score = severityOf(issue) * 2;
    for (const label of issue.labels) {
      score += this.weights[label] ?? 0;
    }
    score += Math.min(daysSince(issue.createdAt, this.now) / 30, 5);
    this.cache.set(issue.id, score);
    this.count++;
    return score;
  }

  rank(issues: T[]): Ranked<T>[] {
    return issues
      .map((issue): Ranked<T> => {
        const score = this.score(issue);
        const priority: Priority = score > 8 ? "high" : score > this.threshold ? "medium" : "low";
        return { ...issue, score, priority };
      })
      .sort((a, b) => b.score - a.score);
  }

  *[Symbol.iterator](): Iterator<number> {
    yield this.count;
  }
}

const toSummary = <T extends Issue>(label: string, items: T[]): Summary => {
  const sorted = [...items].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { label, count: items.length, oldest: sorted[0] };
};

const isStale = (issue: Issue, days = 90): boolean => daysSince(issue.createdAt) > days;

async function fetchAll(repo: string, pages: number): Promise<Issue[]> {
  const all: Issue[] = [];
  for (let page = 1; page <= pages; page++) {
    const batch = (await external_list_issues({ repo, page, state: "open" })) as Issue[];
    if (!batch || batch.length === 0) break;
    all.push(...batch);
  }
  return all;
}

const repo = "acme/widgets";
const issues = await fetchAll(repo, 3);
const ranker = new Ranker<Issue>(NOW, 4);
const ranked = ranker.rank(issues);

const byLabel = groupBy<Issue, string>(
  issues.flatMap((i) => i.labels.map((l) => ({ ...i, labels: [l] }))),
  (i) => i.labels[0]!,
);

const summaries: Summary[] = [];
for (const [label, items] of byLabel) {
  summaries.push(toSummary(label, items));
}
summaries.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));

let flags = Flags.None;
const stale = issues.filter((i) => isStale(i));
if (stale.length > 0) flags |= Flags.Stale;
if (ranked.some((r) => r.priority === "high")) flags |= Flags.Hot;

const top = ranked.slice(0, 2).map((r) => ({
  id: r.id,
  score: Math.round(r.score * 10) / 10,
  severity: Severity[severityOf(r)],
}));

const assignees = new Set<string>();
for (const issue of issues) {
  if (issue.assignee != null && issue.assignee.length > 0) assignees.add(issue.assignee!);
}

const config = { repo, labels: ["bug", "feature"] } as const;
const unassigned = issues.filter((i) => !i.assignee).length;
const ratio = issues.length > 0 && unassigned < issues.length ? unassigned / issues.length : 0;

await external_post_message({
  channel: "#triage",
  text: `Found ${issues.length} open issues in ${config.repo}; ${stale.length} are stale.`,
} satisfies { channel: string; text: string });

return {
  top,
  summaries: summaries.map((s) => `${s.label}:${s.count}:${s.oldest!.id}`),
  ratio: Number(ratio.toFixed(2)),
  assignees: [...assignees].sort(),
  flags,
  scored: ranker.count,
};
"""
)

_STUBS = """
const external_list_issues = async ({ page }) => page > 1 ? [] : [
  { id: 1, title: "a", labels: ["docs"], createdAt: "2023-10-01", comments: 2, assignee: "kim" },
  { id: 2, title: "b", labels: ["bug", "critical"], createdAt: "2024-02-20", comments: 12 },
  { id: 3, title: "c", labels: ["bug"], createdAt: "2024-02-01", comments: 0, assignee: "" },
];
const external_post_message = async () => undefined;
"""


def test_realistic_program_runs_in_node() -> None:
    output = strip_types(REALISTIC)
    assert output.count("\n") == REALISTIC.count("\n")
    result = run_js(_STUBS.replace("\n", " ") + output)
    assert result == {
        "top": [
            {"id": 2, "score": 15.3, "severity": "Critical"},
            {"id": 3, "score": 14, "severity": "Major"},
        ],
        "summaries": ["bug:2:3", "critical:1:2", "docs:1:1"],
        "ratio": 0.67,
        "assignees": ["kim"],
        "flags": 3,
        "scored": 3,
    }


def test_cached_variant() -> None:
    assert not hasattr(strip_types, "cache_info")
    assert strip_types_cached("let a: number = 1;") == strip_types("let a: number = 1;")
    before = strip_types_cached.cache_info().hits
    strip_types_cached("let a: number = 1;")
    assert strip_types_cached.cache_info().hits == before + 1
