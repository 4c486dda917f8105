"""Skill search: an exact name first, then Okapi BM25 over name, description and usage hints.

Pure Python on purpose: rank-bm25 and bm25s would pull numpy (and scipy) into a core that must
stay light, and a skill library is a few thousand short documents, for which precomputed
postings (token -> documents holding it, each with its term weight already folded in) answer
a query in well under a millisecond: only the documents sharing a query token are scored.

Tokens are lowercase runs of letters and digits; ``snake_case`` and ``camelCase`` words are
split into their parts and also kept whole (as ``snake_case``, so ``fetchGithubStats`` and
``fetch_github_stats`` agree); a few stop words are dropped and plurals lightly stemmed, the
same way for documents and queries. A name's tokens count twice.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

from codemode.skills._model import SkillIndexEntry

__all__ = ["SkillSearchIndex", "rank_skills"]

K1: Final = 1.5
B: Final = 0.75
NAME_WEIGHT: Final = 2
"""How many times a name's tokens count: a skill is first of all what it is called."""

STOP_WORDS: Final = frozenset(
    {"the", "a", "an", "of", "to", "for", "and", "or", "in", "on", "with", "by", "is", "it"}
    | {"from", "use", "when"}
)

# A word: letters, digits and underscores (``\w``); underscores and case changes then split it.
_WORD = re.compile(r"\w+")
_CASE_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_QUERY_SEPARATORS = re.compile(r"[\s-]+")


def _stem(word: str) -> str:
    if word.endswith("es") and word[:-2].endswith(("s", "x", "ch", "sh")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# Module-level cache, because words repeat across a library's descriptions: it makes building
# an index of 1,000 skills about five times faster. Bounded, and a pure function of the word.
@functools.lru_cache(maxsize=16_384)
def _word_tokens(word: str) -> tuple[str, ...]:
    parts = [_stem(p) for p in _CASE_BOUNDARY.sub("_", word).lower().split("_") if p]
    tokens = [p for p in parts if p not in STOP_WORDS]
    if len(parts) > 1:
        tokens.append("_".join(parts))
    return tuple(tokens)


def tokenize(text: str) -> list[str]:
    """The search tokens of ``text``, in order (documents and queries alike)."""
    tokens: list[str] = []
    for word in _WORD.findall(text):
        tokens.extend(_word_tokens(word))
    return tokens


def _as_name(query: str) -> str:
    # Names never hold spaces or hyphens, so only this spelling of the query can match one.
    return _QUERY_SEPARATORS.sub("_", query.strip().lower())


class SkillSearchIndex:
    """A BM25 index over skill index entries, built once and searched many times."""

    def __init__(self, entries: Sequence[SkillIndexEntry]) -> None:
        self._entries = list(entries)
        self._by_name: dict[str, int] = {}
        documents: list[Counter[str]] = []
        for position, entry in enumerate(self._entries):
            self._by_name.setdefault(entry.name, position)
            counts = Counter(tokenize(entry.name) * NAME_WEIGHT)
            counts.update(tokenize(entry.description))
            for hint in entry.usage_hints:
                counts.update(tokenize(hint))
            documents.append(counts)

        count = len(documents)
        lengths = [sum(counts.values()) for counts in documents]
        # Guarded: names like ``the`` are all stop words, so every document may be empty.
        average = sum(lengths) / count if any(lengths) else 1.0
        frequency: Counter[str] = Counter()
        for counts in documents:
            frequency.update(counts.keys())
        # Each posting carries idf * the saturated term frequency, so a query only adds.
        idf = {token: math.log(1 + (count - n + 0.5) / (n + 0.5)) for token, n in frequency.items()}
        self._postings: dict[str, list[tuple[int, float]]] = {token: [] for token in idf}
        for position, (counts, length) in enumerate(zip(documents, lengths, strict=True)):
            norm = K1 * (1 - B + B * length / average)
            for token, tf in counts.items():
                weight = idf[token] * tf * (K1 + 1) / (tf + norm)
                self._postings[token].append((position, weight))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SkillSearchIndex({len(self._entries)} entries, {len(self._postings)} tokens)"

    def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        """Up to ``limit`` entries: one named ``query`` first, then by BM25 score (ties keep
        the entries' order); entries sharing no token with the query are left out."""
        if limit <= 0 or not query.strip():
            return []
        scores: dict[int, float] = {}
        for token in dict.fromkeys(tokenize(query)):
            for position, weight in self._postings.get(token, ()):
                scores[position] = scores.get(position, 0.0) + weight

        named = self._by_name.get(_as_name(query))
        if named is not None:
            scores.pop(named, None)
            limit -= 1
        best = heapq.nsmallest(limit, scores, key=lambda position: (-scores[position], position))
        if named is not None:
            best.insert(0, named)
        return [self._entries[position] for position in best]


def rank_skills(
    entries: Sequence[SkillIndexEntry], query: str, limit: int = 5
) -> list[SkillIndexEntry]:
    """``SkillSearchIndex(entries).search(query, limit)``, for a one-off search."""
    return SkillSearchIndex(entries).search(query, limit)
