"""The turn protocol: well-typed messages or a ProtocolError, never a KeyError."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from codemode.isolate import ConsoleEntry
from codemode.sandbox import (
    PROTOCOL_VERSION,
    ProtocolError,
    TooDeepError,
    ToolRequest,
    Turn,
    decode_turn,
    encode_delivery,
    encode_result,
)
from codemode.sandbox._protocol import dumps, install_message, loads


def _turn(**fields: Any) -> str:
    base: dict[str, Any] = {"v": 1, "state": "waiting", "requests": [], "logs": []}
    base.update(fields)
    return json.dumps(base)


def test_a_waiting_turn() -> None:
    turn = decode_turn(
        _turn(requests=[[1, "external_echo", {"i": 1}]], logs=[["warn", "slow"], ["log", "x"]])
    )
    assert turn.state == "waiting"
    assert turn.requests == (ToolRequest(1, "external_echo", {"i": 1}),)
    assert turn.logs == (ConsoleEntry("warn", "slow"), ConsoleEntry("log", "x"))
    assert not turn.out_of_memory


def test_decoded_turns_are_what_their_constructors_make() -> None:
    # decode_turn fills the slots itself (it is on every tool call's path): it must set every
    # field, and the result must behave as a constructed one (equal, frozen, replaceable).
    assert [f.name for f in dataclasses.fields(Turn)] == [
        "state", "requests", "logs", "value", "failure", "out_of_memory", "size",
    ]  # fmt: skip
    assert [f.name for f in dataclasses.fields(ToolRequest)] == ["id", "function", "args"]
    text = _turn(requests=[[3, "external_echo", {"i": 1}]], logs=[["log", "x"]])
    turn = decode_turn(text)
    expected = Turn(
        state="waiting",
        requests=(ToolRequest(3, "external_echo", {"i": 1}),),
        logs=(ConsoleEntry("log", "x"),),
        size=len(text),
    )
    assert turn == expected
    assert repr(turn) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        turn.state = "returned"  # type: ignore[misc]  # frozen, which is what is checked
    with pytest.raises(dataclasses.FrozenInstanceError):
        turn.requests[0].id = 4  # type: ignore[misc]
    assert dataclasses.replace(turn, size=1).size == 1
    assert decode_turn(_turn()).logs == ()


def test_returned_and_failed_turns() -> None:
    assert decode_turn(_turn(state="returned", value={"a": [1]})).value == {"a": [1]}
    failed = decode_turn(
        _turn(
            state="failed",
            error={"name": "TypeError", "message": "m", "stack": None, "limit": True},
        )
    )
    assert failed.failure is not None
    assert (failed.failure.name, failed.failure.message, failed.failure.limit) == (
        "TypeError",
        "m",
        True,
    )
    assert decode_turn(_turn(state="returned", outOfMemory=True)).out_of_memory


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        _turn(v=2),
        json.dumps({"state": "waiting", "requests": [], "logs": []}),
        _turn(state="running"),
        _turn(requests="x"),
        _turn(requests=[[0, "external_echo", {}]]),
        _turn(requests=[[True, "external_echo", {}]]),
        _turn(requests=[[1, 5, {}]]),
        _turn(requests=[[1, "external_echo"]]),
        _turn(logs=[["debug", "x"]]),
        _turn(logs=[["log", 5]]),
        _turn(state="failed"),
        _turn(state="failed", error={"name": "E"}),
        _turn(state="failed", error={"name": "E", "message": "m", "stack": 5}),
    ],
)
def test_anything_else_is_a_protocol_error(text: str) -> None:
    with pytest.raises(ProtocolError):
        decode_turn(text)


def test_the_version_is_named() -> None:
    with pytest.raises(ProtocolError, match="turn protocol 2; this host speaks 1"):
        decode_turn(_turn(v=2))
    assert PROTOCOL_VERSION == 1
    assert json.loads(install_message(["external_b", "external_a"], 1, 2, 3)) == {
        "protocol": 1,
        "bindings": ["external_a", "external_b"],
        "maxToolCalls": 1,
        "maxLogChars": 2,
        "maxResultChars": 3,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"\\ud800"', "\ufffd"),
        ('{"\\ud800x": "\\udc00"}', {"\ufffdx": "\ufffd"}),
        ('"\\ud83d\\ude00"', "😀"),
        ('"a\\\\ud800"', "a\\ud800"),
        ('"\\\\\\ud800"', "\\\ufffd"),
        ('["\\udc00\\ud800"]', ["\ufffd\ufffd"]),
    ],
)
def test_lone_surrogates_decode_as_replacement_characters(text: str, value: Any) -> None:
    assert loads(text) == value


def test_too_deep_is_named() -> None:
    with pytest.raises(TooDeepError):
        loads("[" * 2000 + "]" * 2000)


def test_host_values_with_lone_surrogates_are_made_well_formed() -> None:
    assert json.loads(dumps({"\ud800": ["x\udfff"]})) == {"\ufffd": ["x\ufffd"]}
    assert encode_result(3, True, "a\ud800", "echo") == '[3,true,"a\ufffd"]'


def test_a_result_that_is_not_json_becomes_a_serialization_error() -> None:
    result = json.loads(encode_result(4, True, object(), "echo"))
    assert result[:2] == [4, False]
    assert result[2]["name"] == "SerializationError"
    assert "the result of echo cannot be sent" in result[2]["message"]
    assert json.loads(encode_delivery(["[1,true,2]"])) == {"v": 1, "results": [[1, True, 2]]}
