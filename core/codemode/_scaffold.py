"""``codemode new-plugin``: the templates of a plugin distribution, and the writer.

Each kind (driver, storage, trust, adapter) is a working skeleton: installed with
``pip install -e .``, it registers under its name through the matching hook and passes the
matching conformance suite (a test of its own for trust, which has no suite). The templates are
``string.Template`` text, so a literal dollar sign in them is written ``$$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

__all__ = ["KINDS", "NAME_RULE", "check_name", "render_plugin", "write_plugin"]

KINDS = ("driver", "storage", "trust", "adapter")
NAME_RULE = (
    "a snake_case identifier: lowercase ASCII letters and digits in words joined by single"
    " underscores, starting with a letter (for example my_storage)"
)
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def check_name(name: str) -> str:
    """``name`` if it is a snake_case identifier; else ``ValueError`` stating the rule."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"plugin name {name!r} is not {NAME_RULE}")
    return name


@dataclass(frozen=True)
class _Kind:
    module: str  # the implementation module, without ``.py``
    hook: str
    plugin_kind: str  # codemode.plugins' name for the kind, as `codemode plugins` lists it
    what: str  # "an isolate driver", ...
    class_suffix: str
    factory_suffix: str
    dependencies: tuple[str, ...]
    test_extras: str  # codemode's extras the tests need
    config: str  # how codemode.toml selects it


# How `codemode plugins` names each kind.
LISTED_AS = {
    "driver": "drivers",
    "storage": "storages",
    "trust_strategy": "trust strategies",
    "adapter": "adapters",
}
_CODEMODE = '"codemode>=0.1,<0.2",'
_SPECS = {
    "driver": _Kind(
        "_driver",
        "codemode_isolate_drivers",
        "driver",
        "an isolate driver",
        "Driver",
        "driver",
        (_CODEMODE, '"codemode-quickjs>=0.1,<0.2",  # the driver the skeleton wraps'),
        "codemode[testing]",
        '[driver]\nname = "$name"',
    ),
    "storage": _Kind(
        "_storage",
        "codemode_skill_storages",
        "storage",
        "a skill storage",
        "SkillStorage",
        "storage",
        (_CODEMODE,),
        "codemode[testing]",
        '[skills]\nstorage = "$name"',
    ),
    "trust": _Kind(
        "_trust",
        "codemode_trust_strategies",
        "trust_strategy",
        "a trust strategy",
        "TrustStrategy",
        "trust_strategy",
        (_CODEMODE,),
        "codemode[testing]",
        '[skills]\ntrust = "$name"',
    ),
    "adapter": _Kind(
        "_adapter",
        "codemode_model_adapters",
        "adapter",
        "a model adapter",
        "Adapter",
        "adapter",
        ('"codemode[openai]>=0.1,<0.2",  # openai_text, which the skeleton delegates to',),
        # The conformance suite's ScriptedOpenAIServer runs on codemode's server extra.
        "codemode[testing,server]",
        '[model]\nadapter = "$name"\nmodel = "your-model"',
    ),
}

_PYPROJECT = """\
[project]
name = "codemode-$name"
version = "0.1.0"
description = "$What for codemode: $name."
readme = "README.md"
requires-python = ">=3.11"
dependencies = [
$dependencies
]

[project.optional-dependencies]
# The conformance suites (codemode.testing) and pytest: pip install -e '.[test]'.
test = ["$test_extras>=0.1,<0.2"]

[project.entry-points.codemode]
$name = "$package._plugin"

[build-system]
requires = ["hatchling>=1.27,<2"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["$package"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = ["error"]

# codemode's own lint rules; delete or change them as you like.
[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF", "ASYNC", "PT", "C4", "PIE", "RET", "TID"]

[tool.ruff.lint.isort]
known-first-party = ["codemode", "$package"]
"""

