"""The sqlite storage passes the shared skill storage conformance suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from codemode.skills import SkillStorage
from codemode.testing import SkillStorageConformance
from codemode.trust import TrustStrategy
from codemode_example_sqlite import create_sqlite_skill_storage


class TestSqliteStorageConformance(SkillStorageConformance):
    @pytest.fixture
    def make_storage(self, tmp_path: Path) -> Callable[..., SkillStorage]:
        files = (tmp_path / f"skills_{i}.db" for i in itertools.count())

        def make(trust_strategy: TrustStrategy | None = None) -> SkillStorage:
            return create_sqlite_skill_storage(next(files), trust_strategy=trust_strategy)

        return make
