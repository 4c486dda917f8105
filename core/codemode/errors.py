"""The one exception tree of codemode, split by who is at fault.

Python exceptions are for mistakes of the host (your config, your tool definitions, your
environment). Failures of the model's program are *reported*, not raised: they come back as
``ExecutionResult.error`` whose ``name`` is one of the ``ErrorName`` strings below, so the
model can read them and fix its code on the next try.

::

    CodeModeError                      base of everything codemode raises
    ├── ConfigError (ValueError)       a config file, option or argument is wrong
    │   └── PluginNotFoundError        no plugin of that name; says what to pip install
    ├── ToolDefinitionError (TypeError) a tool cannot be built from what you gave
    │   └── SecretParameterError       a parameter looks like a secret (on_secret_parameter="throw")
    ├── DriverUnavailableError         an engine cannot load on this machine
    ├── ToolError                      a tool call failed on the host
    │   ├── ToolInputError             the input failed the tool's input schema
    │   └── ToolOutputError            the output failed the tool's output schema
    └── ProgramError                   raised only by helpers that turn a failed result into
                                       an exception (``CodeMode.run(..., raise_on_error=True)``)

Program failure names (``ErrorName``): ``SyntaxError``, the JS error's own name,
``ToolInputError``, ``ToolOutputError``, ``TimeoutError``, ``MemoryLimitError``,
``StackOverflowError``, ``ToolCallLimitError``, ``OutputLimitError``, ``SerializationError``
and, for the Cloudflare driver, ``WorkerUnavailableError``, ``WorkerAuthError``,
``WorkerProtocolError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from codemode.isolate import NormalizedError


class CodeModeError(Exception):
    """Base class of every exception codemode raises."""


class ConfigError(CodeModeError, ValueError):
    """A config file, option or argument is wrong; the message names where and why."""


class PluginNotFoundError(ConfigError, LookupError):
    """No plugin of that name is installed; the message lists installed names and the fix."""


class ToolDefinitionError(CodeModeError, TypeError):
    """A tool cannot be built from the function or schemas given."""


class SecretParameterError(ToolDefinitionError):
    """A tool parameter looks like a secret and ``on_secret_parameter="throw"`` is set."""


class DriverUnavailableError(CodeModeError):
    """An isolate engine cannot load on this machine (for example a failed probe)."""


class ToolError(CodeModeError):
    """A tool call failed on the host; ``name`` is what the sandbox sees as ``error.name``."""

    name: str = "Error"


class ToolInputError(ToolError):
    """A tool's input failed validation; the message names the tool and the field."""

    name = "ToolInputError"


class ToolOutputError(ToolError):
    """A tool's output failed validation; the message names the tool and the field."""

    name = "ToolOutputError"


class ProgramError(CodeModeError):
    """The model's program failed; carries the normalized error the sandbox reported."""

    def __init__(self, error: NormalizedError) -> None:
        where = f" (line {error.line})" if error.line is not None else ""
        super().__init__(f"{error.name}: {error.message}{where}")
        self.error = error


class SecretParameterWarning(UserWarning):
    """A tool parameter looks like a secret (``on_secret_parameter="warn"``, the default)."""


class ErrorName:
    """The ``error.name`` strings a program failure can carry, besides JS's own error names."""

    SYNTAX: Final = "SyntaxError"
    TOOL_INPUT: Final = "ToolInputError"
    TOOL_OUTPUT: Final = "ToolOutputError"
    TIMEOUT: Final = "TimeoutError"
    MEMORY_LIMIT: Final = "MemoryLimitError"
    STACK_OVERFLOW: Final = "StackOverflowError"
    TOOL_CALL_LIMIT: Final = "ToolCallLimitError"
    OUTPUT_LIMIT: Final = "OutputLimitError"
    SERIALIZATION: Final = "SerializationError"
    WORKER_UNAVAILABLE: Final = "WorkerUnavailableError"
    WORKER_AUTH: Final = "WorkerAuthError"
    WORKER_PROTOCOL: Final = "WorkerProtocolError"
