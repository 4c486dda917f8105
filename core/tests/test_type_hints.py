"""typing.get_type_hints works on every public class and its public methods: the annotations
of the public API resolve at runtime (no name hidden behind TYPE_CHECKING)."""

from __future__ import annotations

import importlib
import inspect
import typing

import pytest

PUBLIC_MODULES = [
    "codemode",
    "codemode.adapters",
    "codemode.code_mode",
    "codemode.config",
    "codemode.context",
    "codemode.demo",
    "codemode.errors",
    "codemode.isolate",
    "codemode.plugins",
    "codemode.sandbox",
    "codemode.skills",
    "codemode.testing",
    "codemode.tools",
    "codemode.trust",
    "codemode.typescript",
    "codemode.web",
]


def _public_classes() -> list[tuple[str, type]]:
    found: dict[str, type] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [
            n for n in vars(module) if not n.startswith("_")
        ]
        for name in names:
            value = getattr(module, name)
            if inspect.isclass(value) and value.__module__.startswith("codemode"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return sorted(found.items())


CLASSES = _public_classes()


def test_there_are_public_classes_to_check() -> None:
    assert len(CLASSES) > 30


@pytest.mark.parametrize("cls", [c for _, c in CLASSES], ids=[n for n, _ in CLASSES])
def test_type_hints_resolve(cls: type) -> None:
    typing.get_type_hints(cls)
    for name, member in vars(cls).items():
        if name.startswith("_") and name not in ("__init__", "__call__"):
            continue
        function = member.fget if isinstance(member, property) else member
        function = getattr(function, "__func__", function)
        # Functions a library added to the class (pydantic's model_post_init) are its own.
        if inspect.isfunction(function) and function.__module__.startswith("codemode"):
            typing.get_type_hints(function)
