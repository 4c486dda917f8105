"""TypeScript stubs from JSON Schema: `codemode.typescript.stubs`."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from codemode.errors import ConfigError, ToolDefinitionError
from codemode.typescript.stubs import ToolSignature, render_tool_stubs, schema_to_type


def alias(schema: dict[str, Any]) -> str:
    """The right-hand side of ``type T = ...;`` for a schema that is not an interface."""
    rendered = schema_to_type(schema, "T")
    prefix, suffix = "type T = ", ";\n"
    assert rendered.startswith(prefix), rendered
    assert rendered.endswith(suffix), rendered
    return rendered[len(prefix) : -len(suffix)]


def prop(schema: Any) -> str:
    """The type rendered for ``schema`` as the required property ``p`` of an interface."""
    rendered = schema_to_type(
        {"type": "object", "properties": {"p": schema}, "required": ["p"]}, "T"
    )
    lines = rendered.splitlines()
    assert lines[0] == "interface T {", rendered
    assert lines[-1] == "}", rendered
    body = "\n".join(lines[1:-1])
    assert body.startswith("  p: "), rendered
    assert body.endswith(";"), rendered
    return body[len("  p: ") : -1]


def tool(
    name: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any] | None = None,
    description: str = "",
) -> ToolSignature:
    return ToolSignature(f"external_{name}", name, description, input_schema, output_schema)


# --- pydantic models -----------------------------------------------------------------------


class Units(enum.Enum):
    """Unit system."""

    METRIC = "metric"
    IMPERIAL = "imperial"


class Location(BaseModel):
    """Where to look."""

    city: str = Field(description='City name, e.g. "Paris"')
    country: str | None = Field(default=None, description="ISO 3166 code")


class FetchWeatherArgs(BaseModel):
    location: Location
    units: Units = Units.METRIC
    detail: Literal["brief", "full"] = "brief"
    days: int = Field(default=1, description="How many days.\nAt most 7.")


class Forecast(BaseModel):
    day: datetime
    high: float
    low: float


class Weather(BaseModel):
    """Current weather and the days ahead."""

    temperature: float
    forecast: list[Forecast]
    readings: dict[str, int]
    alerts: list[str] | None = None


WEATHER_STUBS = """\
interface FetchWeatherInput {
  location: Location;
  /** @default "metric" */
  units?: Units;
  /** @default "brief" */
  detail?: "brief" | "full";
  /**
   * How many days.
   * At most 7.
   * @default 1
   */
  days?: number;
}

/** Where to look. */
interface Location {
  /** City name, e.g. "Paris" */
  city: string;
  /**
   * ISO 3166 code
   * @default null
   */
  country?: string | null;
}

/** Unit system. */
type Units = "metric" | "imperial";

/** Current weather and the days ahead. */
interface FetchWeatherOutput {
  temperature: number;
  forecast: Forecast[];
  readings: Record<string, number>;
  /** @default null */
  alerts?: string[] | null;
}

interface Forecast {
  /** @format date-time */
  day: string;
  high: number;
  low: number;
}

