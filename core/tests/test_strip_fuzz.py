"""Generated inputs for strip_types: JavaScript or TypeScriptSyntaxError, nothing else, ever.

Deterministic (one ``random.Random`` seed per test) and quick. Every success keeps the line
count and is well-formed text; every error has a message and a position inside the source.
"""

from __future__ import annotations

import random

import pytest
import tree_sitter

from codemode.typescript import TypeScriptSyntaxError, strip_types, strip_types_cached, well_formed
from codemode.typescript._tree import LANGUAGE, PARSER

CORPUS = [
    """interface Issue { id: number; title?: string | null; labels: readonly string[] }
type Ranked<T> = T & { score: number };
declare const DEBUG: boolean;
enum Severity { Low, High = 1 << 3, Named = "n", Neg = -High }
const enum Flags { None = 0, A = None | 1 }
abstract class Base<T extends Issue> implements Iterable<T> {
  private items: T[] = [];
  abstract score(issue: T): number;
  constructor(protected readonly name: string, public limit?: number) {}
  *[Symbol.iterator](): Iterator<T> { yield* this.items; }
}
// Ranks issues. /* not nested */
function isIssue(x: unknown): x is Issue { return typeof x === "object" && x !== null; }
const rank = <T extends Issue>(xs: T[]): Ranked<T>[] => xs.map((x) => ({ ...x, score: 1 }));
const issues = (await external_list({ repo: "a/b" })) as Issue[];
const first = issues[0]!;
return { n: rank(issues).length, first: first satisfies Issue, s: Severity[Severity.High] };
""",
    """namespace Types { export interface A { x: number } }
declare module "m" { export function f(): void; }
import type { T } from "t";
export type { T };
let text = `total: ${1 + 2} and ${`nested ${"deep"}`}`; // a line comment
/* a block comment */
label: for (const [k, v] of Object.entries({ a: 1 })) { if (v) continue label; }
const re = /a+[/]b/gi, big = 10n ** 3n, o = { get a(): number { return 1; } };
class P { constructor(private x: number, y = 2) { super(); } m?(): void; declare z: string; }
const g = () => <any>{ a: 1 };
function f(this: Window, a?: number): asserts a is number {}
""",
    "const s = 'ü\u2028é'; // 🎉 comment\n/* block */ let n: 名前 = 1;\r\nreturn s;\r\n",
]

TOKENS = [
    *"(){}[]<>;:,.?!'\"`$\\/*+-=&|^%~@# \n\t\r",
    "\0",
    "\x01",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\udfff",
    "é",
    "🎉",
    "0x",
    "1e999",
    "enum E { A = ",
    "namespace N { ",
    "declare ",
    "import ",
    "export ",
    "export default ",
    "constructor(private ",
    " as ",
    " satisfies ",
    "=> ",
    "${",
    "*/",
    "/*",
    "//",
    "<T>",
    ": T",
    "abstract ",
    "type ",
    "interface ",
    "?.",
    "!",
]


def check(source: str) -> None:
    """The one property: JavaScript with the same lines, or a positioned syntax error."""
    try:
        output: str | TypeScriptSyntaxError = strip_types(source)
    except TypeScriptSyntaxError as error:
        output = error
    if isinstance(output, TypeScriptSyntaxError):
        lines = well_formed(source).split("\n")
        assert output.message
        assert 1 <= output.line <= len(lines), (output, source[:200])
        assert 1 <= output.column <= len(lines[output.line - 1]) + 1, (output, source[:200])
    else:
        assert output.count("\n") == source.count("\n"), source[:200]
        output.encode("utf-8")  # no lone surrogate survives


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        at = rng.randint(0, len(chars))
        roll = rng.random()
        if roll < 0.45:
            chars[at:at] = rng.choice(TOKENS)
        elif roll < 0.75:
            del chars[at : at + rng.randint(1, 6)]
        else:
            start = rng.randint(0, len(chars))
            chars[at:at] = chars[start : start + rng.randint(1, 40)]
    return "".join(chars)


