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
    ├── ModelError                     the model provider failed; ``status`` is its HTTP status
    │   ├── ModelAuthError             the provider refused the credentials (401, 403)
    │   ├── ModelRateLimitError        too many requests (429)
    │   ├── ModelTimeoutError          no answer in time
    │   └── ModelUnavailableError      cannot connect, or the provider failed (5xx)
    ├── SkillError                     a skill cannot be stored or loaded
    │   ├── SkillNameError (ValueError) a skill name that is not a safe snake_case identifier
    │   └── SkillStorageError (OSError) the storage cannot be read or written
    │       └── CorruptSkillError      a stored file is not what it should be; names the file
    └── ToolError                      a tool call failed on the host
        ├── ToolInputError             the input failed the tool's input schema
        ├── ToolOutputError            the output failed the tool's output schema
        └── SkillRunError              a skill could not run or failed (the sandbox sees the
            │                          subclass's name: SkillFailedError, SkillCycleError, ...)
            ├── SkillFailedError       the skill's own program failed
            ├── SkillCycleError        a skill called itself, directly or through others
            ├── SkillDepthError        skills called skills deeper than the limit
            ├── SkillPermissionError   the skill's trust level does not allow this tool
            └── SkillApprovalError     the approve callback refused an untrusted skill's run

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


class ModelError(CodeModeError):
    """A model provider failed. ``status`` is the HTTP status if there was one, ``provider``
    and ``model`` say which; the message carries the provider's own words."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.provider = provider
        self.model = model


class ModelAuthError(ModelError):
    """The provider refused the credentials (HTTP 401 or 403): check the API key."""


class ModelRateLimitError(ModelError):
    """The provider is rate-limiting (HTTP 429): wait, or lower the request rate."""


class ModelTimeoutError(ModelError):
    """The provider did not answer in time."""


class ModelUnavailableError(ModelError):
    """The provider cannot be reached, or failed on its side (HTTP 5xx)."""


class SkillError(CodeModeError):
    """A skill cannot be stored, loaded or named as given."""


class SkillNameError(SkillError, ValueError):
    """A skill name that is not a safe snake_case identifier (the message says which rule)."""


class SkillStorageError(SkillError, OSError):
    """A skill storage cannot read or write what it needs (for example a read-only folder)."""


class CorruptSkillError(SkillStorageError):
    """A stored skill file cannot be read back; ``path`` is the file, the message says why.

    Only that skill is affected: the others stay usable, and a broken ``_index.json`` can be
    rebuilt from the skill folders (``codemode skills reindex``).
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SkillRunError(ToolError):
    """A skill could not run, or ran and failed; what a program calling it sees."""

    name = "SkillError"


class SkillFailedError(SkillRunError):
    """The skill's program failed (threw, timed out, ...); the message carries its error."""

    name = "SkillFailedError"


class SkillCycleError(SkillRunError):
    """A skill called itself, directly or through other skills; the message names the cycle."""

    name = "SkillCycleError"


class SkillDepthError(SkillRunError):
    """Skills called skills more deeply than ``SkillsConfig.max_depth`` allows."""

    name = "SkillDepthError"


class SkillPermissionError(SkillRunError):
    """The skill's trust level does not allow what it tried (a tool with side effects)."""

    name = "SkillPermissionError"


class SkillApprovalError(SkillRunError):
    """``SkillsConfig.approve`` refused (or failed on) an untrusted skill's first run."""

    name = "SkillApprovalError"


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