_README = """\
# codemode-$name

$What for [codemode](https://pypi.org/project/codemode/), made by
`codemode new-plugin $kind $name`. As generated it works and passes its tests, but does
nothing of its own yet: $starting_point

## What to change

$what_to_change
The entry point (`[project.entry-points.codemode]` in `pyproject.toml`) and `$package/_plugin.py`
register it as `$name`; rename both together if you rename it. codemode's `docs/plugins.md`
("Writing a plugin") describes the hook and the contract.

## Install

```
pip install -e .
```

`codemode plugins` then lists `$name` among the $listed_as.

## Test

```
pip install -e '.[test]'
pytest
```

`tests/test_conformance.py` $tests

## Use

Select it in `codemode.toml`:

```toml
$config
```

or in code: `$load`.
"""

_INIT = '''\
"""$What for codemode: ``pip install -e .``, $kind ``$name``."""

from $package.$module import $Class, $factory

__all__ = ["$Class", "$factory"]
'''

_PLUGIN = '''\
"""The ``codemode`` entry point of this distribution: registers $what ``$name``."""

from __future__ import annotations

from typing import Any

import codemode
from $package.$module import $factory


@codemode.hookimpl
def $hook() -> dict[str, Any]:
    return {"$name": $factory}
'''

_REGISTERED_TEST = """

def test_the_entry_point_registers_it() -> None:
    # Fails until the distribution is installed (pip install -e .): codemode finds plugins
    # through their entry points.
    assert plugins.factories("$plugin_kind")["$name"] is $factory
"""

# --- storage -------------------------------------------------------------------------------

_STORAGE = '''\
"""``$Class``: a skill storage, to be made yours.

As generated it keeps skills in a dict of this process, like codemode's ``memory`` storage,
and applies the shared rules every storage applies (``prepare_save``, ``record_run``,
``check_loaded``, ``check_skill_name``, ``SkillSearchIndex``). Replace the dict with your
backend (a database, a service, files) method by method; keep the rules where they are.
One ``threading.Lock`` guards the state: a storage may be shared by several threads, each
running its own event loop.
"""

from __future__ import annotations

import threading

from codemode.errors import SkillNameError
from codemode.skills import (
    Skill,
    SkillIndexEntry,
    SkillSearchIndex,
    check_loaded,
    check_skill_name,
    prepare_save,
    record_run,
)
from codemode.trust import TrustStrategy, create_default_trust_strategy

__all__ = ["$Class", "$factory"]


def _is_valid_name(name: str) -> bool:
    try:
        check_skill_name(name)
    except SkillNameError:
        return False
    return True


class $Class:
    """A ``SkillStorage``; make one with ``$factory()``."""

    trust_strategy: TrustStrategy

    def __init__(self, trust_strategy: TrustStrategy | None = None) -> None:
        self.trust_strategy = (
            create_default_trust_strategy() if trust_strategy is None else trust_strategy
        )
        self._lock = threading.Lock()
        # Replace this: where your skills live (a connection, a client, a folder).
        self._skills: dict[str, Skill] = {}  # in order of first save, as load_index answers

    async def load_index(self) -> list[SkillIndexEntry]:
        with self._lock:
            stored = list(self._skills.values())
        return [self._read(skill).index_entry() for skill in stored]

    async def load_all(self) -> list[Skill]:
        with self._lock:
            stored = list(self._skills.values())
        return [self._read(skill) for skill in stored]

    async def get(self, name: str) -> Skill | None:
        if not _is_valid_name(name):
            return None
        with self._lock:
            skill = self._skills.get(name)
        return None if skill is None else self._read(skill)

    async def save(self, skill: Skill) -> Skill:
        # Again, though a Skill checks its name: model_construct() skips validation.
        check_skill_name(skill.name)
        with self._lock:
            # Replace this: read the existing skill and write the prepared one in one
            # transaction of your backend.
            stored = prepare_save(self._skills.get(skill.name), skill, self.trust_strategy)
            self._skills[skill.name] = stored
        return stored.model_copy(deep=True)

    async def delete(self, name: str) -> bool:
        if not _is_valid_name(name):
            return False
        with self._lock:
            return self._skills.pop(name, None) is not None

    async def search(self, query: str, limit: int = 5) -> list[SkillIndexEntry]:
        # Replace this if your backend searches itself; SkillSearchIndex is codemode's ranking.
        entries = await self.load_index()
        return SkillSearchIndex(entries).search(query, limit)

    async def update_stats(self, name: str, success: bool) -> Skill | None:
        check_skill_name(name)
        with self._lock:
            # Replace this: one atomic read-modify-write in your backend, so that concurrent
            # runs (other tasks, threads, processes) are all counted.
            existing = self._skills.get(name)
            if existing is None:
                return None
            updated = record_run(
                check_loaded(existing, self.trust_strategy), success, self.trust_strategy
            )
            self._skills[name] = updated
        return updated.model_copy(deep=True)

    def _read(self, skill: Skill) -> Skill:
        # Copies out, so nothing a caller does to a skill it got back changes what is stored.
        return check_loaded(skill.model_copy(deep=True), self.trust_strategy)


def $factory(trust_strategy: TrustStrategy | None = None) -> $Class:
    """An empty storage (the default trust strategy unless one is given).

    Add your options here (a path, a URL): codemode passes the factory exactly the options
    the user gave, and checks them against this signature.
    """
    return $Class(trust_strategy)
'''

