"""``codemode serve`` end to end, in a real headless Chromium: the page, the playground, Stop,
the driver picker, and a chat turn against the scripted OpenAI-compatible model server.

The screenshots in ``docs/images/`` are taken here: set ``CODEMODE_UPDATE_SCREENSHOTS=1`` to
write them there (otherwise they go to the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codemode.testing import ScriptedOpenAIServer, ScriptedToolCall, TextReply, ToolCallsReply

from .conftest import ServeCommand, Served, stop

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WAIT = 30_000  # ms, for anything the page waits on (V8's first start probes in a child)


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    folder = DOCS_IMAGES if os.environ.get("CODEMODE_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def app(serve: ServeCommand, model: ScriptedOpenAIServer) -> Served:
    return serve(
        env={
            "CODEMODE_MODEL_ADAPTER": "openai",
            "CODEMODE_MODEL_MODEL": "scripted-model",
            "CODEMODE_MODEL_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "sk-test",
        }
    )


@pytest.fixture
def page(browser: Any, app: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(app.url)
    opened.wait_for_selector("body[data-ready=true]", timeout=WAIT)
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


def run_and_wait(page: Any, status: str) -> None:
    page.click("[data-testid=run]")
    page.wait_for_function(
        "s => document.querySelector('[data-testid=status]').textContent === s",
        arg=status,
        timeout=WAIT,
    )


def best_sellers(database: Path, n: int) -> list[str]:
    """The same answer as the example program, straight from SQLite."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT p.name FROM order_items i JOIN products p ON p.id = i.product_id"
            " GROUP BY i.product_id ORDER BY sum(i.quantity) DESC, i.product_id LIMIT ?",
            (n,),
        ).fetchall()
    return [name for (name,) in rows]


def test_the_page_lists_tools_drivers_and_examples(page: Any) -> None:
    tools = page.locator("[data-testid=tools] details")
    assert tools.count() == 4
    page.click("details[data-tool=query_table] summary")
    declaration = page.locator("details[data-tool=query_table] pre").inner_text()
    assert "declare function external_query_table(input: QueryTableInput)" in declaration
    drivers = page.locator("[data-testid=driver] option").all_inner_texts()
    assert any(d.startswith("quickjs") for d in drivers)
    assert any(d.startswith("node") for d in drivers)
    titles = page.locator("[data-testid=examples] button").all_inner_texts()
    assert {"Join", "Aggregate", "Parallel lookups", "A deliberate error"} <= set(titles)


def test_an_example_runs_with_live_events_and_the_right_result(
    page: Any, app: Served, tmp_path: Path
) -> None:
    page.click("[data-example=parallel]")
    run_and_wait(page, "succeeded")
    kinds = page.eval_on_selector_all(
        "[data-testid=timeline] li", "items => items.map(i => i.dataset.kind)"
    )
    assert kinds[0] == "started"
    assert kinds[-1] == "finished"
    assert kinds.count("call") == 6
    assert kinds.count("result") == 6
    # Each call shows its duration once its result is in.
    calls = page.locator("[data-testid=timeline] li[data-kind=call]").all_inner_texts()
    assert all(" ms" in text.split("→")[1] for text in calls)
    result = json.loads(page.locator("[data-testid=result]").inner_text())
    assert [row["name"] for row in result] == best_sellers(app.data_dir / "shop.sqlite3", 5)
    stayed = page.locator("[data-testid=bytes-stayed]").inner_text()
    returned = page.locator("[data-testid=bytes-returned]").inner_text()
    assert stayed.endswith("B")
    assert returned.endswith("B")
    page.click("[data-example=aggregate]")
    run_and_wait(page, "succeeded")
    screenshot(page, "playground.png", tmp_path)


def test_a_syntax_error_is_marked_at_its_line(page: Any) -> None:
    page.evaluate("codemode.setProgram('const a = 1;\\nconst b = ;\\nreturn a + b;')")
    run_and_wait(page, "failed")
    banner = page.locator("[data-testid=error-banner]")
    assert banner.is_visible()
    assert banner.inner_text().startswith("line 2: SyntaxError")
    assert page.locator(".ace_gutter-cell.ace_error").inner_text().strip() == "2"
    assert page.locator(".error-line").count() == 1
    # Editing the program clears the mark.
    page.evaluate("codemode.setProgram('return 1;')")
    assert not banner.is_visible()
    assert page.locator(".ace_gutter-cell.ace_error").count() == 0


def test_the_deliberate_error_example_points_at_its_line(page: Any) -> None:
    page.click("[data-example=error]")
    run_and_wait(page, "failed")
    assert page.locator("[data-testid=error-banner]").inner_text().startswith("line 5: TypeError")
    assert page.locator(".ace_gutter-cell.ace_error").inner_text().strip() == "5"
    logs = page.locator("[data-testid=timeline] li[data-kind='console log']").all_inner_texts()
    assert any("got 3 products" in line for line in logs)


def test_stop_ends_a_long_program_and_the_next_run_works(page: Any) -> None:
    page.click("[data-example=slow]")
    page.click("[data-testid=run]")
    page.wait_for_selector("[data-testid=timeline] li[data-kind='console log']", timeout=WAIT)
    assert page.locator("[data-testid=stop]").is_enabled()
    pressed = time.monotonic()
    page.click("[data-testid=stop]")
    page.wait_for_function(
        "document.querySelector('[data-testid=status]').textContent === 'stopped'",
        timeout=10_000,
    )
    assert time.monotonic() - pressed < 10
    assert "Stopped" in page.locator("[data-testid=timeline] li").last.inner_text()
    assert page.locator("[data-testid=stop]").is_disabled()
    page.evaluate("codemode.setProgram('return (await external_list_tables({})).length;')")
    run_and_wait(page, "succeeded")
    assert page.locator("[data-testid=result]").inner_text() == "4"


