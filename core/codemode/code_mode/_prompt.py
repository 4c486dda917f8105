"""The system prompt that teaches the model to write code-mode programs for these tools."""

from __future__ import annotations

from codemode.code_mode._registry import Entry, ToolRegistry
from codemode.typescript.stubs import ToolSignature, render_tool_stubs

_TEMPLATE = """\
## Code mode

You can run TypeScript with the `execute_typescript` tool. Prefer one program that does the \
whole task over many small steps: call the functions below, combine and filter their \
results in code, and `return` only what you need.

How a program runs:
- It is the body of an async function: use top-level `await`, and `return` a value. The \
returned value comes back to you as `result`; `console.log` lines come back as `logs`.
- Each function below is a global async function taking one object argument. Run \
independent calls concurrently with `await Promise.all([...])`.
- Only standard JavaScript built-ins and these functions exist: no `import` or `require`, \
no `fetch` or network, no file system, no `process`, no timers (`setTimeout`).
- Return plain JSON data (objects, arrays, strings, numbers, booleans, null), not \
functions, Maps, Sets, BigInts or cyclic objects. Keep results small: summarize, \
aggregate or slice large data inside the program.
- Limits per execution: {timeout} ms, {memory} MB of memory, {calls} function calls.
- If the program fails, the result has `success: false` and an `error` with `name`, \
`message` and the `line` of your code: fix the program and run it again.

Available functions:

```typescript
{stubs}
```
"""

_LAZY = """
More functions exist but are not described here. Before using any of them, call the \
`discover_tools` tool with their names to get their TypeScript declarations: {names}.
"""


def signature(entry: Entry) -> ToolSignature:
    tool = entry.tool
    return ToolSignature(
        function_name=entry.function_name,
        tool_name=tool.name,
        description=tool.description,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
    )


def render_prompt(
    registry: ToolRegistry, *, timeout: int, memory_limit: int, max_tool_calls: int
) -> str:
    """The prompt: rules, limits, declarations of eager tools, names of lazy ones."""
    entries = registry.entries()
    eager = [signature(entry) for entry in entries if not entry.tool.lazy]
    lazy = [entry.function_name for entry in entries if entry.tool.lazy]
    stubs = render_tool_stubs(eager).strip() if eager else "// (no functions are described here)"
    text = (
        _TEMPLATE.replace("{timeout}", str(timeout))
        .replace("{memory}", str(memory_limit))
        .replace("{calls}", str(max_tool_calls))
        .replace("{stubs}", stubs)
    )
    if lazy:
        text += _LAZY.replace("{names}", ", ".join(lazy))
    return text
