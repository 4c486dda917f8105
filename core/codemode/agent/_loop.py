"""``chat``: the agent loop, as a stream of AG-UI events a TanStack AI client consumes.

One run: RUN_STARTED, then model turn after model turn (TEXT_MESSAGE_* for its text,
TOOL_CALL_START/ARGS/END for each tool call as it streams), the tool calls of a turn run
concurrently (CUSTOM events for everything they emit, each carrying the id of its tool call,
then TOOL_CALL_RESULT as each finishes), until the model answers without calling a tool or
the strategy stops the loop; then CUSTOM ``code_mode:run_summary`` and RUN_FINISHED, or
RUN_ERROR when the model provider fails.

The tools and system prompts are read again before every model turn: a skill registered
during the run is offered on the next turn, and a ``LivePrompt`` is rendered again.

A tool the model names that does not exist, arguments that are not a JSON object, or a tool
that raises, give the model an error result (``{"error": ...}``) it can act on; the run goes
on. Cancelling the iteration (a client that disconnects) cancels the running tool calls,
whose sandboxes are disposed, before the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from codemode.adapters import Finish, ModelAdapter, TextDelta, ToolCallDelta, Usage
from codemode.agent._messages import ChatMessage, new_id, to_chat_messages
from codemode.agent._strategy import AgentLoopStrategy, LoopState, max_iterations
from codemode.code_mode import events as code_mode_events
from codemode.errors import ConfigError, ModelError, ToolError
from codemode.tools import Tool, ToolExecutionContext, ToolSet

logger = logging.getLogger("codemode.agent")

RUN_SUMMARY = "code_mode:run_summary"
"""The CUSTOM event before RUN_FINISHED: what the run cost and what Code Mode saved."""

PromptSource = str | Callable[[], str]


@dataclass
class _Call:
    index: int
    id: str
    name: str = ""
    arguments: str = ""


@dataclass
class _Totals:
    iterations: int = 0
    tool_calls: int = 0
    executions: int = 0
    sandbox_tool_calls: int = 0
    tool_result_bytes: int = 0
    result_bytes: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    usage_reported: bool = False
    stop_reason: str = "stop"

    def count(self, name: str, data: Any) -> None:
        if name == code_mode_events.EXECUTION_FINISHED and isinstance(data, dict):
            self.executions += 1
            self.sandbox_tool_calls += int(data.get("toolCalls") or 0)
            self.tool_result_bytes += int(data.get("toolResultBytes") or 0)
            self.result_bytes += int(data.get("resultBytes") or 0)

    def add_usage(self, usage: Usage) -> None:
        self.usage_reported = True
        self.input_tokens += usage.prompt_tokens
        self.output_tokens += usage.completion_tokens
        self.total_tokens += usage.total_tokens

    def summary(self) -> dict[str, Any]:
        return {
            "stopReason": self.stop_reason,
            "iterations": self.iterations,
            "toolCalls": self.tool_calls,
            "executions": self.executions,
            "sandboxToolCalls": self.sandbox_tool_calls,
            "toolResultBytes": self.tool_result_bytes,
            "resultBytes": self.result_bytes,
            "usage": (
                {
                    "inputTokens": self.input_tokens,
                    "outputTokens": self.output_tokens,
                    "totalTokens": self.total_tokens,
                }
                if self.usage_reported
                else None
            ),
        }


@dataclass
class _Turn:
    """One model turn as it streamed: its text and its tool calls, by index."""

    message_id: str
    text: str = ""
    started: bool = False
    calls: dict[int, _Call] = field(default_factory=dict)
    finish: str | None = None
    ended: bool = False


def _tool_call_ids(history: list[ChatMessage]) -> set[str]:
    ids = set()
    for message in history:
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                ids.add(call["id"])
    return ids


def _start(call: _Call, turn: _Turn) -> ToolCallStartEvent:
    return ToolCallStartEvent(
        tool_call_id=call.id, tool_call_name=call.name, parent_message_id=turn.message_id
    )


def _prompts(sources: Sequence[Any]) -> list[str]:
    rendered = []
    for source in sources:
        render = getattr(source, "render", None)
        if callable(render):
            rendered.append(str(render()))
        elif callable(source):
            rendered.append(str(source()))
        else:
            rendered.append(str(source))
    return rendered


def _tools_now(tools: Iterable[Tool] | ToolSet) -> list[Tool]:
    return list(tools)


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, default=str, ensure_ascii=False)


def _error(message: str) -> str:
    return _Failed(_json({"error": message}))


_OUTPUT_ERROR = {"tanstack": {"state": "output-error"}}


class _Failed(str):
    """A tool result that reports a failure (still the text the model reads)."""


async def _run_tool(tool: Tool | None, call: _Call, known: list[str], emit: Any) -> str:
    """The tool call's result as the text the model reads; never raises but for cancellation.
    A failure comes back as ``_Failed``."""
    if tool is None:
        return _error(
            f"there is no tool named {call.name!r}; the tools are: {', '.join(known) or 'none'}"
        )
    try:
        args = json.loads(call.arguments) if call.arguments.strip() else {}
    except ValueError as exc:
        return _error(
            f"the arguments of {call.name} are not valid JSON ({exc}): {call.arguments[:200]!r}"
        )
    if not isinstance(args, dict):
        return _error(
            f"the arguments of {call.name} must be a JSON object, got {type(args).__name__}"
        )
    context = ToolExecutionContext(emit, tool_call_id=call.id)
    try:
        result = await tool.execute(args, context)
    except ToolError as exc:
        return _error(str(exc))
    except Exception as exc:
        logger.warning("tool %s raised", call.name, exc_info=True)
        return _error(f"{call.name} failed: {type(exc).__name__}: {exc}")
    return result if isinstance(result, str) else _json(result)


class _Run:
    def __init__(
        self,
        adapter: ModelAdapter,
        history: list[ChatMessage],
        tools: Iterable[Tool] | ToolSet,
        system_prompts: Sequence[Any],
        strategy: AgentLoopStrategy,
        thread_id: str,
        run_id: str,
    ) -> None:
        self.adapter = adapter
        self.history = history
        self.tools = tools
        self.system_prompts = system_prompts
        self.strategy = strategy
        self.thread_id = thread_id
        self.run_id = run_id
        self.totals = _Totals()
        self.used_ids = _tool_call_ids(history)
        self.turn: _Turn | None = None

    async def events(self) -> AsyncIterator[BaseEvent]:
        yield RunStartedEvent(thread_id=self.thread_id, run_id=self.run_id)
        try:
            while True:
                state = LoopState(self.totals.iterations, self.totals.tool_calls)
                if not self.strategy(state):
                    self.totals.stop_reason = "max_iterations"
                    break
                turn = _Turn(message_id=new_id("msg"))
                self.turn = turn
                tools = _tools_now(self.tools)
                async for event in self._model_turn(turn, tools):
                    yield event
                self.totals.iterations += 1
                calls = [turn.calls[index] for index in sorted(turn.calls)]
                self.history.append(self._assistant_message(turn, calls))
                if not calls:
                    break
                async for event in self._tool_calls(calls, tools):
                    yield event
        except ModelError as exc:
            current = self.turn
            if current is not None and current.started and not current.ended:
                # The answer broke off: what was said so far is still a whole message.
                yield TextMessageEndEvent(message_id=current.message_id)
            yield RunErrorEvent(message=str(exc), code=type(exc).__name__, usage=self._usage())
            return
        summary = self.totals.summary()
        yield CustomEvent(name=RUN_SUMMARY, value=summary)
        yield RunFinishedEvent(
            thread_id=self.thread_id, run_id=self.run_id, result=summary, usage=self._usage()
        )

    def _usage(self) -> list[TokenUsage] | None:
        if not self.totals.usage_reported:
            return None
        return [
            TokenUsage(
                model=self.adapter.model,
                input_tokens=self.totals.input_tokens,
                output_tokens=self.totals.output_tokens,
                total_tokens=self.totals.total_tokens,
            )
        ]

    async def _model_turn(self, turn: _Turn, tools: list[Tool]) -> AsyncIterator[BaseEvent]:
        stream = self.adapter.stream(
            list(self.history), tools=tools, system_prompts=_prompts(self.system_prompts)
        )
        try:
            async for chunk in stream:
                if isinstance(chunk, TextDelta):
                    if not chunk.text:
                        continue
                    if not turn.started:
                        turn.started = True
                        yield TextMessageStartEvent(message_id=turn.message_id, role="assistant")
                    turn.text += chunk.text
                    yield TextMessageContentEvent(message_id=turn.message_id, delta=chunk.text)
                elif isinstance(chunk, ToolCallDelta):
                    for event in self._tool_call_delta(turn, chunk):
                        yield event
                elif isinstance(chunk, Usage):
                    self.totals.add_usage(chunk)
                elif isinstance(chunk, Finish):
                    turn.finish = chunk.reason
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        if turn.started:
            turn.ended = True
            yield TextMessageEndEvent(message_id=turn.message_id)
        for index in sorted(turn.calls):
            call = turn.calls[index]
            if not call.name:
                call.name = "(unnamed)"
                yield ToolCallStartEvent(
                    tool_call_id=call.id,
                    tool_call_name=call.name,
                    parent_message_id=turn.message_id,
                )
                if call.arguments:
                    yield ToolCallArgsEvent(tool_call_id=call.id, delta=call.arguments)
            yield ToolCallEndEvent(tool_call_id=call.id)

    def _tool_call_delta(self, turn: _Turn, chunk: ToolCallDelta) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        call = turn.calls.get(chunk.index)
        if call is None:
            given = chunk.id
            # A client matches ids against the whole thread: an id seen before (a provider
            # that counts call_0, call_1... in every run) would overwrite the older call.
            if not given or given in self.used_ids:
                given = new_id("call")
            self.used_ids.add(given)
            call = _Call(chunk.index, given)
            turn.calls[chunk.index] = call
        if chunk.name and not call.name:
            call.name = chunk.name
            events.append(
                ToolCallStartEvent(
                    tool_call_id=call.id,
                    tool_call_name=call.name,
                    parent_message_id=turn.message_id,
                )
            )
            if call.arguments:  # pieces that came before the name
                events.append(ToolCallArgsEvent(tool_call_id=call.id, delta=call.arguments))
        if chunk.arguments:
            call.arguments += chunk.arguments
            if call.name:
                events.append(ToolCallArgsEvent(tool_call_id=call.id, delta=chunk.arguments))
        return events

    def _assistant_message(self, turn: _Turn, calls: list[_Call]) -> ChatMessage:
        message: ChatMessage = {"role": "assistant", "content": turn.text or None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in calls
            ]
        return message

    async def _tool_calls(self, calls: list[_Call], tools: list[Tool]) -> AsyncIterator[BaseEvent]:
        by_name = {tool.name: tool for tool in tools}
        known = list(by_name)
        queue: asyncio.Queue[BaseEvent | None] = asyncio.Queue()
        results: dict[str, str] = {}

        async def one(call: _Call) -> None:
            def emit(name: str, data: Any) -> None:
                self.totals.count(name, data)
                value = {**data, "toolCallId": call.id} if isinstance(data, dict) else data
                queue.put_nowait(CustomEvent(name=name, value=value))

            content = await _run_tool(by_name.get(call.name), call, known, emit)
            results[call.id] = str(content)
            # TanStack AI clients show a call whose result says "output-error" as failed.
            failed = (
                {"tanstack": {"state": "output-error"}} if isinstance(content, _Failed) else None
            )
            queue.put_nowait(
                ToolCallResultEvent(
                    message_id=new_id("msg"),
                    tool_call_id=call.id,
                    content=str(content),
                    role="tool",
                    metadata=failed,
                )
            )

        async def all_calls() -> None:
            try:
                await asyncio.gather(*(one(call) for call in calls))
            finally:
                queue.put_nowait(None)

        self.totals.tool_calls += len(calls)
        runner = asyncio.ensure_future(all_calls())
        try:
            while (event := await queue.get()) is not None:
                yield event
            await runner
        finally:
            if not runner.done():
                # The consumer went away (a client disconnected): stop the tools, and wait
                # until they are stopped, so no sandbox outlives the run.
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)
        for call in calls:
            self.history.append(
                {"role": "tool", "tool_call_id": call.id, "content": results[call.id]}
            )


def chat(
    *,
    adapter: ModelAdapter,
    messages: Sequence[Any],
    tools: Iterable[Tool] | ToolSet = (),
    system_prompts: Sequence[PromptSource] = (),
    agent_loop_strategy: AgentLoopStrategy | None = None,
    thread_id: str | None = None,
    run_id: str | None = None,
) -> AsyncIterator[BaseEvent]:
    """Run the agent loop; an async iterator of AG-UI events.

    ``messages`` are AG-UI messages as a TanStack AI client POSTs them (``body["messages"]``)
    or OpenAI-style dicts. ``tools`` is a list or a live ``ToolSet``; ``system_prompts`` are
    strings, ``LivePrompt``s or functions returning a string, read before every model turn.
    ``agent_loop_strategy`` defaults to ``max_iterations(15)``. ``thread_id`` / ``run_id``
    (the request's ``threadId`` / ``runId``) are echoed in RUN_STARTED and RUN_FINISHED;
    new ids are made when they are not given. Bad ``messages`` raise ``ChatInputError`` here,
    before anything streams.
    """
    if not hasattr(adapter, "stream"):
        raise ConfigError(
            f"adapter must be a model adapter (with a stream method), got {adapter!r}"
        )
    history = to_chat_messages(messages)
    strategy = agent_loop_strategy or max_iterations(15)
    if not callable(strategy):
        raise ConfigError(f"agent_loop_strategy must be callable, got {strategy!r}")
    run = _Run(
        adapter,
        history,
        tools,
        system_prompts,
        strategy,
        thread_id or new_id("thread"),
        run_id or new_id("run"),
    )
    return run.events()