def test_mutated_programs() -> None:
    rng = random.Random(1)
    for _ in range(1500):
        check(mutate(rng, rng.choice(CORPUS)))


def test_slices_of_programs() -> None:
    rng = random.Random(2)
    for _ in range(600):
        text = rng.choice(CORPUS)
        start = rng.randint(0, len(text))
        check(text[start : start + rng.randint(0, 300)])


def test_random_bytes_as_text() -> None:
    rng = random.Random(3)
    for _ in range(500):
        data = rng.randbytes(rng.randint(0, 120))
        # surrogateescape leaves lone surrogates; latin-1 gives NUL and control characters.
        check(data.decode("utf-8", "surrogateescape"))
        check(data.decode("latin-1"))


def test_random_code_points() -> None:
    rng = random.Random(4)
    for _ in range(300):
        check("".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(1, 40))))
        check("".join(rng.choice(TOKENS) for _ in range(rng.randint(1, 40))))


NESTINGS = [
    ("(", ")"),
    ("[", "]"),
    ("{", "}"),
    ("A<", ">"),
    ("f(", ")"),
    ("`${", "}`"),
    ("- ", ""),
    ("!", ""),
    ("x + ", ""),
    ("if (a) ", ""),
    ("namespace N { ", "}"),
    ("() => ", ""),
]


@pytest.mark.parametrize(("opener", "closer"), NESTINGS, ids=[o for o, _ in NESTINGS])
def test_deep_nesting(opener: str, closer: str) -> None:
    rng = random.Random(opener)
    depth = rng.choice([300, 3_000, 12_000])  # deeper than 60,000: test_strip_totality
    check("let v: T = " + opener * depth + "1" + closer * depth + ";")
    check("let v: T = " + opener * depth + "1" + closer * rng.randrange(depth))  # unclosed


def test_very_long_lines() -> None:
    rng = random.Random(5)
    statement = "let v: Array<number> = f<string>(x as any)!; "
    line = statement * 2_000  # about 90 KB on one line
    check(line)
    check(line[: rng.randrange(len(line))])
    check("enum E { " + ", ".join(f"M{i} = {i} * 2" for i in range(5_000)) + " }")


def literal_interiors(text: str) -> list[int]:
    """Offsets inside string, template and comment text, where any character is allowed."""
    assert text.isascii()  # so that byte offsets are character offsets
    query = tree_sitter.Query(LANGUAGE, "(string_fragment) @text (comment) @comment")
    captures = tree_sitter.QueryCursor(query).captures(PARSER.parse(text.encode()).root_node)
    offsets = [o for n in captures["text"] for o in range(n.start_byte, n.end_byte + 1)]
    offsets += [o for n in captures["comment"] for o in range(n.start_byte + 2, n.end_byte - 1)]
    assert offsets
    return offsets


@pytest.mark.parametrize("text", CORPUS[:2], ids=["program", "syntax tour"])
def test_odd_characters_inside_literals_behave_as_letters(text: str) -> None:
    # A NUL is any other character inside a literal; a lone surrogate reads as U+FFFD.
    rng = random.Random(7)
    offsets = literal_interiors(text)
    for at in rng.sample(offsets, 40):
        with_letter = strip_types(text[:at] + "x" + text[at:])
        with_nul = strip_types(text[:at] + "\0" + text[at:])
        assert with_nul.replace("\0", "x") == with_letter
        with_replacement = strip_types(text[:at] + "\ufffd" + text[at:])
        assert strip_types(text[:at] + "\udc00" + text[at:]) == with_replacement


def test_cached_variant_agrees() -> None:
    rng = random.Random(6)
    for _ in range(100):
        source = mutate(rng, CORPUS[0])
        try:
            expected: str | tuple[str, int, int] = strip_types(source)
        except TypeScriptSyntaxError as error:
            expected = (error.message, error.line, error.column)
        try:
            got: str | tuple[str, int, int] = strip_types_cached(source)
        except TypeScriptSyntaxError as error:
            got = (error.message, error.line, error.column)
        assert got == expected
