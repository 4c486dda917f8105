"""The playground's example programs: ``examples/*.ts`` beside this module, each starting
with a ``// Title: what it shows`` line."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    title: str
    description: str
    code: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "code": self.code,
        }


def load_examples() -> list[Example]:
    folder = resources.files("codemode.web") / "examples"
    examples = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".ts"):
            continue
        code = entry.read_text(encoding="utf-8")
        first = code.splitlines()[0].removeprefix("//").strip()
        title, _, description = first.partition(":")
        examples.append(
            Example(
                id=entry.name.removesuffix(".ts").split("-", 1)[-1],
                title=title.strip(),
                description=description.strip(),
                code=code,
            )
        )
    return examples