def test_the_driver_picker_runs_on_another_driver(page: Any) -> None:
    page.select_option("[data-testid=driver]", "node")
    # Each engine words this TypeError its own way.
    page.evaluate("codemode.setProgram('try { null.x } catch (e) { return e.message }')")
    run_and_wait(page, "succeeded")
    assert page.locator("[data-testid=result]").inner_text() == (
        "\"Cannot read properties of null (reading 'x')\""
    )
    page.select_option("[data-testid=driver]", "quickjs")
    run_and_wait(page, "succeeded")
    assert (
        page.locator("[data-testid=result]").inner_text() == "\"cannot read property 'x' of null\""
    )


PROGRAM = """const page = await external_query_table({ table: "customers", columns: ["country"], limit: 1000 });
const counts: Record<string, number> = {};
for (const row of page.rows) counts[row.country as string] = (counts[row.country as string] ?? 0) + 1;
console.log(`counted ${page.rows.length} customers`);
return Object.entries(counts).sort(([, a], [, b]) => b - a)[0];"""

SKILL = {
    "name": "customers_by_country",
    "description": "How many customers each country has",
    "code": (
        'const page = await external_query_table({ table: "customers", columns: ["country"],'
        " limit: 1000 });\nconst counts: Record<string, number> = {};\n"
        "for (const row of page.rows) counts[row.country as string] ="
        " (counts[row.country as string] ?? 0) + 1;\nreturn counts;"
    ),
    "inputSchema": {"type": "object", "properties": {}},
    "outputSchema": {"type": "object", "additionalProperties": {"type": "number"}},
}


def top_country(database: Path) -> tuple[str, int]:
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT country, count(*) FROM customers GROUP BY country ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    return row[0], row[1]


def test_a_chat_turn_runs_code_and_registers_a_skill(
    page: Any, app: Served, model: ScriptedOpenAIServer, tmp_path: Path
) -> None:
    country, count = top_country(app.data_dir / "shop.sqlite3")
    model.replies.extend(
        [
            ToolCallsReply(
                ScriptedToolCall("execute_typescript", {"typescriptCode": PROGRAM}),
                text="I'll count the customers per country in one program.",
            ),
            ToolCallsReply(ScriptedToolCall("register_skill", SKILL)),
            TextReply(f"{country} has the most customers: {count}. I saved a skill for this."),
        ]
    )
    page.click("#tab-chat")
    page.fill("[data-testid=prompt]", "Which country has the most customers?")
    page.click("[data-testid=send]")
    page.wait_for_selector("[data-testid=run-summary]", timeout=WAIT)

    texts = page.locator("[data-testid=assistant-text]").all_inner_texts()
    assert texts[0] == "I'll count the customers per country in one program."
    assert texts[-1] == f"{country} has the most customers: {count}. I saved a skill for this."
    program_card = page.locator("[data-testid=tool-call][data-tool=execute_typescript]")
    assert PROGRAM.splitlines()[0] in program_card.locator("pre.program-code").inner_text()
    kinds = program_card.locator("li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds[0] == "started"
    assert "call" in kinds
    assert kinds[-1] == "finished"
    result = json.loads(program_card.locator("[data-testid=tool-result]").inner_text())
    assert result["success"] is True
    assert result["result"] == [country, count]
    registered = page.locator("[data-testid=skill-registered]").inner_text()
    assert "customers_by_country" in registered
    skill = page.locator("[data-testid=skills] li[data-skill=customers_by_country]")
    skill.wait_for(timeout=WAIT)
    assert skill.locator("[data-testid=trust-level]").inner_text() == "untrusted"
    summary = page.locator("[data-testid=run-summary]").inner_text()
    assert "stayed in the sandbox" in summary
    assert "reached the model" in summary
    # The model was sent the program's result, not the 240 rows it read.
    third = model.requests[-1].body["messages"]
    tool_results = [m["content"] for m in third if m["role"] == "tool"]
    assert len(tool_results[0]) < 200
    screenshot(page, "chat.png", tmp_path)

    # The next question carries the conversation so far, and the skill is offered as a tool.
    model.replies.append(TextReply("Yes."))
    page.fill("[data-testid=prompt]", "Thanks. Is the skill saved?")
    page.press("[data-testid=prompt]", "Enter")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=run-summary]').length === 2", timeout=WAIT
    )
    request = model.requests[-1].body
    roles = [m["role"] for m in request["messages"] if m["role"] != "system"]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant", "user"]
    assert "customers_by_country" in {t["function"]["name"] for t in request["tools"]}


def test_without_a_model_the_chat_says_how_to_configure_one(
    serve: ServeCommand, browser: Any
) -> None:
    served = serve()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(served.url)
        page.wait_for_selector("body[data-ready=true]", timeout=WAIT)
        page.click("#tab-chat")
        off = page.locator("[data-testid=chat-off]")
        assert off.is_visible()
        assert "CODEMODE_MODEL_MODEL" in off.inner_text()
        assert not page.locator("#composer").is_visible()
        # The playground still works.
        page.click("#tab-playground")
        page.evaluate("codemode.setProgram('return 1 + 1;')")
        run_and_wait(page, "succeeded")
        assert page.locator("[data-testid=result]").inner_text() == "2"
    finally:
        context.close()
    assert stop(served) == 0
    assert served.output[-1] == "codemode serve: stopped\n"