_STORAGE_TEST = '''\
"""The storage passes codemode's skill storage conformance suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codemode import plugins
from codemode.skills import SkillStorage
from codemode.testing import SkillStorageConformance
from $package import $factory


class Test${Class}Conformance(SkillStorageConformance):
    @pytest.fixture
    def make_storage(self) -> Callable[..., SkillStorage]:
        # Replace this when your storage takes a place: each call must give a new, empty one
        # (take pytest's tmp_path fixture for a fresh folder or file).
        return lambda trust_strategy=None: $factory(trust_strategy=trust_strategy)
'''

# --- trust ---------------------------------------------------------------------------------

_TRUST = '''\
"""``$Class``: a trust strategy, to be made yours.

As generated it promotes by run counts: provisional after ``provisional_runs`` runs, trusted
after ``trusted_runs``, both only while the success rate is at least ``min_success_rate``; one
level per call, never down (codemode itself resets a skill whose code changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from codemode.errors import ConfigError
from codemode.trust import SkillStats, TrustLevel

__all__ = ["$Class", "$factory"]

# Success rates are running averages, so 9 successes in 10 runs can come out as 0.8999999999.
_RATE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class $Class:
    """Promotes one level per call once the run count and success rate allow; never demotes."""

    provisional_runs: int = 5
    trusted_runs: int = 20
    min_success_rate: float = 0.9
    initial_level: TrustLevel = TrustLevel.UNTRUSTED

    def get_initial_trust_level(self) -> TrustLevel:
        return self.initial_level

    def calculate_trust_level(self, current_level: TrustLevel, stats: SkillStats) -> TrustLevel:
        # Replace this with your rule. codemode calls it after every run of a skill and stores
        # what it returns; return current_level to leave the skill where it is.
        level = TrustLevel(current_level)
        if stats.success_rate < self.min_success_rate - _RATE_TOLERANCE:
            return level
        if level is TrustLevel.UNTRUSTED and stats.executions >= self.provisional_runs:
            return TrustLevel.PROVISIONAL
        if level is TrustLevel.PROVISIONAL and stats.executions >= self.trusted_runs:
            return TrustLevel.TRUSTED
        return level


def $factory(
    provisional_runs: int = 5,
    trusted_runs: int = 20,
    min_success_rate: float = 0.9,
    initial_level: TrustLevel | str = TrustLevel.UNTRUSTED,
) -> $Class:
    """The strategy with these thresholds; ``ConfigError`` naming the option for a bad one.

    These are the options a user may give (in code or from config); add yours here.
    """
    if provisional_runs < 0:
        raise ConfigError(f"provisional_runs must be at least 0, got {provisional_runs!r}")
    if trusted_runs < provisional_runs:
        raise ConfigError(
            f"trusted_runs ({trusted_runs!r}) must be at least provisional_runs"
            f" ({provisional_runs!r})"
        )
    if not 0.0 <= min_success_rate <= 1.0:
        raise ConfigError(f"min_success_rate must be in [0, 1], got {min_success_rate!r}")
    try:
        level = TrustLevel(initial_level)
    except ValueError:
        levels = ", ".join(repr(level.value) for level in TrustLevel)
        raise ConfigError(f"initial_level must be one of {levels}, got {initial_level!r}") from None
    return $Class(provisional_runs, trusted_runs, min_success_rate, level)
'''

