"""``litellm_text``: the conformance suite against the scripted server, plus what is its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codemode.adapters import ModelAdapter, litellm_text
from codemode.adapters._litellm import LiteLLMText
from codemode.errors import ConfigError, ModelAuthError
from codemode.plugins import create_plugin_manager, load_adapter, use_plugin_manager
from codemode.testing import AdapterConformance, ErrorReply, ScriptedOpenAIServer


class TestLiteLLMText(AdapterConformance):
    @pytest.fixture
    def make_adapter(self) -> object:
        def make(base_url: str) -> ModelAdapter:
            return litellm_text(
                "openai/scripted-model",
                api_base=base_url,
                api_key="test-key",
                timeout=self.timeout,
                num_retries=0,
            )

        return make


async def turn(adapter: ModelAdapter) -> list[object]:
    return [chunk async for chunk in adapter.stream([{"role": "user", "content": "hi"}])]


async def test_options_pass_through() -> None:
    async with ScriptedOpenAIServer(["a"]) as server:
        adapter = litellm_text(
            "openai/m",
            api_base=server.base_url,
            api_key="sk-test",
            num_retries=0,
            temperature=0.25,
            max_tokens=64,
            stream_options={"include_usage": False},
        )
        await turn(adapter)
    request = server.requests[0]
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.body
    assert body["model"] == "m"
    assert (body["temperature"], body["max_tokens"]) == (0.25, 64)
    # The caller's stream_options win over the adapter's default.
    assert body["stream_options"] == {"include_usage": False}


def test_provider_comes_from_the_model_name() -> None:
    assert litellm_text("openai/m", api_key="k").provider == "openai"
    assert litellm_text("gpt-4o", api_key="k").provider == "openai"
    assert repr(litellm_text("openai/m")) == "litellm_text('openai/m')"


def test_a_model_without_a_provider_fails_when_made() -> None:
    with pytest.raises(ConfigError, match=r"litellm_text\('no-such-model'\): .*Provider"):
        litellm_text("no-such-model")


@pytest.mark.parametrize("option", ["messages", "stream", "tools"])
def test_what_the_adapter_sets_is_not_an_option(option: str) -> None:
    with pytest.raises(ConfigError, match=f"sets \\['{option}'\\] itself"):
        litellm_text("openai/m", **{option: None})


async def test_a_failure_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # LiteLLM's own "Give Feedback / Get Help" banner would land in a CLI's or server's output.
    async with ScriptedOpenAIServer([ErrorReply(401, "bad key")]) as server:
        adapter = litellm_text("openai/m", api_base=server.base_url, api_key="k", num_retries=0)
        with pytest.raises(ModelAuthError, match="bad key"):
            await turn(adapter)
    assert capfd.readouterr().out == ""


def test_load_adapter_by_name() -> None:
    with use_plugin_manager(create_plugin_manager(autoload=False)):
        adapter = load_adapter("litellm", "openai/m", api_key="k")
    assert isinstance(adapter, LiteLLMText)
    assert adapter.model == "openai/m"


# Run in a fresh interpreter, without the variable, with every connection beyond this host
# refused and reported.
_IMPORT_OFFLINE = """
import json, os, socket
os.environ.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)
attempts = []
connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo
def guarded_connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
        attempts.append(repr(address))
        raise OSError("offline")
    return connect(sock, address)
def guarded_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "127.0.0.1", "::1", "localhost"):
        attempts.append(repr(host))
        raise OSError("offline")
    return getaddrinfo(host, *args, **kwargs)
socket.socket.connect, socket.getaddrinfo = guarded_connect, guarded_getaddrinfo
from codemode.adapters import litellm_text
litellm_text("openai/gpt-4o-mini", api_key="k")
import litellm
print(json.dumps({"env": os.environ["LITELLM_LOCAL_MODEL_COST_MAP"], "attempts": attempts,
                  "known": "gpt-4o-mini" in litellm.model_cost}))
"""


def test_importing_litellm_stays_offline() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _IMPORT_OFFLINE], capture_output=True, text=True, timeout=100
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"env": "True", "attempts": [], "known": True}
