"""docs/plugins.md documents every hook under its exact signature, and its examples run."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from codemode import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_names() -> list[str]:
    return [
        name
        for name, value in vars(hookspecs).items()
        if name.startswith("codemode_") and callable(value)
    ]


def test_every_hookspec_is_documented_under_its_signature() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = hook_names()
    assert len(names) == 4
    for name in names:
        spec = getattr(hookspecs, name)
        signature = inspect.signature(spec)
        params = ", ".join(signature.parameters)
        returns = str(signature.return_annotation).replace("'", "")
        heading = f"### `{name}({params}) -> {returns}`"
        assert heading in text, f"docs/plugins.md lacks {heading}"


def test_the_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    runnable = [block for block in blocks if "create_my_" not in block]
    assert len(runnable) >= 3
    namespace: dict[str, Any] = {"__name__": "plugins_doc"}
    for index, block in enumerate(runnable):
        exec(compile(block, f"docs/plugins.md python block {index}", "exec"), namespace)
