"""A small shop on SQLite, with tools over it: what ``codemode serve`` shows, and an example
of writing real tools.

>>> from codemode.demo import demo_tools, ensure_database
>>> import tempfile, pathlib
>>> tools = demo_tools(ensure_database(pathlib.Path(tempfile.mkdtemp()) / "shop.sqlite3"))
>>> [t.name for t in tools]
['list_tables', 'describe_table', 'query_table', 'top_n']
"""

from __future__ import annotations

from codemode.demo._data import SCHEMA_VERSION, ensure_database
from codemode.demo._tools import demo_tools

__all__ = ["SCHEMA_VERSION", "demo_tools", "ensure_database"]
