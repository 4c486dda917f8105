"""The README's and docs/storage-fs.md's Python examples run as written (S3 ones excepted)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
DOCUMENTS = [HERE.parent / "README.md", HERE.parents[2] / "docs" / "storage-fs.md"]


def python_blocks(document: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", document.read_text(encoding="utf-8"), re.S)
    return [block for block in blocks if "s3://" not in block]  # no S3 server in the tests


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_examples_run_in_order(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the examples' mkdtemp()
    blocks = python_blocks(document)
    assert blocks
    namespace: dict[str, Any] = {"__name__": "docs"}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{document.name} python block {index}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{document.name} python block {index} failed: {type(exc).__name__}: {exc}")
