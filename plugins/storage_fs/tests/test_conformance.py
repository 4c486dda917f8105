"""The file storage passes the shared storage conformance suite, on a folder and on memory://."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import pytest

from codemode.skills import SkillStorage
from codemode.testing import SkillStorageConformance
from codemode_storage_fs import create_file_skill_storage


class TestLocalFolderConformance(SkillStorageConformance):
    @pytest.fixture
    def make_storage(self, tmp_path: Path) -> Callable[..., SkillStorage]:
        folders = (tmp_path / f"skills_{i}" for i in itertools.count())
        return lambda trust_strategy=None: create_file_skill_storage(
            str(next(folders)), trust_strategy=trust_strategy
        )


class TestMemoryConformance(SkillStorageConformance):
    @pytest.fixture
    def make_storage(self) -> Iterator[Callable[..., SkillStorage]]:
        root = f"/conformance-{uuid.uuid4().hex}"
        folders = (f"memory://{root}/skills_{i}" for i in itertools.count())
        yield lambda trust_strategy=None: create_file_skill_storage(
            next(folders), trust_strategy=trust_strategy
        )
        fs = fsspec.filesystem("memory")
        if fs.exists(root):
            fs.rm(root, recursive=True)
