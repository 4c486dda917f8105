"""The Starlette app behind ``codemode serve``: the page, and the JSON and SSE endpoints it
uses.

Endpoints: ``GET /api/info`` (drivers, tools with their TypeScript declarations, example
programs, whether chat is on), ``POST /api/run`` (a playground program: the AG-UI SSE
stream of running it), ``POST /api/runs/{run_id}/stop``, ``POST /api/chat`` (a TanStack AI
client's body: the AG-UI SSE stream of one agent run), ``GET /api/skills``.

The app is for one person on their own machine. Requests that change something must be JSON
and, when the browser says where they come from, come from the app's own origin: another
site open in the same browser cannot run programs or spend model tokens through it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydantic
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from codemode._pydantic_errors import describe_validation_error, dotted_path
from codemode.agent import ChatInputError, chat, to_server_sent_events_response
from codemode.code_mode import ToolRegistry
from codemode.config import CodeModeConfig
from codemode.demo import demo_tools, ensure_database
from codemode.errors import CodeModeError
from codemode.typescript.stubs import ToolSignature, render_tool_stubs
from codemode.web._chat import ChatService, skill_storage
from codemode.web._drivers import DriverPool
from codemode.web._examples import load_examples
from codemode.web._program import ProgramAdapter, program_messages
from codemode.web._runs import RunRegistry

STATIC = Path(str(resources.files("codemode.web") / "static"))


class RunRequest(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    code: str
    driver: str | None = None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("codemode")
    except PackageNotFoundError:
        return "unknown"


def _stub(tool: Any) -> str:
    return render_tool_stubs(
        [
            ToolSignature(
                function_name=f"external_{tool.name}",
                tool_name=tool.name,
                description=tool.description,
                input_schema=tool.input_schema,
                output_schema=tool.output_schema,
            )
        ]
    )


def _given_id(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 200:
        return value
    return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _SameOrigin:
    """Refuses requests that change something unless they are JSON from this origin.

    A plain ASGI middleware (not ``BaseHTTPMiddleware``), so that a browser going away still
    reaches the streaming response, which then cancels the run.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            refused: Response | None = None
            if origin is not None and urlsplit(origin).netloc != headers.get("host"):
                refused = _error(403, f"requests from {origin} are not accepted")
            elif headers.get("content-type", "").split(";")[0].strip() != "application/json":
                refused = _error(415, "send JSON (Content-Type: application/json)")
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


class WebApp:
    """What the endpoints share: the demo tools, the drivers, the runs, the chat."""

    def __init__(self, config: CodeModeConfig, data_dir: Path, driver: str | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.database = ensure_database(data_dir / "shop.sqlite3")
        self.registry = ToolRegistry(demo_tools(self.database))
        self.pool = DriverPool(config, self.registry, driver or config.driver.name)
        self.runs = RunRegistry()
        self.chat = ChatService(config, self.pool, skill_storage(config, data_dir))
        self.examples = load_examples()

    async def info(self, request: Request) -> Response:
        return JSONResponse(
            {
                "version": _version(),
                "drivers": [choice.as_json() for choice in self.pool.choices],
                "defaultDriver": self.pool.default,
                "tools": [
                    {"name": t.name, "description": t.description, "declaration": _stub(t)}
                    for t in self.registry
                ],
                "examples": [example.as_json() for example in self.examples],
                "chat": self.chat.status(),
                "database": str(self.database),
            }
        )

    async def _body(self, request: Request) -> dict[str, Any] | Response:
        try:
            body = await request.json()
        except ValueError as exc:
            return _error(400, f"the body is not JSON: {exc}")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        return body

    def _driver(self, requested: Any) -> str | Response:
        if requested is None:
            return self.pool.default
        if not isinstance(requested, str):
            return _error(400, "driver must be a string")
        try:
            choice = self.pool.choice(requested)
        except CodeModeError as exc:
            return _error(400, str(exc))
        if not choice.available:
            return _error(400, f"the driver {choice.name!r} {choice.reason}")
        return choice.name

    async def run(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        try:
            run = RunRequest.model_validate(body)
        except pydantic.ValidationError as exc:
            return _error(400, describe_validation_error(exc, dotted_path, unknown_key="key"))
        if len(run.code) > self.config.limits.max_code_chars:
            limit = self.config.limits.max_code_chars
            return _error(400, f"code: {len(run.code)} characters, over the limit of {limit}")
        driver = self._driver(run.driver)
        if isinstance(driver, Response):
            return driver
        run_id = f"run_{uuid.uuid4().hex[:16]}"
        return to_server_sent_events_response(
            self.runs.stream(run_id, self._program_events(run.code, driver, run_id))
        )

    async def _program_events(self, code: str, driver: str, run_id: str) -> AsyncIterator[Any]:
        code_mode = await self.pool.code_mode(driver)
        async for event in chat(
            adapter=ProgramAdapter(code),
            messages=program_messages(),
            tools=[code_mode.tool],
            run_id=run_id,
        ):
            yield event

    async def stop(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        return JSONResponse({"runId": run_id, "stopped": self.runs.stop(run_id)})

    async def chat_run(self, request: Request) -> Response:
        if not self.chat.enabled:
            return _error(409, "no model is configured; " + self.chat.status()["howTo"])
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        data = body.get("data")
        if not isinstance(data, dict):
            data = {}
        driver = self._driver(body.get("driver", data.get("driver")))
        if isinstance(driver, Response):
            return driver
        messages = body.get("messages")
        if not isinstance(messages, list):
            return _error(400, "messages must be a list")
        # A TanStack AI client sends an AG-UI RunAgentInput: keep its thread and run ids.
        run_id = _given_id(body.get("runId")) or f"run_{uuid.uuid4().hex[:16]}"
        if run_id in self.runs:
            return _error(409, f"run {run_id!r} is already in progress")
        thread_id = _given_id(body.get("threadId"))
        try:
            events = await self.chat.run(messages, driver, run_id, thread_id)
        except ChatInputError as exc:
            return _error(400, str(exc))
        return to_server_sent_events_response(self.runs.stream(run_id, events))

    async def skills(self, request: Request) -> Response:
        return JSONResponse({"skills": await self.chat.skills()})

    async def page(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self.runs.stop_all()
        await self.pool.aclose()


def create_app(
    config: CodeModeConfig | None = None,
    *,
    data_dir: Path | str | None = None,
    driver: str | None = None,
) -> Starlette:
    """The web app over the demo shop, its database under ``data_dir`` (default: the user's
    data directory), running programs on ``driver`` (default: the config's)."""
    from codemode.config import load_config
    from codemode.web._paths import default_data_dir

    web = WebApp(
        config or load_config(),
        Path(data_dir) if data_dir is not None else default_data_dir(),
        driver,
    )
    app = Starlette(
        routes=[
            Route("/", web.page),
            Route("/api/info", web.info),
            Route("/api/run", web.run, methods=["POST"]),
            Route("/api/runs/{run_id}/stop", web.stop, methods=["POST"]),
            Route("/api/chat", web.chat_run, methods=["POST"]),
            Route("/api/skills", web.skills),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(_SameOrigin)],
        lifespan=web.lifespan,
    )
    app.state.web = web
    return app