_TRUST_TEST = '''\
"""The trust strategy's rules: codemode has no suite for these, so they are tested here."""

from __future__ import annotations

import pytest

from codemode import plugins
from codemode.errors import ConfigError
from codemode.trust import SkillStats, TrustLevel, TrustStrategy
from $package import $factory


def level_after(
    strategy: TrustStrategy, level: TrustLevel, runs: int, success_rate: float = 1.0
) -> TrustLevel:
    stats = SkillStats(executions=runs, success_rate=success_rate)
    return strategy.calculate_trust_level(level, stats)


def test_is_a_trust_strategy() -> None:
    assert isinstance($factory(), TrustStrategy)


def test_a_new_skill_starts_untrusted() -> None:
    assert $factory().get_initial_trust_level() is TrustLevel.UNTRUSTED


def test_promotes_one_step_per_call() -> None:
    strategy = $factory(provisional_runs=2, trusted_runs=4)
    assert level_after(strategy, TrustLevel.UNTRUSTED, 1) is TrustLevel.UNTRUSTED
    assert level_after(strategy, TrustLevel.UNTRUSTED, 2) is TrustLevel.PROVISIONAL
    # Enough runs for trusted, but an untrusted skill moves up one level only.
    assert level_after(strategy, TrustLevel.UNTRUSTED, 9) is TrustLevel.PROVISIONAL
    assert level_after(strategy, TrustLevel.PROVISIONAL, 3) is TrustLevel.PROVISIONAL
    assert level_after(strategy, TrustLevel.PROVISIONAL, 4) is TrustLevel.TRUSTED


def test_a_low_success_rate_holds_a_skill_back() -> None:
    strategy = $factory(provisional_runs=2, min_success_rate=0.9)
    assert level_after(strategy, TrustLevel.UNTRUSTED, 10, 0.5) is TrustLevel.UNTRUSTED


@pytest.mark.parametrize("level", list(TrustLevel))
def test_never_demotes(level: TrustLevel) -> None:
    strategy = $factory(provisional_runs=100, trusted_runs=100)
    assert level_after(strategy, level, 1, 0.0) is level


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"provisional_runs": -1}, "provisional_runs"),
        ({"provisional_runs": 5, "trusted_runs": 4}, "trusted_runs"),
        ({"min_success_rate": 1.5}, "min_success_rate"),
        ({"initial_level": "sometimes"}, "initial_level"),
    ],
)
def test_a_bad_option_is_a_config_error_naming_it(options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        $factory(**options)  # type: ignore[arg-type]
'''

# --- adapter -------------------------------------------------------------------------------

_ADAPTER = '''\
"""``$Class``: a model adapter, to be made yours.

As generated it delegates to ``codemode.openai_text``, so it speaks to any OpenAI-compatible
endpoint. Replace the delegate with your provider's client: ``stream`` must yield
``TextDelta``, ``ToolCallDelta``, ``Usage`` and a final ``Finish`` (``codemode.adapters``), and
raise ``codemode.errors.ModelError`` subclasses for provider failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from codemode.adapters import ModelChunk, openai_text
from codemode.tools import Tool

__all__ = ["$Class", "$factory"]


class $Class:
    """A ``ModelAdapter``; make one with ``$factory(model, ...)``."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        **options: Any,
    ) -> None:
        self.model = model
        # Replace this: the place to make your provider's client.
        self._delegate = openai_text(model, base_url=base_url, api_key=api_key, **options)

    def __repr__(self) -> str:
        return f"$Class({self.model!r})"

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Tool] = (),
        system_prompts: Sequence[str] = (),
    ) -> AsyncIterator[ModelChunk]:
        # Replace this: send OpenAI-style messages and tools to your provider, and translate
        # its streamed answer into codemode's chunks.
        return self._delegate.stream(messages, tools=tools, system_prompts=system_prompts)

    async def aclose(self) -> None:
        """Close the connections this adapter opened."""
        await self._delegate.aclose()

    async def __aenter__(self) -> $Class:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def $factory(
    model: str, *, base_url: str | None = None, api_key: str | None = None, **options: Any
) -> $Class:
    """An adapter streaming ``model``; ``[model] base_url`` of codemode.toml arrives here."""
    return $Class(model, base_url=base_url, api_key=api_key, **options)
'''

