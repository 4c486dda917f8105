"""well_formed: lone surrogates become U+FFFD one for one; well-formed text is returned as is."""

from __future__ import annotations

import pytest

from codemode.typescript import well_formed


@pytest.mark.parametrize(
    "text",
    ["", "plain ascii", "héllo wörld", "🎉 astral", "\ufffd already replaced", "\0 nul"],
)
def test_well_formed_text_is_the_same_object(text: str) -> None:
    assert well_formed(text) is text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\ud83d", "\ufffd"),
        ("a\ud800b", "a\ufffdb"),
        ("\udfff\ud800", "\ufffd\ufffd"),
        # A pair spelled as two code points is two surrogates, not the astral character.
        ("x\ud83d\ude00y", "x\ufffd\ufffdy"),
        ("é\udc80🎉\udcff", "é\ufffd🎉\ufffd"),
    ],
)
def test_each_surrogate_becomes_one_replacement_character(text: str, expected: str) -> None:
    result = well_formed(text)
    assert result == expected
    assert len(result) == len(text)
    assert len(result.encode("utf-16-le")) == len(text.encode("utf-16-le", "surrogatepass"))


def test_lines_and_columns_are_kept() -> None:
    text = "line one\n  '\ud800' x\n\udc00\n"
    result = well_formed(text)
    assert [len(line) for line in result.split("\n")] == [len(line) for line in text.split("\n")]
    assert result.index("x") == text.index("x")
