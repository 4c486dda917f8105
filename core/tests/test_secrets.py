"""Secret-looking tool parameters: which names, where in a schema, and what each policy does."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from pydantic import BaseModel

from codemode import create_code_mode, tool
from codemode.errors import ConfigError, SecretParameterError, SecretParameterWarning
from codemode.isolate import IsolateConfig, IsolateContext
from codemode.tools import check_secret_parameters, looks_like_secret


def paths_of(schema: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    check_secret_parameters("t", schema, lambda _tool, path: seen.append(path))
    return seen


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


STRING = {"type": "string"}

# --- Names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "passwd",
        "pass_phrase",
        "passPhrase",
        "secret",
        "client_secret",
        "clientSecret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apiKey",
        "APIKey",
        "API_KEY",
        "apikey",
        "x-api-key",
        "api_keys",
        "private_key",
        "credentials",
        "auth_token",
        "authToken",
        "authorization",
        "bearer",
        "session_id",
        "sessionId",
        "cookie",
        "newPassword",
        "password_confirmation",
        "access_tokens",
        "auth",
        "pass",
    ],
)
def test_secret_names_are_flagged(name: str) -> None:
    assert looks_like_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "tokens",
        "token_count",
        "tokenizer",
        "max_tokens",
        "maxTokens",
        "num_tokens",
        "max_token",
        "token_type",
        "keyboard",
        "key",
        "sort_key",
        "public_key",
        "author",
        # An authority is a host or an issuer, and a secretary a person: words of their own,
        # not "auth" or "secret" with something glued on.
        "authority",
        "secretary",
        "passenger",
        "compass",
        "bypass",
        "first_pass",
        "monkey",
        "turkey",
        "hockey",
        "city",
        "auth_mode",
        # A describing word after the secret word is what the name holds.
        "api_key_name",
        "secret_name",
        "authorization_url",
        "password_min_length",
        "bearer_format",
        "credentials_file",
        "token_expires_in",
    ],
)
def test_ordinary_names_are_not_flagged(name: str) -> None:
    assert not looks_like_secret(name)


# --- Where in a schema ---------------------------------------------------------------------


class Credential(BaseModel):
    user: str
    api_key: str


class Auth(BaseModel):
    credentials: list[Credential]


class Node(BaseModel):
    name: str
    token: str | None = None
    children: list[Node] = []


def test_nested_models_refs_arrays_and_recursion_from_pydantic() -> None:
    @tool
    def sync(auth: Auth, tree: Node, backup: Credential | None = None) -> int:
        """Sync."""
        return 0

    # ``tree.children[].token`` is the recursion: the walk stops at the second ``Node``.
    assert paths_of(sync.input_schema) == [
        "auth.credentials[].api_key",
        "tree.token",
        "backup.api_key",
    ]


def test_ref_into_definitions_and_pointer_escapes() -> None:
    schema = {
        **obj(a={"$ref": "#/definitions/Login"}, b={"$ref": "#/definitions/odd~1name"}),
        "definitions": {"Login": obj(passwd=STRING), "odd/name": obj(token=STRING)},
    }
    assert paths_of(schema) == ["a.passwd", "b.token"]


def test_unresolvable_refs_are_skipped() -> None:
    schema = {
        **obj(
            remote={"$ref": "https://example.com/schema.json"},
            missing={"$ref": "#/$defs/Nowhere"},
            past_a_leaf={"$ref": "#/$defs/Str/type/x"},
        ),
        "$defs": {"Str": STRING},
    }
    assert paths_of(schema) == []


def test_ref_with_sibling_properties() -> None:
    schema = {
        **obj(item={"$ref": "#/$defs/Base", "properties": {"token": STRING}}),
        "$defs": {"Base": obj(password=STRING)},
    }
    assert paths_of(schema) == ["item.password", "item.token"]


def test_one_model_under_two_names_is_reported_under_both() -> None:
    schema = {
        **obj(primary={"$ref": "#/$defs/C"}, fallback={"$ref": "#/$defs/C"}),
        "$defs": {"C": obj(secret=STRING)},
    }
    assert paths_of(schema) == ["primary.secret", "fallback.secret"]


def test_mutual_and_root_recursion_terminate() -> None:
    schema = {
        **obj(a={"$ref": "#/$defs/A"}, again={"$ref": "#"}, cookie=STRING),
        "$defs": {
            "A": obj(b={"$ref": "#/$defs/B"}, token=STRING),
            "B": obj(a={"$ref": "#/$defs/A"}, apiKey=STRING),
        },
    }
    # ``again`` is the whole schema once more; inside it, ``again.again`` is where it stops.
    assert paths_of(schema) == [
        "a.b.apiKey",
        "a.token",
        "again.a.b.apiKey",
        "again.a.token",
        "again.cookie",
        "cookie",
    ]


def test_array_forms() -> None:
    schema = obj(
        listed={"type": "array", "items": obj(token=STRING)},
        pair={"type": "array", "prefixItems": [STRING, obj(password=STRING)]},
        draft4={"type": "array", "items": [obj(secret=STRING)]},
        nested={"type": "array", "items": {"type": "array", "items": obj(api_key=STRING)}},
    )
    assert paths_of(schema) == [
        "listed[].token",
        "pair[1].password",
        "draft4[].secret",
        "nested[][].api_key",
    ]


def test_maps() -> None:
    schema = obj(
        accounts={"type": "object", "additionalProperties": obj(password=STRING)},
        by_pattern={"type": "object", "patternProperties": {"^x": obj(token=STRING)}},
        closed={"type": "object", "additionalProperties": False},
    )
    assert paths_of(schema) == ["accounts.*.password", "by_pattern.*.token"]


def test_union_branches_and_duplicates() -> None:
    schema = obj(
        login={
            "anyOf": [obj(password=STRING), {"type": "null"}],
            "oneOf": [obj(token=STRING)],
            "allOf": [obj(secret=STRING), obj(secret=STRING)],
        }
    )
    assert paths_of(schema) == ["login.password", "login.token", "login.secret"]


def test_a_secret_named_container_is_reported_when_nothing_inside_is() -> None:
    schema = obj(
        credentials=obj(user=STRING, key=STRING),
        tokens_by_user={"type": "object", "additionalProperties": STRING},
        api_keys={"type": "array", "items": STRING},
        auth=obj(scheme=STRING, token=STRING),
    )
    # ``auth`` itself is not reported: the precise ``auth.token`` is.
    assert paths_of(schema) == ["credentials", "api_keys", "auth.token"]


def test_non_schema_values_are_ignored() -> None:
    assert paths_of({"properties": {"token": True, "x": [1, 2]}, "items": 3}) == ["token"]


# --- Policies ------------------------------------------------------------------------------

SCHEMA = obj(url=STRING, apiKey=STRING, nested=obj(password=STRING))


def test_warn_names_every_path_in_one_warning() -> None:
    with pytest.warns(SecretParameterWarning) as record:
        check_secret_parameters("callApi", SCHEMA, "warn")
    assert len(record) == 1
    message = str(record[0].message)
    assert "tool 'callApi' takes parameters 'apiKey', 'nested.password' that look" in message
    assert record[0].filename == __file__


def test_throw_raises_with_the_tool_and_path() -> None:
    with pytest.raises(SecretParameterError, match=r"tool 'callApi' takes a parameter 'apiKey'"):
        check_secret_parameters("callApi", obj(apiKey=STRING), "throw")


def test_ignore_and_clean_schemas_say_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_secret_parameters("callApi", SCHEMA, "ignore")
        check_secret_parameters("callApi", obj(city=STRING), "warn")
        check_secret_parameters("callApi", obj(city=STRING), "throw")


def test_callable_gets_each_path() -> None:
    seen: list[tuple[str, str]] = []
    check_secret_parameters("callApi", SCHEMA, lambda tool, path: seen.append((tool, path)))
    assert seen == [("callApi", "apiKey"), ("callApi", "nested.password")]


@pytest.mark.parametrize("policy", ["warm", "Warn", "", None, 3])
def test_bad_policy_is_refused_before_looking_at_the_schema(policy: Any) -> None:
    with pytest.raises(ConfigError, match="must be 'warn', 'throw', 'ignore' or a callable"):
        check_secret_parameters("clean", obj(city=STRING), policy)


def test_bad_policy_suggests_the_close_one() -> None:
    with pytest.raises(ConfigError, match=r"got 'warm' \(did you mean 'warn'\?\)"):
        check_secret_parameters("clean", {}, "warm")  # type: ignore[arg-type]


class _NoDriver:
    async def create_context(self, config: IsolateConfig) -> IsolateContext:
        raise NotImplementedError


def test_the_warning_points_at_the_callers_line() -> None:
    @tool
    def call_api(url: str, api_key: str) -> str:
        """Call an API."""
        return url

    with pytest.warns(SecretParameterWarning, match="'api_key'") as record:
        create_code_mode(driver=_NoDriver(), tools=[call_api])
    assert record[0].filename == __file__


def test_create_code_mode_refuses_a_misspelt_policy_without_secrets() -> None:
    @tool
    def forecast(city: str) -> str:
        """Forecast."""
        return city

    with pytest.raises(ConfigError, match="on_secret_parameter"):
        create_code_mode(driver=_NoDriver(), tools=[forecast], on_secret_parameter="warm")  # type: ignore[arg-type]
