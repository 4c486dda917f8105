"""The README's Python examples run as written (blocks for hypothetical plugins excepted)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    # These two show a third party's plugin; create_my_driver is theirs.
    return [block for block in blocks if "create_my_driver" not in block]


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 4


def test_readme_examples_run_in_order() -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    for index, block in enumerate(python_blocks()):
        try:
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README python block {index} failed: {type(exc).__name__}: {exc}")
