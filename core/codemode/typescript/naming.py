"""Names in generated TypeScript: PascalCase type names, and which names may be declared.

``pascal_case`` also names a tool's pydantic input model in ``codemode.tools``, so that the
``title`` of a tool's input schema and the type name in its stub agree. Importing this
module does not load the parser (``codemode.typescript`` loads its names on first use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "GLOBAL_TYPES",
    "KEYWORDS",
    "TypeNames",
    "definition_name",
    "is_identifier",
    "is_type_name",
    "pascal_case",
]

KEYWORDS: Final = frozenset(
    # Reserved words, strict-mode reserved words, and TypeScript's contextual keywords and
    # predefined type names: none can name an interface or a type alias.
    """abstract accessor any as asserts async await bigint boolean break case catch class
    const constructor continue debugger declare default delete do else enum export extends
    false finally for from function get global if implements import in infer instanceof
    interface is keyof let module namespace never new null number object of out package
    private protected public readonly require return satisfies set static string super
    switch symbol this throw true try type typeof undefined unique unknown var void while
    with yield""".split()  # noqa: SIM905 (a word list reads better than 80 quoted lines)
)

GLOBAL_TYPES: Final = frozenset(
    # Global types of the standard library that a declaration would shadow, merge with or
    # clash with; Record and Partial are also used by the stubs themselves.
    """Array ArrayBuffer ArrayLike AsyncGenerator AsyncIterable AsyncIterator Awaited BigInt
    Boolean Capitalize ConstructorParameters DataView Date Error EvalError Exclude Extract
    Function Generator InstanceType Intl Iterable IterableIterator Iterator JSON Lowercase
    Map Math NonNullable Number Object Omit Parameters Partial Pick Promise PromiseLike
    Proxy RangeError Readonly ReadonlyArray ReadonlyMap ReadonlySet Record ReferenceError
    Reflect RegExp Required ReturnType Set String Symbol SyntaxError TemplateStringsArray
    ThisType TypeError URIError Uint8Array Uncapitalize Uppercase WeakMap WeakRef WeakSet
    console globalThis""".split()  # noqa: SIM905
)

_WORD_BREAKS: Final = re.compile(r"[\W_]+")


def is_identifier(name: str) -> bool:
    """Whether ``name`` is a JavaScript identifier (keywords included)."""
    # Python's identifier rules are Unicode ID_Start/ID_Continue like JavaScript's, less "$".
    return name.replace("$", "_").isidentifier()


def is_type_name(name: str) -> bool:
    """Whether a declaration may use ``name``: an identifier, not a keyword or global type."""
    return is_identifier(name) and name not in KEYWORDS and name not in GLOBAL_TYPES


def pascal_case(text: str) -> str:
    """``fetch_weather``, ``fetch-weather``, ``fetchWeather`` and ``FETCH_WEATHER`` all give
    ``FetchWeather``; the result is an identifier, or "" when ``text`` has no letter or digit.

    Words split at anything that is not a letter or a digit; each starts with a capital and
    keeps the rest of its case (``HTTPServer`` stays), except that an all-capitals word is
    capitalized (``HTTP_SERVER`` gives ``HttpServer``). A leading digit gets a ``T`` before it.
    """
    words = []
    for word in _WORD_BREAKS.split(text):
        if not word:
            continue
        if word.isupper() and len(word) > 1:
            word = word.capitalize()
        words.append(word[0].upper() + word[1:])
    # \w also matches a few characters that cannot be in an identifier, such as "²".
    joined = "".join(c for c in "".join(words) if f"_{c}".isidentifier())
    if joined and not joined[0].isidentifier():
        joined = "T" + joined
    return joined


def definition_name(key: str) -> str:
    """The name a ``$defs`` key asks for: itself if it can be one, else its PascalCase."""
    if is_identifier(key) and key not in KEYWORDS:
        return key
    return pascal_case(key) or "Type"


@dataclass
class TypeNames:
    """The type names taken in one render; a taken or unusable name gets a number."""

    taken: set[str] = field(default_factory=set)

    def claim(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken or not is_type_name(name):
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name
