"""``openai_text``: the conformance suite against the scripted server, plus what is its own."""

from __future__ import annotations

import asyncio

import pytest

from codemode.adapters import ModelAdapter, TextDelta, openai_text
from codemode.errors import ConfigError, ModelAuthError, ModelError
from codemode.testing import AdapterConformance, ScriptedOpenAIServer


class TestOpenAIText(AdapterConformance):
    @pytest.fixture
    def make_adapter(self) -> object:
        def make(base_url: str) -> ModelAdapter:
            return openai_text(
                "scripted-model",
                base_url=base_url,
                api_key="test-key",
                timeout=self.timeout,
                max_retries=0,
            )

        return make


async def turn(adapter: ModelAdapter) -> list[object]:
    return [chunk async for chunk in adapter.stream([{"role": "user", "content": "hi"}])]


async def test_options_split_between_client_and_request() -> None:
    async with ScriptedOpenAIServer(["a"]) as server:
        adapter = openai_text(
            "m",
            base_url=server.base_url,
            api_key="sk-test",
            max_retries=0,
            default_headers={"X-Team": "blue"},
            temperature=0.25,
            max_tokens=64,
            stream_options={"include_obfuscation": False},
        )
        async with adapter:
            await turn(adapter)
    request = server.requests[0]
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["x-team"] == "blue"
    body = request.body
    assert (body["temperature"], body["max_tokens"]) == (0.25, 64)
    assert body["stream_options"] == {"include_usage": True, "include_obfuscation": False}
    assert "max_retries" not in body
    assert "default_headers" not in body


async def test_a_client_of_your_own_is_used_and_left_open() -> None:
    import openai

    async with ScriptedOpenAIServer(["a"]) as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="own", max_retries=0)
        adapter = openai_text("m", client=client)
        await turn(adapter)
        await adapter.aclose()
        assert not client.is_closed()
        await client.close()
    assert server.requests[0].headers["authorization"] == "Bearer own"


def test_client_options_and_a_client_do_not_mix() -> None:
    import openai

    client = openai.AsyncOpenAI(api_key="own")
    with pytest.raises(ConfigError, match="'max_retries' configures a client"):
        openai_text("m", client=client, max_retries=3)
    with pytest.raises(ConfigError, match="base_url and api_key configure a client"):
        openai_text("m", client=client, base_url="http://x/v1")
    # timeout is also a request option, so it may go with a client.
    assert openai_text("m", client=client, timeout=3)._request_options == {"timeout": 3}


def test_an_unknown_option_fails_when_made() -> None:
    with pytest.raises(ConfigError, match="unknown option 'temprature'"):
        openai_text("m", temprature=0.2)


@pytest.mark.parametrize("option", ["messages", "stream", "tools"])
def test_what_the_adapter_sets_is_not_an_option(option: str) -> None:
    with pytest.raises(ConfigError, match=f"sets \\['{option}'\\] itself"):
        openai_text("m", api_key="k", **{option: None})


async def test_no_credentials_is_an_auth_error_of_the_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Making the adapter needs none: a module-level ``model = openai_text(...)`` is imported
    # before the key is set, in tests and at deploy time.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    adapter = openai_text("gpt-4o")
    with pytest.raises(ModelAuthError, match="OPENAI_API_KEY") as caught:
        await turn(adapter)
    assert caught.value.status is None


def test_one_adapter_serves_several_event_loops() -> None:
    # ``asyncio.run`` per script or test: connections of a finished loop are not reused.
    with ScriptedOpenAIServer(["one", "two"], keep_alive=True) as server:
        adapter = openai_text("m", base_url=server.base_url, api_key="k", max_retries=0)

        async def run() -> str:
            try:
                return "".join(c.text for c in await turn(adapter) if isinstance(c, TextDelta))
            finally:
                await adapter.aclose()

        assert asyncio.run(run()) == "one"
        assert asyncio.run(run()) == "two"


def test_repr_says_model_and_endpoint() -> None:
    adapter = openai_text("gpt-4o", base_url="http://127.0.0.1:9/v1", api_key="k")
    assert repr(adapter) == "openai_text('gpt-4o', base_url='http://127.0.0.1:9/v1')"


def test_an_error_event_inside_the_stream_is_a_model_error() -> None:
    # No status: a server that fails after its 200 sends an ``{"error": ...}`` chunk, which the
    # SDK raises as a plain APIError.
    import openai

    adapter = openai_text("m", base_url="http://127.0.0.1:9/v1", api_key="k")
    error = openai.APIError("overloaded, try later", request=None, body=None)  # type: ignore[arg-type]
    translated = adapter._translate(error)
    assert type(translated) is ModelError
    assert translated.status is None
    assert "overloaded, try later" in str(translated)