_ADAPTER_TEST = '''\
"""The adapter passes codemode's adapter conformance suite, against a scripted local server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codemode import plugins
from codemode.adapters import ModelAdapter
from codemode.testing import AdapterConformance
from $package import $factory


class Test${Class}Conformance(AdapterConformance):
    @pytest.fixture
    def make_adapter(self) -> Callable[[str], ModelAdapter]:
        # base_url is a ScriptedOpenAIServer's, which speaks OpenAI's wire format. If your
        # provider speaks another, test the translation with tests of your own instead.
        def make(base_url: str) -> ModelAdapter:
            return $factory(
                "scripted-model",
                base_url=base_url,
                api_key="test-key",
                timeout=self.timeout,
                max_retries=0,  # a retry would play the script's next reply
            )

        return make
'''

# --- driver --------------------------------------------------------------------------------

_DRIVER = '''\
"""``$Class``: an isolate driver, to be made yours.

As generated it wraps another installed driver, found by name (``quickjs`` by default), so it
runs programs and passes the conformance suite from the start. For a real engine, see
docs/plugins.md ("codemode_isolate_drivers") and ``codemode.sandbox``: implement an
``EngineSession`` (start, resume, interrupt, close), subclass ``HostDrivenDriver`` with a
``make_engine``, and the host side (tool calls, deadlines, limits, console, cancellation,
``aclose``) is done for you.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from codemode import plugins
from codemode.isolate import IsolateConfig, IsolateContext, IsolateDriver

__all__ = ["$Class", "$factory"]


class $Class:
    """An ``IsolateDriver``; make one with ``$factory()``."""

    def __init__(self, wrapped: IsolateDriver) -> None:
        # Replace this: start or connect to your engine (lazily, if that is costly).
        self._wrapped = wrapped
        self._closed = False

    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        if self._closed:
            raise RuntimeError("this driver is closed")
        # Replace this: a context of your engine, holding config's timeout and memory limit.
        return await self._wrapped.create_context(config)

    async def aclose(self) -> None:
        """Dispose of every context this driver made, and refuse new ones."""
        self._closed = True
        aclose = getattr(self._wrapped, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> $Class:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def $factory(wrapped: str = "quickjs", **options: Any) -> $Class:
    """A driver over the installed driver ``wrapped``, given ``options`` (``timeout``, ...).

    These are the options a user may give (``[driver] options`` of codemode.toml, or in code);
    replace them with your engine's.
    """
    return $Class(plugins.load_driver(wrapped, **options))
'''

_DRIVER_TEST = '''\
"""The driver passes codemode's driver conformance suite (half a minute on quickjs)."""

from __future__ import annotations

import pytest

from codemode import plugins
from codemode.isolate import IsolateDriver
from codemode.testing import DriverConformance
from $package import $factory


class Test${Class}Conformance(DriverConformance):
    @pytest.fixture
    def driver(self) -> IsolateDriver:
        return $factory()
'''

