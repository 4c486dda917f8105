"""Every hook specification of codemode. Each hook returns ``{name: factory}``.

A plugin is a module with ``@codemode.hookimpl`` functions, registered under the entry-point
group ``codemode`` in its ``pyproject.toml``::

    [project.entry-points.codemode]
    mydriver = "my_package.plugin"

Built-in pieces (trust strategies, model adapters) are registered through these same hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("codemode")
hookimpl = pluggy.HookimplMarker("codemode")

Factory = Callable[..., Any]


@hookspec
def codemode_isolate_drivers() -> dict[str, Factory]:  # type: ignore[empty-body]
    """Isolate drivers by name: ``factory(**options) -> IsolateDriver``."""


@hookspec
def codemode_skill_storages() -> dict[str, Factory]:  # type: ignore[empty-body]
    """Skill storages by name: ``factory(**options) -> SkillStorage``."""


@hookspec
def codemode_trust_strategies() -> dict[str, Factory]:  # type: ignore[empty-body]
    """Trust strategies by name: ``factory(**options) -> TrustStrategy``."""


@hookspec
def codemode_model_adapters() -> dict[str, Factory]:  # type: ignore[empty-body]
    """Model adapters by name: ``factory(model, **options) -> ModelAdapter``."""
