"""The agent loop and its stream: ``chat`` yields AG-UI events; ``to_server_sent_events`` and
``to_server_sent_events_response`` put them on the wire a TanStack AI client reads."""

from codemode.agent._loop import RUN_SUMMARY, chat
from codemode.agent._messages import ChatInputError, to_chat_messages
from codemode.agent._sse import to_server_sent_events, to_server_sent_events_response
from codemode.agent._strategy import AgentLoopStrategy, LoopState, MaxIterations, max_iterations

__all__ = [
    "RUN_SUMMARY",
    "AgentLoopStrategy",
    "ChatInputError",
    "LoopState",
    "MaxIterations",
    "chat",
    "max_iterations",
    "to_chat_messages",
    "to_server_sent_events",
    "to_server_sent_events_response",
]
