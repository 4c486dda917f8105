"""Public names of a package that load on first use (PEP 562): ``import codemode`` stays cheap.

A package lists where each public name lives and installs the two functions ``lazy`` returns
as its module ``__getattr__`` and ``__dir__``. This module imports nothing at import time.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing is most of the cost

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def lazy(
    package: str, homes: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public names live in ``homes``
    (name -> module) and whose globals are ``namespace``."""

    def __getattr__(name: str) -> Any:
        import importlib

        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        # Kept as a real global, so the next lookup does not come through here.
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        from types import ModuleType

        # The public names (loaded or not), the dunders and the submodules imported so far,
        # but not what the package uses for itself (``TYPE_CHECKING``).
        own = {
            name
            for name, value in namespace.items()
            if name.startswith("__")
            or (isinstance(value, ModuleType) and value.__name__.startswith(package + "."))
        }
        return sorted(own | set(namespace["__all__"]))

    return __getattr__, __dir__
