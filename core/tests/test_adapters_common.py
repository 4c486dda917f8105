"""What both SDK adapters share: chunk reading, error classes, registration, light imports and
the missing-extra errors."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

import codemode.adapters
from codemode.adapters import Finish, TextDelta, ToolCallDelta, Usage
from codemode.adapters._common import ChunkReader, error_class, model_error, request_messages
from codemode.errors import (
    MissingExtraError,
    ModelAuthError,
    ModelError,
    ModelRateLimitError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from codemode.plugins import create_plugin_manager, load_adapter, names, use_plugin_manager


def chunk(*, usage: Any = None, index: int = 0, finish: str | None = None, **delta: Any) -> Any:
    """A chat-completion chunk as either SDK gives it: attributes, not dict keys."""
    calls = [
        SimpleNamespace(
            index=call.get("index", 0),
            id=call.get("id"),
            function=SimpleNamespace(name=call.get("name"), arguments=call.get("arguments")),
        )
        for call in delta.pop("tool_calls", [])
    ]
    choice = SimpleNamespace(
        index=index,
        delta=SimpleNamespace(content=delta.get("content"), tool_calls=calls or None),
        finish_reason=finish,
    )
    return SimpleNamespace(choices=[choice], usage=usage)


def read(*chunks: Any) -> list[Any]:
    reader = ChunkReader()
    out = [model_chunk for c in chunks for model_chunk in reader.read(c)]
    return [*out, *reader.end()]


def test_text_and_finish() -> None:
    assert read(chunk(content=""), chunk(content="Hi"), chunk(finish="stop")) == [
        TextDelta("Hi"),
        Finish("stop"),
    ]


def test_a_stream_without_a_finish_reason_still_finishes() -> None:
    assert read(chunk(content="Hi")) == [TextDelta("Hi"), Finish(None)]


def test_tool_call_id_and_name_are_passed_on_once() -> None:
    # Some providers repeat the id and name on every delta of a call.
    first = {"index": 1, "id": "c1", "name": "add", "arguments": '{"a"'}
    again = {"index": 1, "id": "c1", "name": "add", "arguments": ": 1}"}
    assert read(chunk(tool_calls=[first]), chunk(tool_calls=[again])) == [
        ToolCallDelta(1, "c1", "add", '{"a"'),
        ToolCallDelta(1, None, None, ": 1}"),
        Finish(None),
    ]


def test_empty_tool_call_deltas_are_skipped() -> None:
    assert read(chunk(tool_calls=[{"index": 0, "arguments": ""}])) == [Finish(None)]


def test_usage_is_passed_on_once_before_finish() -> None:
    usage = SimpleNamespace(prompt_tokens=5, completion_tokens=2, total_tokens=7)
    chunks = [chunk(content="Hi", usage=usage), chunk(finish="stop", usage=usage)]
    no_choices = SimpleNamespace(choices=[], usage=usage)
    assert read(*chunks, no_choices) == [TextDelta("Hi"), Usage(5, 2, 7), Finish("stop")]


def test_only_the_first_choice_is_read() -> None:
    assert read(chunk(content="a"), chunk(content="b", index=1)) == [TextDelta("a"), Finish(None)]


def test_system_prompts_lead_and_are_strings() -> None:
    class Prompt:
        def __str__(self) -> str:
            return "live"

    messages = [{"role": "user", "content": "hi"}]
    assert request_messages(messages, ["one", Prompt()]) == [
        {"role": "system", "content": "one"},
        {"role": "system", "content": "live"},
        {"role": "user", "content": "hi"},
    ]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, ModelAuthError),
        (403, ModelAuthError),
        (429, ModelRateLimitError),
        (408, ModelTimeoutError),
        (500, ModelUnavailableError),
        (502, ModelUnavailableError),
        (400, ModelError),
        (404, ModelError),
        (None, ModelError),
    ],
)
def test_error_class_by_status(status: int | None, kind: type[ModelError]) -> None:
    assert error_class(status) is kind


def test_model_error_message_names_status_model_and_the_providers_words() -> None:
    error = model_error(ModelRateLimitError, "slow down", status=429, provider="p", model="m")
    assert str(error) == "p answered HTTP 429 for model 'm': slow down"
    assert (error.status, error.provider, error.model) == (429, "p", "m")
    error = model_error(ModelTimeoutError, "no answer", status=None, provider="p", model="m")
    assert str(error) == "p request for model 'm' failed: no answer"


def test_both_adapters_are_registered_through_the_hook() -> None:
    with use_plugin_manager(create_plugin_manager(autoload=False)):
        assert {"litellm", "openai"} <= set(names("adapter"))
        adapter = load_adapter("openai", "gpt-4o", base_url="http://127.0.0.1:9/v1", api_key="k")
        assert adapter.model == "gpt-4o"
        assert type(adapter).__name__ == "OpenAIText"


def modules_after(statement: str) -> set[str]:
    script = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_importing_adapters_imports_no_sdk() -> None:
    loaded = modules_after(
        "import codemode.adapters\n"
        "from codemode.adapters import litellm_text, openai_text\n"
        "import codemode.plugins as p\n"
        "p.names('adapter')"
    )
    assert "codemode.adapters._litellm" in loaded
    assert {"litellm", "openai"}.isdisjoint(loaded)


def test_adapter_names_load_lazily() -> None:
    assert "litellm_text" in dir(codemode.adapters)
    assert codemode.adapters.openai_text.__module__ == "codemode.adapters._openai"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = codemode.adapters.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("factory", "module", "options"),
    [
        ("litellm_text", "litellm", {}),
        ("openai_text", "openai", {"api_key": "k"}),
    ],
)
def test_a_missing_sdk_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, factory: str, module: str, options: dict[str, Any]
) -> None:
    # ``None`` in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, module, None)
    make = getattr(codemode.adapters, factory)
    with pytest.raises(MissingExtraError) as caught:
        make("some/model", **options)
    assert caught.value.extra == module
    assert f'pip install "codemode[{module}]"' in str(caught.value)
