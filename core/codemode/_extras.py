"""Optional parts of codemode, installed as extras (``pip install "codemode[server]"``).

A module that needs an extra's package imports it through ``require_extra``, so a user who
lacks it reads which extra to install instead of a bare ``No module named 'starlette'``.
The extras themselves are declared in ``core/pyproject.toml``; ``EXTRAS`` lists their names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from codemode.errors import MissingExtraError

if TYPE_CHECKING:
    from types import ModuleType

EXTRAS: Final = frozenset({"litellm", "openai", "server", "testing"})


def require_extra(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise ``MissingExtraError`` naming ``codemode[extra]``."""
    if extra not in EXTRAS:
        # A typo here would send users to install an extra that does not exist.
        raise ValueError(f"unknown extra {extra!r}; codemode has {sorted(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # Only the module itself (or a package above it) being absent means the extra is not
        # installed; a module that it imports in turn being absent is a broken install, which
        # the original error describes better.
        missing = exc.name or ""
        if module != missing and not module.startswith(missing + "."):
            raise
        raise MissingExtraError(module, extra) from exc
