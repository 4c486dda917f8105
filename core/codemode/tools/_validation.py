"""Validators that check a tool's input before it runs and its output after.

Two kinds: pydantic (for tools built from type hints or pydantic models) and jsonschema
(for tools declared with plain JSON Schema dicts, which pydantic cannot validate). Both raise
``ToolInputError`` / ``ToolOutputError`` whose message names the tool and the field.
"""

from __future__ import annotations

from typing import Any, Protocol

import pydantic

from codemode._pydantic_errors import describe_validation_error, dotted_path, join_problems
from codemode.errors import ToolError, ToolOutputError


class Validator(Protocol):
    def validate(self, value: Any) -> Any:
        """Return the value to pass on, or raise the validator's ToolError."""


class PydanticValidator:
    """Validates with a pydantic TypeAdapter; ``dump`` gives JSON-mode output."""

    def __init__(
        self, adapter: pydantic.TypeAdapter[Any], tool: str, error: type[ToolError], root: str
    ) -> None:
        self._adapter = adapter
        self._tool = tool
        self._error = error
        self._root = root

    def validate(self, value: Any) -> Any:
        try:
            return self._adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            detail = describe_validation_error(
                exc, lambda loc: dotted_path(loc, self._root), unknown_key="unexpected field"
            )
            raise self._error(f"{self._tool}: {detail}") from None

    def dump(self, value: Any) -> Any:
        return self._adapter.dump_python(value, mode="json")


class OutputValidator:
    """Checks a result against the output type, then converts it to JSON-compatible data."""

    def __init__(self, adapter: pydantic.TypeAdapter[Any], tool: str) -> None:
        self._inner = PydanticValidator(adapter, tool, ToolOutputError, "output")

    def validate(self, value: Any) -> Any:
        return self._inner.dump(self._inner.validate(value))


class JsonSchemaValidator:
    """Validates plain data against a JSON Schema dict."""

    def __init__(
        self, schema: dict[str, Any], tool: str, error: type[ToolError], root: str
    ) -> None:
        # Imported here: most tools are typed functions, and jsonschema costs a fresh process
        # about 90 ms to import.
        import jsonschema

        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        self._validator = cls(schema)
        self._tool = tool
        self._error = error
        self._root = root

    def validate(self, value: Any) -> Any:
        errors = sorted(self._validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            problems = [
                f"{dotted_path(list(e.absolute_path), self._root)}: {e.message}" for e in errors
            ]
            raise self._error(f"{self._tool}: {join_problems(problems)}")
        return value


class PassThrough:
    def validate(self, value: Any) -> Any:
        return value
