"""Loading the kit's JavaScript: comments and indentation are dropped before an engine sees it.

QuickJS compiles every context's setup from source, at about 60 microseconds per kilobyte,
and the scripts are mostly comments; so whole-line ``//`` comments, blank lines and leading
indentation go. Nothing else changes: the files hold no multi-line string or template literal,
which ``test_scripts`` checks.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable


def compact(source: str) -> str:
    """``source`` without whole-line comments, blank lines and indentation."""
    kept = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            kept.append(stripped)
    return "\n".join(kept)


def load(file: Traversable) -> str:
    """A script of the kit or of a driver, compacted."""
    return compact(file.read_text(encoding="utf-8"))
