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
    ├── ContextError (RuntimeError)    a context used against its life cycle: a second program,
    │                                  or after dispose (or disposed while its program ran)
    ├── MissingExtraError (ImportError) an optional part is not installed; says what to pip install
    └── ToolError                      a tool call failed on the host
        ├── ToolInputError             the input failed the tool's input schema
        └── ToolOutputError            the output failed the tool's output schema

Program failure names (``ErrorName``): ``SyntaxError``, the JS error's own name,
``ToolInputError``, ``ToolOutputError``, ``TimeoutError``, ``MemoryLimitError``,
``StackOverflowError``, ``ToolCallLimitError``, ``OutputLimitError``, ``SerializationError``,
``DriverError`` (the driver itself failed: a bug, a lost engine, a broken protocol message),
for the Cloudflare driver ``WorkerUnavailableError``, ``WorkerAuthError``,
``WorkerProtocolError``, and for process isolation ``WorkerCrashedError``.
"""

from __future__ import annotations

from typing import Final


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


class MissingExtraError(CodeModeError, ImportError):
    """An optional part of codemode needs a package that is not installed.

    The message names the ``pip install "codemode[<extra>]"`` that adds it; ``name`` is the
    missing module (as on any ``ImportError``) and ``extra`` the extra that provides it.
    """

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"codemode[{extra}] needs {module}, which is not installed:"
            f' pip install "codemode[{extra}]"',
            name=module,
        )
        self.extra = extra


class ContextError(CodeModeError, RuntimeError):
    """An isolate context or driver was used against its life cycle: a context runs one
    program, and nothing runs after ``dispose`` (or a driver's ``aclose``)."""


class ToolError(CodeModeError):
    """A tool call failed on the host; ``name`` is what the sandbox sees as ``error.name``."""

    name: str = "Error"


class ToolInputError(ToolError):
    """A tool's input failed validation; the message names the tool and the field."""

    name = "ToolInputError"


class ToolOutputError(ToolError):
    """A tool's output failed validation; the message names the tool and the field."""

    name = "ToolOutputError"


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
    WORKER_CRASHED: Final = "WorkerCrashedError"
    DRIVER: Final = "DriverError"
