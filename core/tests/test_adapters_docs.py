"""docs/adapters.md: its Python examples run as written, against the scripted server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"

# LiteLLM's streamed deltas trip a pydantic deprecation (see test_adapters_litellm.py).
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Accessing the 'model_\w+' attribute on the instance:DeprecationWarning:litellm\."
)


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_doc_has_examples() -> None:
    assert len(python_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_doc_example_runs(index: int) -> None:
    namespace: dict[str, Any] = {"__name__": "adapters_doc"}
    exec(
        compile(python_blocks()[index], f"docs/adapters.md python block {index}", "exec"), namespace
    )
