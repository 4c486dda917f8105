"""The plugin manager and the typed lookups built on it.

Only this module touches ``pm.hook``. Entry points of the group ``codemode`` are loaded once,
lazily, on the first lookup, unless ``CODEMODE_DISABLE_PLUGIN_AUTOLOAD`` is set (as pytest's
``PYTEST_DISABLE_PLUGIN_AUTOLOAD``). Tests build a fresh manager with ``create_plugin_manager``
and install it with ``use_plugin_manager``.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from codemode import hookspecs
from codemode._lazy import lazy
from codemode.errors import ConfigError, PluginNotFoundError

if TYPE_CHECKING:
    from codemode.isolate import IsolateDriver

Kind = Literal["driver", "storage", "trust_strategy", "adapter"]

_HOOKS: dict[Kind, str] = {
    "driver": "codemode_isolate_drivers",
    "storage": "codemode_skill_storages",
    "trust_strategy": "codemode_trust_strategies",
    "adapter": "codemode_model_adapters",
}
_LABELS: dict[Kind, str] = {
    "driver": "isolate driver",
    "storage": "skill storage",
    "trust_strategy": "trust strategy",
    "adapter": "model adapter",
}
# Where each name we know of comes from, for the "pip install" hint.
_DISTRIBUTIONS: dict[str, str] = {
    "node": "codemode-node-v8",
    "v8": "codemode-node-v8",
    "quickjs": "codemode-quickjs",
    "cloudflare": "codemode-cloudflare",
    "fs": "codemode-storage-fs",
    "file": "codemode-storage-fs",
    "memory": "codemode-storage-memory",
}
ENTRY_POINT_GROUP = "codemode"
BUILTIN_MODULES: tuple[str, ...] = ("codemode.trust", "codemode.adapters._hooks")
"""Core modules with hook implementations, registered like any plugin."""


class LazyFactory:
    """A factory named ``"module:attribute"``, imported when first called.

    Finding the installed plugins loads every ``codemode`` entry point, so a plugin that
    imports its engine there makes every process pay for it: a run on QuickJS would import
    V8 and an HTTP client. A plugin registers ``LazyFactory("its_package._driver:create")``
    instead; the module is imported on the first call, or when ``check_options`` asks for
    the factory's signature. A module that fails to import raises ``PluginNotFoundError``
    naming it and why.
    """

    def __init__(self, target: str) -> None:
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise ValueError(f"LazyFactory needs 'module:attribute', got {target!r}")
        self.target = target
        self._module, self._attribute = module, attribute
        self._loaded: Any = None

    def load(self) -> Any:
        """The factory itself (importing its module the first time)."""
        if self._loaded is None:
            try:
                module = importlib.import_module(self._module)
                self._loaded = getattr(module, self._attribute)
            except Exception as exc:
                raise PluginNotFoundError(
                    f"the plugin factory {self.target} fails to load: {type(exc).__name__}: {exc}"
                ) from exc
        return self._loaded

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.load())

    def __repr__(self) -> str:
        return f"LazyFactory({self.target!r})"


def lazy_exports(
    package: str, homes: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a plugin's ``__init__.py`` whose public names load on
    first use (PEP 562): ``homes`` maps each name to the module it lives in, ``namespace``
    is the package's ``globals()``. An entry point imports its package first, so a package
    that imports its engine there makes every codemode process pay for it."""
    return lazy(package, homes, namespace)


class CodeModePluginManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that loads the ``codemode`` entry points on first use."""

    def __init__(self, *, autoload: bool) -> None:
        super().__init__("codemode")
        self.autoload_pending = autoload
        self.load_errors: dict[str, str] = {}
        """Entry points that failed to load: ``"name (distribution)" -> reason``."""
        self.distributions: dict[str, tuple[str, str]] = {}
        """Plugin name -> (distribution, version), for plugins loaded from entry points."""

    def load_entry_points_once(self) -> None:
        """Load each entry point on its own: one broken plugin must not break the others."""
        if not self.autoload_pending:
            return
        self.autoload_pending = False
        for dist in list(metadata.distributions()):
            for entry_point in dist.entry_points:
                if entry_point.group != ENTRY_POINT_GROUP or self.get_plugin(entry_point.name):
                    continue
                label = f"{entry_point.name} ({dist.metadata['name']})"
                try:
                    plugin = entry_point.load()
                    self.register(plugin, name=entry_point.name)
                except Exception as exc:
                    self.load_errors[label] = f"{type(exc).__name__}: {exc}"
                    continue
                self.distributions[entry_point.name] = (dist.metadata["name"], dist.version)


def create_plugin_manager(*, autoload: bool | None = None) -> CodeModePluginManager:
    """A manager with the hook specs and built-ins; entry points load on first lookup."""
    if autoload is None:
        autoload = not os.environ.get("CODEMODE_DISABLE_PLUGIN_AUTOLOAD")
    pm = CodeModePluginManager(autoload=autoload)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_MODULES:
        pm.register(importlib.import_module(module_name), name=module_name)
    return pm


_pm: CodeModePluginManager | None = None


def get_plugin_manager() -> CodeModePluginManager:
    """The process-wide manager, with entry points loaded once."""
    global _pm
    if _pm is None:
        _pm = create_plugin_manager()
    _pm.load_entry_points_once()
    return _pm


@contextmanager
def use_plugin_manager(pm: CodeModePluginManager) -> Iterator[CodeModePluginManager]:
    """Make ``pm`` the process-wide manager for the duration (tests, embedding)."""
    global _pm
    previous, _pm = _pm, pm
    try:
        yield pm
    finally:
        _pm = previous


def factories(kind: Kind) -> dict[str, Any]:
    """Every registered factory of one kind, by name; later registrations win on clashes."""
    hook = getattr(get_plugin_manager().hook, _HOOKS[kind])
    merged: dict[str, Any] = {}
    for result in reversed(hook()):
        merged.update(result)
    return merged


def names(kind: Kind) -> list[str]:
    return sorted(factories(kind))


def not_found(kind: Kind, name: str) -> PluginNotFoundError:
    installed = names(kind)
    label = _LABELS[kind]
    listing = ", ".join(installed) if installed else "none"
    message = f"no {label} named {name!r}; installed: {listing}."
    broken = get_plugin_manager().load_errors
    if broken:
        message += (
            " Plugins that failed to load: "
            + "; ".join(f"{plugin}: {reason}" for plugin, reason in sorted(broken.items()))
            + "."
        )
    distribution = _DISTRIBUTIONS.get(name)
    if distribution:
        message += f" Install it with: pip install {distribution}"
    else:
        message += f" A third-party {label} registers under the entry-point group 'codemode'."
    return PluginNotFoundError(message)


def lookup(kind: Kind, name: str) -> Any:
    """The factory registered as ``name``, or ``PluginNotFoundError``."""
    found = factories(kind).get(name)
    if found is None:
        raise not_found(kind, name)
    return found


def check_options(kind: Kind, name: str, options: dict[str, Any]) -> None:
    """``ConfigError`` unless the factory registered as ``name`` takes ``options`` as
    keyword arguments (a factory's own checks of the values run when it is called)."""
    factory = lookup(kind, name)
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # a builtin or C factory: it speaks for itself when called
    try:
        signature.bind(**options)
    except TypeError as exc:
        accepted = [
            p.name
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        takes = ", ".join(accepted) if accepted else "no options"
        raise ConfigError(
            f"the {_LABELS[kind]} {name!r} does not take {sorted(options)}: {exc} (it takes:"
            f" {takes})"
        ) from None


def load_driver(name: str, **options: Any) -> IsolateDriver:
    """An isolate driver by name (``quickjs``, ``node``/``v8``, ``cloudflare``, ...), made
    with exactly ``options`` (checked against the factory's parameters first)."""
    check_options("driver", name, options)
    driver: IsolateDriver = lookup("driver", name)(**options)
    return driver


def load_storage(name_or_url: str, **options: Any) -> Any:
    """A skill storage by name (``memory``, ``fs``), or an fsspec URL/path for ``fs``."""
    if "://" in name_or_url or name_or_url.startswith((".", "/", "~")):
        return lookup("storage", "fs")(directory=name_or_url, **options)
    return lookup("storage", name_or_url)(**options)


def load_trust_strategy(name: str, **options: Any) -> Any:
    """A trust strategy by name (``default``, ``relaxed``, ``always_trusted``, ``custom``)."""
    return lookup("trust_strategy", name)(**options)


def load_adapter(name: str, model: str, **options: Any) -> Any:
    """A model adapter by name (``litellm``, ``openai``) for ``model``."""
    return lookup("adapter", name)(model, **options)


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    version: str | None
    kinds: dict[str, list[str]]
    error: str | None = None
    """Why the plugin failed to load, if it did."""


def installed_plugins() -> list[PluginInfo]:
    """What is registered, with distribution versions where known (for ``codemode plugins``)."""
    pm = get_plugin_manager()
    infos = []
    for plugin_name, plugin in sorted(pm.list_name_plugin(), key=lambda item: str(item[0])):
        if plugin is None or plugin is hookspecs:
            continue
        kinds: dict[str, list[str]] = {}
        error = None
        for kind, hook_name in _HOOKS.items():
            impl = getattr(plugin, hook_name, None)
            if impl is not None:
                provided = impl()
                kinds[kind] = sorted(provided)
                error = error or _lazy_load_error(provided.values())
        label, version = pm.distributions.get(
            str(plugin_name), (str(plugin_name), _core_version() or "?")
        )
        infos.append(PluginInfo(name=label, version=version, kinds=kinds, error=error))
    for plugin_name, reason in sorted(pm.load_errors.items()):
        infos.append(PluginInfo(name=plugin_name, version=None, kinds={}, error=reason))
    return infos


def _lazy_load_error(factories: Any) -> str | None:
    """Why one of these lazily imported factories fails to load (``codemode plugins`` imports
    them all: a broken plugin is reported there, not first when a run needs it)."""
    for factory in factories:
        if isinstance(factory, LazyFactory):
            try:
                factory.load()
            except PluginNotFoundError as exc:
                return str(exc)
    return None


def _core_version() -> str | None:
    try:
        return metadata.version("codemode")
    except metadata.PackageNotFoundError:
        return None