_TEXTS = {
    "driver": (
        _DRIVER,
        _DRIVER_TEST,
        "it wraps the `quickjs` driver.",
        "- `$package/_driver.py`: `$Class` and `$factory`. Replace the wrapped driver with\n"
        "  your engine; `codemode.sandbox.HostDrivenDriver` does the host side for you.\n",
        "runs `codemode.testing.DriverConformance`, every guarantee of the driver contract\n"
        "(half a minute as generated, on quickjs).",
        'codemode.plugins.load_driver("$name")',
    ),
    "storage": (
        _STORAGE,
        _STORAGE_TEST,
        "it keeps skills in memory.",
        "- `$package/_storage.py`: `$Class` and `$factory`. Replace the dict with your\n"
        "  backend, keeping the shared rules (`prepare_save`, `record_run`, `check_loaded`)\n"
        "  where they are; add your options (a path, a URL) to the factory.\n"
        "- `tests/test_conformance.py`: make `make_storage` give a new, empty storage each call.\n",
        "runs `codemode.testing.SkillStorageConformance`: round trips, order, copies,\n"
        "names, the trust rules, concurrent `update_stats`, search.",
        'codemode.plugins.load_storage("$name")',
    ),
    "trust": (
        _TRUST,
        _TRUST_TEST,
        "it promotes skills by run counts.",
        "- `$package/_trust.py`: `$Class.calculate_trust_level` is your rule;\n"
        "  `$factory` takes its options.\n"
        "- `tests/test_conformance.py`: codemode has no suite for trust strategies, so these\n"
        "  tests are the rules; change them with the rule.\n",
        "checks the initial level, promotion one step per call, and that it never\ndemotes.",
        'codemode.plugins.load_trust_strategy("$name", provisional_runs=3)',
    ),
    "adapter": (
        _ADAPTER,
        _ADAPTER_TEST,
        "it delegates to `codemode.openai_text`.",
        "- `$package/_adapter.py`: `$Class` and `$factory`. Replace the `openai_text`\n"
        "  delegate with your provider's client.\n",
        "runs `codemode.testing.AdapterConformance` against a scripted OpenAI-compatible\n"
        "server on 127.0.0.1 (nothing reaches the internet).",
        'codemode.plugins.load_adapter("$name", "your-model")',
    ),
}


def _camel(name: str) -> str:
    return "".join(word.capitalize() for word in name.split("_"))


def render_plugin(kind: str, name: str) -> dict[str, str]:
    """The files of a ``kind`` plugin named ``name``: relative path to text."""
    if kind not in _SPECS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    check_name(name)
    spec = _SPECS[kind]
    code, test, starting_point, to_change, tests, load = _TEXTS[kind]
    package = f"codemode_{name}"
    values = {
        "name": name,
        "kind": kind,
        "package": package,
        "module": spec.module,
        "hook": spec.hook,
        "plugin_kind": spec.plugin_kind,
        "listed_as": LISTED_AS[spec.plugin_kind],
        "what": spec.what,
        "What": spec.what[0].upper() + spec.what[1:],
        "Class": _camel(name) + spec.class_suffix,
        "factory": f"create_{name}_{spec.factory_suffix}",
        "test_extras": spec.test_extras,
        "dependencies": "\n".join(f"  {line}" for line in spec.dependencies),
    }

    def fill(template: str) -> str:
        return Template(template).substitute(values)

    values.update(
        starting_point=fill(starting_point),
        what_to_change=fill(to_change),
        tests=fill(tests),
        config=fill(spec.config),
        load=fill(load),
    )
    return {
        "pyproject.toml": fill(_PYPROJECT),
        "README.md": fill(_README),
        f"{package}/__init__.py": fill(_INIT),
        f"{package}/_plugin.py": fill(_PLUGIN),
        f"{package}/{spec.module}.py": fill(code),
        f"{package}/py.typed": "",
        "tests/test_conformance.py": fill(test + _REGISTERED_TEST),
    }


def write_plugin(kind: str, name: str, directory: str | Path = ".") -> Path:
    """Write the plugin into ``directory/codemode-NAME/`` and return that folder.

    ``ValueError`` for a bad kind or name, ``FileExistsError`` if the folder exists (nothing
    is overwritten).
    """
    files = render_plugin(kind, name)
    target = Path(directory) / f"codemode-{name}"
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another name or --dir")
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