/** Get current weather for a city */
declare function external_fetch_weather(input: FetchWeatherInput): Promise<FetchWeatherOutput>;
"""


def test_pydantic_tool_renders_types_then_function() -> None:
    signature = ToolSignature(
        function_name="external_fetch_weather",
        tool_name="fetch_weather",
        description="Get current weather for a city",
        input_schema=FetchWeatherArgs.model_json_schema(),
        output_schema=Weather.model_json_schema(),
    )
    assert render_tool_stubs([signature]) == WEATHER_STUBS


class TreeNode(BaseModel):
    """A node and its children."""

    value: int
    children: list[TreeNode] = []


def test_pydantic_recursive_model() -> None:
    # pydantic puts a recursive root model in $defs and makes the root a $ref to it.
    assert schema_to_type(TreeNode.model_json_schema(), "Tree") == (
        "type Tree = TreeNode;\n"
        "\n"
        "/** A node and its children. */\n"
        "interface TreeNode {\n"
        "  value: number;\n"
        "  /** @default [] */\n"
        "  children?: TreeNode[];\n"
        "}\n"
    )


def test_pydantic_list_of_models_as_output() -> None:
    schema = TypeAdapter(list[Forecast]).json_schema()
    assert schema_to_type(schema, "Days") == (
        "type Days = Forecast[];\n"
        "\n"
        "interface Forecast {\n"
        "  /** @format date-time */\n"
        "  day: string;\n"
        "  high: number;\n"
        "  low: number;\n"
        "}\n"
    )


def test_pydantic_optional_model_is_nullable_reference() -> None:
    assert schema_to_type(TypeAdapter(Location | None).json_schema(), "Maybe").startswith(
        "type Maybe = Location | null;\n\n/** Where to look. */\ninterface Location {\n"
    )


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Settings(BaseModel):
    model_config = ConfigDict(extra="allow")

    priority: Priority
    by_name: dict[Literal["a", "b"], int]
    by_units: dict[Units, float]
    anything: dict[str, Any]
    pair: tuple[int, str]
    numbers: tuple[int, ...]


def test_pydantic_int_enum_literal_keys_tuples_and_extra() -> None:
    assert schema_to_type(Settings.model_json_schema(), "Settings") == (
        "interface Settings {\n"
        "  priority: Priority;\n"
        '  by_name: Partial<Record<"a" | "b", number>>;\n'
        "  by_units: Partial<Record<Units, number>>;\n"
        "  anything: Record<string, unknown>;\n"
        "  pair: [number, string];\n"
        "  numbers: number[];\n"
        "  [key: string]: unknown;\n"
        "}\n"
        "\n"
        "type Priority = 1 | 2;\n"
        "\n"
        "/** Unit system. */\n"
        'type Units = "metric" | "imperial";\n'
    )


class NoArguments(BaseModel):
    pass


def test_tool_without_input_properties_takes_an_empty_record() -> None:
    stubs = render_tool_stubs([tool("ping", NoArguments.model_json_schema())])
    assert stubs == (
        "type PingInput = Record<string, never>;\n"
        "\n"
        "declare function external_ping(input: PingInput): Promise<unknown>;\n"
    )


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_name", "expected"),
    [
        ("fetch_weather", "FetchWeatherInput"),
        ("fetchWeather", "FetchWeatherInput"),
        ("FetchWeather", "FetchWeatherInput"),
        ("fetch-weather.v2", "FetchWeatherV2Input"),
        ("FETCH_WEATHER", "FetchWeatherInput"),
        ("3d_render", "T3dRenderInput"),
        ("météo", "MétéoInput"),
        ("__", "ToolInput"),
    ],
)
def test_type_names_are_pascal_case_of_tool_name(tool_name: str, expected: str) -> None:
    stubs = render_tool_stubs([ToolSignature("external_x", tool_name, "", {}, None)])
    assert stubs.splitlines()[0] == f"type {expected} = unknown;"


def test_output_type_name_and_unknown_output() -> None:
    stubs = render_tool_stubs(
        [tool("a", {"type": "string"}, {"type": "number"}), tool("b", {"type": "string"})]
    )
    assert stubs.splitlines()[-3:] == [
        "declare function external_a(input: AInput): Promise<AOutput>;",
        "",
        "declare function external_b(input: BInput): Promise<unknown>;",
    ]
    assert "type AOutput = number;" in stubs
    assert "BOutput" not in stubs


def test_definition_keys_that_are_not_identifiers_are_pascal_cased() -> None:
    schema = {
        "$defs": {"my-item": {"type": "string"}, "string": {"type": "number"}},
        "type": "array",
        "prefixItems": [{"$ref": "#/$defs/my-item"}, {"$ref": "#/$defs/string"}],
    }
    # "string" is an identifier but a keyword; its PascalCase is a global type, so suffixed.
    assert schema_to_type(schema, "T") == (
        "type T = [MyItem, String2];\n\ntype MyItem = string;\n\ntype String2 = number;\n"
    )


@pytest.mark.parametrize("key", ["Record", "Error", "Promise", "Date"])
def test_definitions_never_shadow_global_types(key: str) -> None:
    schema = {"$defs": {key: {"type": "string"}}, "$ref": f"#/$defs/{key}"}
    assert schema_to_type(schema, "T") == f"type T = {key}2;\n\ntype {key}2 = string;\n"


def test_identical_definitions_across_tools_are_declared_once() -> None:
    stubs = render_tool_stubs(
        [
            tool("first", FetchWeatherArgs.model_json_schema()),
            tool("second", TypeAdapter(list[Location]).json_schema()),
        ]
    )
    assert stubs.count("interface Location {") == 1
    assert "type SecondInput = Location[];" in stubs


def test_different_definitions_with_one_name_get_distinct_names() -> None:
    first = {"$defs": {"Item": {"type": "string"}}, "$ref": "#/$defs/Item"}
    second = {"$defs": {"Item": {"type": "number"}}, "items": {"$ref": "#/$defs/Item"}}
    third = {"$defs": {"Item": {"type": "string"}}, "$ref": "#/$defs/Item"}
    stubs = render_tool_stubs([tool("one", first), tool("two", second), tool("three", third)])
    assert stubs.split("\n\ndeclare")[0] == (
        "type OneInput = Item;\n"
        "\n"
        "type Item = string;\n"
        "\n"
        "type TwoInput = Item2[];\n"
        "\n"
        "type Item2 = number;\n"
        "\n"
        "type ThreeInput = Item;"
    )


def test_same_definition_text_referencing_different_schemas_is_not_shared() -> None:
    # Outer has the same text in both tools, but its Inner differs: it is another type.
    def schema(inner: str) -> dict[str, Any]:
        return {
            "$defs": {
                "Outer": {"type": "array", "items": {"$ref": "#/$defs/Inner"}},
                "Inner": {"type": inner},
            },
            "$ref": "#/$defs/Outer",
        }

    stubs = render_tool_stubs([tool("a", schema("string")), tool("b", schema("boolean"))])
    assert stubs.split("\n\ndeclare")[0] == (
        "type AInput = Outer;\n"
        "\n"
        "type Outer = Inner[];\n"
        "\n"
        "type Inner = string;\n"
        "\n"
        "type BInput = Outer2;\n"
        "\n"
        "type Outer2 = Inner2[];\n"
        "\n"
        "type Inner2 = boolean;"
    )


def test_definition_named_like_a_tool_type_yields_to_it() -> None:
    schema = {"$defs": {"BInput": {"type": "string"}}, "$ref": "#/$defs/BInput"}
    stubs = render_tool_stubs([tool("a", schema), tool("b", {"type": "number"})])
    assert stubs.split("\n\ndeclare")[0] == (
        "type AInput = BInput2;\n\ntype BInput2 = string;\n\ntype BInput = number;"
    )


def test_colliding_tool_type_names_are_suffixed() -> None:
    stubs = render_tool_stubs([tool("get_item", {}), tool("getItem", {})])
    assert stubs.splitlines()[-1] == (
        "declare function external_getItem(input: GetItemInput2): Promise<unknown>;"
    )


def test_only_referenced_definitions_are_declared() -> None:
    schema = {
        "$defs": {"Used": {"type": "string"}, "Unused": {"type": "number"}},
        "$ref": "#/$defs/Used",
    }
    assert schema_to_type(schema, "T") == "type T = Used;\n\ntype Used = string;\n"


@pytest.mark.parametrize("name", ["not-valid", "1abc", "string", "Record", ""])
def test_schema_to_type_rejects_unusable_names(name: str) -> None:
    with pytest.raises(ConfigError, match="cannot name a TypeScript type"):
        schema_to_type({}, name)


@pytest.mark.parametrize("function_name", ["external-x", "1x", "delete", ""])
def test_function_names_must_be_identifiers(function_name: str) -> None:
    with pytest.raises(ToolDefinitionError, match="cannot name a JavaScript function"):
        render_tool_stubs([ToolSignature(function_name, "x", "", {}, None)])


def test_function_names_must_be_unique() -> None:
    with pytest.raises(ToolDefinitionError, match="external_x"):
        render_tool_stubs([tool("x", {}), tool("x", {})])


def test_no_tools_render_nothing() -> None:
    assert render_tool_stubs([]) == ""


def test_rendering_is_deterministic_and_keeps_tool_order() -> None:
    tools = [
        tool("zeta", Weather.model_json_schema()),
        tool("alpha", FetchWeatherArgs.model_json_schema()),
    ]
    first = render_tool_stubs(tools)
    assert first == render_tool_stubs(list(tools))
    declared = [line for line in first.splitlines() if line.startswith("declare")]
    assert declared == [
        "declare function external_zeta(input: ZetaInput): Promise<unknown>;",
        "declare function external_alpha(input: AlphaInput): Promise<unknown>;",
    ]


# --- type keyword --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("json_type", "expected"),
    [
        ("string", "string"),
        ("number", "number"),
        ("integer", "number"),
        ("boolean", "boolean"),
        ("null", "null"),
        ("array", "unknown[]"),
        ("object", "Record<string, unknown>"),
        ("future-type", "unknown"),
    ],
)
def test_single_types(json_type: str, expected: str) -> None:
    assert alias({"type": json_type}) == expected


def test_type_list_is_a_union() -> None:
    assert alias({"type": ["string", "null"]}) == "string | null"
    assert alias({"type": ["integer", "number"]}) == "number"


def test_type_list_applies_object_and_array_keywords() -> None:
    schema = {"type": ["array", "null"], "items": {"type": "string"}}
    assert alias(schema) == "string[] | null"


@pytest.mark.parametrize("schema", [{}, True, {"title": "Anything"}])
def test_missing_type_is_unknown(schema: Any) -> None:
    assert prop(schema) == "unknown"


def test_false_schema_is_never() -> None:
    assert prop(False) == "never"


# --- objects -------------------------------------------------------------------------------


def test_object_is_an_interface_with_optional_properties() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "number"}},
        "required": ["a"],
    }
    assert schema_to_type(schema, "Pair") == ("interface Pair {\n  a: string;\n  b?: number;\n}\n")


def test_properties_without_type_make_an_object() -> None:
    assert schema_to_type({"properties": {"a": {}}}, "T") == "interface T {\n  a?: unknown;\n}\n"


def test_nested_objects_are_indented_literals() -> None:
    schema = {
        "type": "object",
        "properties": {
            "outer": {
                "type": "object",
                "description": "Outer.",
                "properties": {
                    "inner": {
                        "type": "object",
                        "properties": {"leaf": {"type": "boolean", "description": "Leaf."}},
                        "required": ["leaf"],
                    },
                },
            },
        },
        "required": ["outer"],
    }
    assert schema_to_type(schema, "T") == (
        "interface T {\n"
        "  /** Outer. */\n"
        "  outer: {\n"
        "    inner?: {\n"
        "      /** Leaf. */\n"
        "      leaf: boolean;\n"
        "    };\n"
        "  };\n"
        "}\n"
    )


def test_property_names_that_are_not_identifiers_are_quoted() -> None:
    names = ["plain", "$dollar", "_under", "with-dash", "with space", "1st", 'q"uote', "", "café"]
    schema = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
    assert schema_to_type(schema, "T").splitlines()[1:-1] == [
        "  plain?: string;",
        "  $dollar?: string;",
        "  _under?: string;",
        '  "with-dash"?: string;',
        '  "with space"?: string;',
        '  "1st"?: string;',
        '  "q\\"uote"?: string;',
        '  ""?: string;',
        "  café?: string;",
    ]


def test_additional_properties_schema_alone_is_a_record() -> None:
    assert alias({"type": "object", "additionalProperties": {"type": "integer"}}) == (
        "Record<string, number>"
    )
    assert alias({"type": "object", "additionalProperties": True}) == "Record<string, unknown>"


def test_additional_properties_with_properties_is_an_index_signature() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
        "required": ["name"],
        "additionalProperties": {"type": "boolean"},
    }
    # Widened so that every property fits it, as TypeScript requires.
    assert schema_to_type(schema, "T").splitlines()[-2] == (
        "  [key: string]: boolean | string | number | undefined;"
    )


def test_additional_properties_true_with_properties_is_unknown_index() -> None:
    schema = {"properties": {"a": {"type": "string"}}, "additionalProperties": True}
    assert schema_to_type(schema, "T").splitlines()[-2] == "  [key: string]: unknown;"


def test_additional_properties_false_adds_nothing() -> None:
    schema = {"properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert schema_to_type(schema, "T") == "interface T {\n  a?: string;\n}\n"


def test_empty_objects_are_empty_records() -> None:
    assert alias({"type": "object", "properties": {}}) == "Record<string, never>"
    assert alias({"type": "object", "additionalProperties": False}) == "Record<string, never>"


def test_pattern_properties_are_index_values() -> None:
    schema = {"type": "object", "patternProperties": {"^x-": {"type": "string"}}}
    assert alias(schema) == "Record<string, string>"


def test_property_names_that_are_not_a_string_enum_are_ignored() -> None:
    schema = {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "propertyNames": {"pattern": "^[a-z]+$"},
    }
    assert alias(schema) == "Record<string, number>"


def test_nested_object_in_additional_properties_is_indented() -> None:
    schema = {
        "type": "object",
        "additionalProperties": {"type": "object", "properties": {"a": {"type": "string"}}},
    }
    assert alias(schema) == "Record<string, {\n  a?: string;\n}>"


# --- arrays --------------------------------------------------------------------------------


def test_array_items() -> None:
    assert prop({"type": "array", "items": {"type": "string"}}) == "string[]"
    assert prop({"items": {"type": "number"}}) == "number[]"
    nested = {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
    assert prop(nested) == "number[][]"


def test_array_without_items_is_unknown_array() -> None:
    assert prop({"type": "array"}) == "unknown[]"
    assert prop({"type": "array", "items": True}) == "unknown[]"


def test_array_of_union_or_intersection_is_parenthesized() -> None:
    union = {"type": "array", "items": {"type": ["string", "number"]}}
    assert prop(union) == "(string | number)[]"
    both = {"$defs": {"A": {}, "B": {}}}
    intersection = {
        "type": "array",
        "items": {"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]},
    }
    assert alias({**both, **intersection}).split(";")[0] == "(A & B)[]"


def test_array_of_nested_object() -> None:
    schema = {"type": "array", "items": {"properties": {"a": {"type": "string"}}}}
    assert prop(schema) == "{\n    a?: string;\n  }[]"


def test_prefix_items_are_a_tuple() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "string"}, {"type": ["number", "null"]}]}
    assert prop(schema) == "[string, number | null]"


def test_prefix_items_with_items_have_a_rest_element() -> None:
    schema = {
        "type": "array",
        "prefixItems": [{"type": "string"}],
        "items": {"anyOf": [{"type": "number"}, {"type": "boolean"}]},
    }
    assert prop(schema) == "[string, ...(number | boolean)[]]"


def test_prefix_items_with_items_false_are_closed() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "string"}], "items": False}
    assert prop(schema) == "[string]"
    assert prop({"type": "array", "items": False}) == "[]"


def test_draft7_items_list_is_a_tuple() -> None:
    schema = {
        "type": "array",
        "items": [{"type": "string"}],
        "additionalItems": {"type": "integer"},
    }
    assert prop(schema) == "[string, ...number[]]"


# --- literals ------------------------------------------------------------------------------


def test_enum_is_a_union_of_literals() -> None:
    schema = {"enum": ["a", 1, 2.5, -3, True, False, None]}
    assert alias(schema) == '"a" | 1 | 2.5 | -3 | true | false | null'


def test_enum_strings_are_escaped() -> None:
    schema = {"enum": ['say "hi"', "back\\slash", "line\nbreak", "tab\t", "ünï"]}
    assert alias(schema) == ('"say \\"hi\\"" | "back\\\\slash" | "line\\nbreak" | "tab\\t" | "ünï"')


def test_enum_overrides_type_and_deduplicates() -> None:
    assert alias({"type": "string", "enum": ["x", "y", "x"]}) == '"x" | "y"'


def test_empty_enum_is_never() -> None:
    assert alias({"enum": []}) == "never"


def test_const_is_a_literal() -> None:
    assert alias({"const": "fixed"}) == '"fixed"'
    assert alias({"const": 0}) == "0"
    assert alias({"const": None}) == "null"
    assert alias({"const": {"kind": "point", "at": [1, 2]}}) == '{"kind": "point", "at": [1, 2]}'


def test_non_finite_number_literal_is_number() -> None:
    assert alias({"enum": [float("nan"), 1]}) == "number | 1"


# --- combinators ---------------------------------------------------------------------------


def test_any_of_and_one_of_are_unions() -> None:
    assert alias({"anyOf": [{"type": "string"}, {"type": "number"}]}) == "string | number"
    assert alias({"oneOf": [{"const": "a"}, {"const": "b"}]}) == '"a" | "b"'


def test_unions_deduplicate_and_flatten() -> None:
    schema = {
        "anyOf": [
            {"type": "string"},
            {"type": "string", "maxLength": 3},
            {"anyOf": [{"type": "null"}, {"type": "string"}]},
        ]
    }
    assert alias(schema) == "string | null"


def test_union_with_unknown_is_unknown() -> None:
    assert alias({"anyOf": [{"type": "string"}, {}]}) == "unknown"


def test_nullable_any_of() -> None:
    schema = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    assert alias(schema) == "string[] | null"


def test_all_of_is_an_intersection() -> None:
    schema = {
        "$defs": {"A": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "number"}}}],
    }
    assert schema_to_type(schema, "T") == (
        "type T = A & {\n  b?: number;\n};\n\ninterface A {\n  a?: string;\n}\n"
    )


def test_all_of_single_member_is_that_member() -> None:
    # Older pydantic wraps a described $ref this way.
    schema = {
        "$defs": {"A": {"type": "string"}},
        "type": "object",
        "properties": {"a": {"allOf": [{"$ref": "#/$defs/A"}], "description": "An A."}},
        "required": ["a"],
    }
    assert schema_to_type(schema, "T").splitlines()[1:3] == ["  /** An A. */", "  a: A;"]


def test_union_inside_intersection_is_parenthesized() -> None:
    schema = {
        "allOf": [
            {"anyOf": [{"type": "string"}, {"type": "number"}]},
            {"anyOf": [{"const": 1}, {"const": "a"}]},
        ]
    }
    assert alias(schema) == '(string | number) & (1 | "a")'


def test_intersection_inside_union_is_parenthesized() -> None:
    schema = {
        "$defs": {"A": {}, "B": {}},
        "anyOf": [{"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]}, {"type": "null"}],
    }
    assert schema_to_type(schema, "T").splitlines()[0] == "type T = (A & B) | null;"


def test_bare_type_next_to_combinator_is_dropped() -> None:
    schema = {"type": "object", "oneOf": [{"$ref": "#/$defs/A"}], "$defs": {"A": {}}}
    assert schema_to_type(schema, "T").splitlines()[0] == "type T = A;"


def test_bare_type_kept_when_combinator_says_nothing() -> None:
    schema = {"type": "string", "anyOf": [{"format": "email"}, {"format": "uri"}]}
    assert schema_to_type(schema, "T").splitlines()[-1] == "type T = string;"


def test_openapi_nullable() -> None:
    assert alias({"type": "string", "nullable": True}) == "string | null"


# --- references ----------------------------------------------------------------------------


def test_ref_to_definitions_and_defs() -> None:
    schema = {
        "definitions": {"Old": {"type": "string"}},
        "$defs": {"New": {"type": "number"}},
        "prefixItems": [{"$ref": "#/definitions/Old"}, {"$ref": "#/$defs/New"}],
    }
    assert schema_to_type(schema, "T") == (
        "type T = [Old, New];\n\ntype Old = string;\n\ntype New = number;\n"
    )


def test_ref_pointer_escapes_are_decoded() -> None:
    schema = {
        "$defs": {"a/b": {"type": "string"}, "c d": {"type": "number"}},
        "prefixItems": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/c%20d"}],
    }
    assert schema_to_type(schema, "T").splitlines()[0] == "type T = [AB, CD];"


def test_recursive_definitions() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                "required": ["next"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert schema_to_type(schema, "List") == (
        "type List = Node;\n\ninterface Node {\n  next: Node | null;\n}\n"
    )


def test_ref_to_root_is_the_declared_name() -> None:
    schema = {"type": "object", "properties": {"children": {"items": {"$ref": "#"}}}}
    assert schema_to_type(schema, "Tree") == "interface Tree {\n  children?: Tree[];\n}\n"


@pytest.mark.parametrize(
    "ref",
    [
        "#/$defs/Missing",
        "#/definitions/Missing",
        "other.json#/$defs/A",
        "https://example.com/schema",
        "#/properties/a",
        "#/$defs/A/properties/a",
    ],
)
def test_unresolvable_ref_is_unknown(ref: str) -> None:
    schema = {"$defs": {"A": {"properties": {"a": {"type": "string"}}}}, "$ref": ref}
    assert schema_to_type(schema, "T") == "type T = unknown;\n"


def test_ref_with_description_sibling_documents_the_property() -> None:
    schema = {
        "$defs": {"A": {"type": "string"}},
        "properties": {"a": {"$ref": "#/$defs/A", "description": "The A.", "default": "x"}},
    }
    assert schema_to_type(schema, "T").splitlines()[1:6] == [
        "  /**",
        "   * The A.",
        '   * @default "x"',
        "   */",
        "  a?: A;",
    ]


# --- documentation -------------------------------------------------------------------------


def test_interface_and_alias_descriptions() -> None:
    assert schema_to_type({"properties": {"a": {}}, "description": "Doc."}, "T") == (
        "/** Doc. */\ninterface T {\n  a?: unknown;\n}\n"
    )
    assert schema_to_type({"type": "string", "description": "Doc."}, "T") == (
        "/** Doc. */\ntype T = string;\n"
    )


def test_function_description() -> None:
    stubs = render_tool_stubs([tool("x", {}, description="  Does x.\n\n  Then y.  ")])
    assert stubs.split("\n\n", 1)[1] == (
        "/**\n"
        " * Does x.\n"
        " *\n"
        " * Then y.\n"
        " */\n"
        "declare function external_x(input: XInput): Promise<unknown>;\n"
    )


def test_comment_terminators_are_escaped() -> None:
    schema = {
        "description": "Ends */ here",
        "properties": {"a": {"description": "no */ way", "default": "*/"}},
    }
    assert schema_to_type(schema, "T") == (
        "/** Ends *\\/ here */\n"
        "interface T {\n"
        "  /**\n"
        "   * no *\\/ way\n"
        '   * @default "*\\/"\n'
        "   */\n"
        "  a?: unknown;\n"
        "}\n"
    )


def test_blank_description_adds_no_comment() -> None:
    assert schema_to_type({"type": "string", "description": "  \n "}, "T") == "type T = string;\n"


def test_default_values_are_json() -> None:
    schema = {
        "properties": {
            "a": {"default": {"k": [1, None, True]}},
            "b": {"default": "é"},
            "c": {"default": None},
        }
    }
    assert [line for line in schema_to_type(schema, "T").splitlines() if "@" in line] == [
        '  /** @default {"k": [1, null, true]} */',
        '  /** @default "é" */',
        "  /** @default null */",
    ]


def test_format_is_documented() -> None:
    schema = {
        "properties": {
            "email": {"type": "string", "format": "email"},
            "when": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
        }
    }
    assert schema_to_type(schema, "T").splitlines()[1:5] == [
        "  /** @format email */",
        "  email?: string;",
        "  /** @format date */",
        "  when?: string | null;",
    ]


def test_definition_format_is_documented() -> None:
    schema = {"$defs": {"Id": {"type": "string", "format": "uuid"}}, "$ref": "#/$defs/Id"}
    assert schema_to_type(schema, "T") == "type T = Id;\n\n/** @format uuid */\ntype Id = string;\n"
