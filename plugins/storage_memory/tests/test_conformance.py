"""The memory storage passes the shared skill storage conformance suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codemode.skills import SkillStorage
from codemode.testing import SkillStorageConformance
from codemode_storage_memory import create_memory_skill_storage


class TestMemoryStorageConformance(SkillStorageConformance):
    @pytest.fixture
    def make_storage(self) -> Callable[..., SkillStorage]:
        return lambda trust_strategy=None: create_memory_skill_storage(
            trust_strategy=trust_strategy
        )
