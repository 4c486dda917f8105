"""One PascalCase for stub type names and tool input models: `codemode.typescript.naming`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codemode import tool
from codemode.typescript import ToolSignature, render_tool_stubs
from codemode.typescript.naming import TypeNames, definition_name, is_type_name, pascal_case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fetch_weather", "FetchWeather"),
        ("fetchWeather", "FetchWeather"),
        ("FetchWeather", "FetchWeather"),
        ("get-orders", "GetOrders"),
        ("HTTPServer", "HTTPServer"),  # mixed case is kept as written
        ("HTTP_SERVER", "HttpServer"),  # an all-capitals word is capitalized
        ("get_HTTP_status", "GetHttpStatus"),
        ("FETCH_WEATHER", "FetchWeather"),
        ("_private", "Private"),
        ("__dunder__", "Dunder"),
        ("x2y", "X2y"),
        ("x", "X"),
        ("a.b c$d", "ABCD"),
        ("3d_render", "T3dRender"),  # an identifier cannot start with a digit
        ("42", "T42"),
        ("ünïcode", "Ünïcode"),
        ("météo", "Météo"),
        ("x²", "X"),  # "²" is a word character but cannot be in an identifier
        ("", ""),
        ("__", ""),
        ("-- --", ""),
    ],
)
def test_pascal_case(text: str, expected: str) -> None:
    result = pascal_case(text)
    assert result == expected
    assert result == "" or result.isidentifier()


@pytest.mark.parametrize(
    "name", ["fetch_weather", "fetchWeather", "FETCH_WEATHER", "get_HTTP_status", "x2y", "_p"]
)
def test_tool_input_model_and_stub_type_share_the_name(name: str) -> None:
    def implementation(city: str) -> str:
        """Look something up."""
        return city

    implementation.__name__ = name
    made = tool(implementation)
    stubs = render_tool_stubs(
        [ToolSignature(f"external_{name}", name, made.description, made.input_schema, None)]
    )
    title = made.input_schema["title"]
    assert title == f"{pascal_case(name)}Input"
    assert f"interface {title} {{" in stubs


def test_tool_without_letters_in_its_name_gets_a_default_model_name() -> None:
    def implementation() -> None:
        """Nothing."""

    implementation.__name__ = "__"
    assert tool(implementation).input_schema["title"] == "ToolInput"


@pytest.mark.parametrize(
    ("key", "expected"),
    [("Item", "Item"), ("my-item", "MyItem"), ("string", "String"), ("$ref", "$ref"), ("", "Type")],
)
def test_definition_name(key: str, expected: str) -> None:
    assert definition_name(key) == expected


def test_type_names_take_numbers_when_taken_or_unusable() -> None:
    names = TypeNames()
    assert [names.claim(n) for n in ["Item", "Item", "Record", "Item"]] == [
        "Item",
        "Item2",
        "Record2",
        "Item3",
    ]
    assert not is_type_name("Record")
    assert not is_type_name("type")
    assert is_type_name("Item")


def test_naming_does_not_load_the_parser() -> None:
    # codemode.tools imports naming; a tool must not cost tree-sitter's import.
    script = (
        "import sys, json\nimport codemode.typescript.naming\nfrom codemode import tool\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "codemode.typescript.naming" in loaded
    assert "codemode.tools" in loaded
    assert not {"tree_sitter", "codemode.typescript.strip", "codemode.typescript.stubs"} & loaded


def test_typescript_package_names_load_on_first_use() -> None:
    import importlib

    import codemode.typescript

    homes = codemode.typescript._HOMES
    assert sorted(homes) == codemode.typescript.__all__
    for name, home in homes.items():
        assert getattr(codemode.typescript, name) is getattr(importlib.import_module(home), name)
    assert set(codemode.typescript.__all__) <= set(dir(codemode.typescript))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = codemode.typescript.nope  # type: ignore[attr-defined]
