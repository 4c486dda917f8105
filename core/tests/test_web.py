"""The web app's endpoints over real HTTP (uvicorn on loopback), without a browser: the
browser's side is in tests/web/."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codemode import tool
from codemode.config import CodeModeConfig
from codemode.testing import serve_asgi
from codemode.web import create_app
from codemode.web._examples import load_examples

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    app = create_app(CodeModeConfig(), data_dir=tmp_path_factory.mktemp("web"), driver="quickjs")
    with serve_asgi(app) as url:
        yield url, app.state.web


@pytest.fixture
async def client(served: tuple[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served[0], timeout=30) as client:
        yield client


async def events_of(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


async def run(client: httpx.AsyncClient, code: str, **body: Any) -> list[dict[str, Any]]:
    async with client.stream("POST", "/api/run", json={"code": code, **body}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in events_of(response)]


async def test_info_lists_drivers_tools_examples_and_how_to_chat(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/info")).json()
    names = {d["name"]: d for d in info["drivers"]}
    assert names["quickjs"]["available"] is True
    assert info["defaultDriver"] == "quickjs"
    if "node" in names:
        assert names["node"]["aliases"] == ["v8"]
    assert [t["name"] for t in info["tools"]] == [
        "list_tables",
        "describe_table",
        "query_table",
        "top_n",
    ]
    assert all("declare function external_" in t["declaration"] for t in info["tools"])
    assert [e["id"] for e in info["examples"]] == ["join", "aggregate", "parallel", "error", "slow"]
    assert info["chat"]["enabled"] is False
    assert "[model]" in info["chat"]["howTo"]


async def test_a_run_is_the_ag_ui_stream_of_one_execute_typescript_call(
    client: httpx.AsyncClient,
) -> None:
    events = await run(
        client, "console.log('hi');\nreturn (await external_list_tables({})).length;"
    )
    types = [e["type"] for e in events]
    assert types[:4] == ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END"]
    assert types[-2:] == ["CUSTOM", "RUN_FINISHED"]
    custom = [e["name"] for e in events if e["type"] == "CUSTOM"]
    assert custom[0] == "code_mode:execution_started"
    assert {"code_mode:console", "code_mode:external_call", "code_mode:external_result"} <= set(
        custom
    )
    assert custom[-2:] == ["code_mode:execution_finished", "code_mode:run_summary"]
    call = next(e["value"] for e in events if e.get("name") == "code_mode:external_call")
    result = next(e["value"] for e in events if e.get("name") == "code_mode:external_result")
    assert call["callId"] == result["callId"]
    finished = next(e["value"] for e in events if e.get("name") == "code_mode:execution_finished")
    # The demo tools are sync (served on the engine's thread): their results count too.
    assert finished["toolResultBytes"] > 200
    assert finished["resultBytes"] == 1
    content = json.loads(next(e for e in events if e["type"] == "TOOL_CALL_RESULT")["content"])
    assert content == {"success": True, "result": 4, "logs": ["hi"], "error": None}


@pytest.mark.parametrize(
    "example", [e for e in load_examples() if e.id != "slow"], ids=lambda e: e.id
)
async def test_every_example_runs(client: httpx.AsyncClient, example: Any) -> None:
    events = await run(client, example.code)
    content = json.loads(next(e for e in events if e["type"] == "TOOL_CALL_RESULT")["content"])
    if example.id == "error":
        assert content["error"]["name"] == "TypeError"
        assert content["error"]["line"] == 5
    else:
        assert content["success"] is True, content


async def test_stop_cancels_the_program_and_ends_the_stream(
    client: httpx.AsyncClient, served: tuple[str, Any]
) -> None:
    web = served[1]
    ticks: list[int] = []

    @tool
    async def tick() -> int:
        """Count a step."""
        ticks.append(1)
        return len(ticks)

    web.registry.add(tick, replace=True)
    code = "for (let i = 0; ; i++) { await external_tick({}); console.log(`step ${i}`); }"
    seen: list[dict[str, Any]] = []
    async with client.stream("POST", "/api/run", json={"code": code}) as response:
        stream = events_of(response)
        async for event in stream:
            seen.append(event)
            if event.get("name") == "code_mode:console":
                break
        run_id = seen[0]["runId"]
        assert run_id in web.runs
        stopped = await client.post(f"/api/runs/{run_id}/stop", json={})
        assert stopped.json() == {"runId": run_id, "stopped": True}
        async for event in stream:
            seen.append(event)
    assert seen[-1]["type"] == "RUN_ERROR"
    assert seen[-1]["code"] == "Stopped"
    assert not any(e["type"] == "TOOL_CALL_RESULT" for e in seen)
    assert run_id not in web.runs
    # The program is stopped, not left running: it calls its tool no more.
    after_stop = len(ticks)
    await asyncio.sleep(0.5)
    assert len(ticks) == after_stop > 0
    events = await run(client, "return 1 + 1")
    result = next(e for e in events if e["type"] == "TOOL_CALL_RESULT")
    assert json.loads(result["content"])["result"] == 2
    again = await client.post(f"/api/runs/{run_id}/stop", json={})
    assert again.json()["stopped"] is False


async def test_a_client_that_goes_away_cancels_its_run(
    client: httpx.AsyncClient, served: tuple[str, Any]
) -> None:
    web = served[1]
    code = "for (;;) { await external_list_tables({}); console.log('x'); }"
    async with client.stream("POST", "/api/run", json={"code": code}) as response:
        async for event in events_of(response):
            if event.get("name") == "code_mode:console":
                break
    for _ in range(100):
        if len(web.runs) == 0:
            break
        await asyncio.sleep(0.05)
    assert len(web.runs) == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"code": "return 1", "driver": "nope"}, 400, "nope"),
        ({"code": 1}, 400, "code: Input should be a valid string"),
        ({"program": "return 1"}, 400, "program"),
        ([1, 2], 400, "JSON object"),
        (
            {"code": "x" * (128 * 1024 + 1)},
            400,
            "code: 131073 characters, over the limit of 131072",
        ),
    ],
)
async def test_bad_run_requests_get_a_named_error(
    client: httpx.AsyncClient, body: Any, status: int, message: str
) -> None:
    response = await client.post("/api/run", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


async def test_other_origins_and_non_json_bodies_are_refused(client: httpx.AsyncClient) -> None:
    foreign = await client.post(
        "/api/run", json={"code": "return 1"}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    form = await client.post(
        "/api/run", content="code=return 1", headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 415
    broken = await client.post("/api/run", content="{", headers=JSON)
    assert broken.status_code == 400
    assert "not JSON" in broken.json()["error"]


async def test_chat_without_a_model_says_how_to_configure_one(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"messages": []})
    assert response.status_code == 409
    assert "CODEMODE_MODEL_MODEL" in response.json()["error"]


async def test_skills_start_empty(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/skills")).json() == {"skills": []}


async def test_the_page_and_its_files_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "<title>codemode</title>" in page.text
    for asset in ("/static/app.js", "/static/style.css", "/static/vendor/ace/ace.js"):
        assert (await client.get(asset)).status_code == 200, asset


def test_the_data_directory_defaults_to_the_users(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from codemode.web._paths import default_data_dir

    monkeypatch.setenv("CODEMODE_DATA_DIR", str(tmp_path / "here"))
    assert default_data_dir() == tmp_path / "here"
    monkeypatch.delenv("CODEMODE_DATA_DIR")
    assert default_data_dir().name == "codemode"
