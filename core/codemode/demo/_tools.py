"""The demo shop's tools: four ordinary codemode tools over a read-only SQLite connection.

They read as an example of real tools: typed parameters and pydantic models give the
program TypeScript declarations, every table and column name is checked against the
schema before it reaches SQL (values always travel as parameters), a mistake raises
``ToolInputError`` naming what to use instead, and results are bounded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from codemode.errors import ToolInputError
from codemode.tools import Tool, tool

Table = Literal["customers", "products", "orders", "order_items"]
Scalar = str | int | float | bool | None
MAX_ROWS = 1_000


class Column(BaseModel):
    name: str
    type: str
    primary_key: bool = False
    references: str | None = Field(None, description="`table.column` this column points at")


class TableSummary(BaseModel):
    name: str
    rows: int
    columns: list[str]


class TableInfo(BaseModel):
    name: str
    rows: int
    columns: list[Column]
    sample: list[dict[str, Any]] = Field(description="The first three rows")


class Filter(BaseModel):
    """One condition; all the filters of a query must hold."""

    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "like", "in"] = "="
    value: Scalar | list[Scalar] = Field(
        description="A list for `in`; a pattern with % and _ for `like`"
    )


class OrderBy(BaseModel):
    column: str
    descending: bool = False


class Rows(BaseModel):
    rows: list[dict[str, Any]]
    total: int = Field(description="How many rows match, regardless of limit and offset")


class Group(BaseModel):
    group: Scalar
    value: float | None
    rows: int = Field(description="How many rows fell in this group")


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    # mode=ro: SQLite itself refuses writes; query_only also refuses ATTACH-and-write tricks.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA query_only = ON")
        yield connection
    finally:
        connection.close()


class _Schema:
    """The tables' columns, read once from the database itself."""

    def __init__(self, path: Path) -> None:
        with _read_only(path) as connection:
            self.columns = {
                table: [
                    Column(
                        name=row["name"],
                        type=row["type"] or "ANY",
                        primary_key=bool(row["pk"]),
                        references=_reference(connection, table, row["name"]),
                    )
                    for row in connection.execute(f"PRAGMA table_info({table})")
                ]
                for table in Table.__args__  # type: ignore[attr-defined]  # Literal's members
            }

    def names(self, table: str) -> list[str]:
        return [column.name for column in self.columns[table]]

    def check(self, tool_name: str, table: str, column: str) -> str:
        if column not in self.names(table):
            raise ToolInputError(
                f"{tool_name}: {table} has no column {column!r}; its columns are:"
                f" {', '.join(self.names(table))}"
            )
        return f'"{column}"'


def _reference(connection: sqlite3.Connection, table: str, column: str) -> str | None:
    for row in connection.execute(f"PRAGMA foreign_key_list({table})"):
        if row["from"] == column:
            return f"{row['table']}.{row['to']}"
    return None


def _where(
    schema: _Schema, tool_name: str, table: str, filters: list[Filter]
) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for condition in filters:
        column = schema.check(tool_name, table, condition.column)
        if condition.op == "in":
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            if not values:
                clauses.append("0")
                continue
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        elif isinstance(condition.value, list):
            raise ToolInputError(
                f"{tool_name}: a list value needs op 'in', not {condition.op!r}"
                f" (filter on {condition.column})"
            )
        else:
            operator = "LIKE" if condition.op == "like" else condition.op
            clauses.append(f"{column} {operator} ?")
            params.append(condition.value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def demo_tools(path: Path) -> list[Tool]:
    """The demo tools over the database at ``path`` (made by ``ensure_database``)."""
    schema = _Schema(path)

    @tool
    def list_tables() -> list[TableSummary]:
        """The shop's tables, with their row counts and column names."""
        with _read_only(path) as connection:
            return [
                TableSummary(
                    name=table,
                    rows=connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
                    columns=schema.names(table),
                )
                for table in schema.columns
            ]

    @tool
    def describe_table(table: Table) -> TableInfo:
        """A table's columns (type, key, what they reference) and its first three rows."""
        with _read_only(path) as connection:
            rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            sample = connection.execute(f"SELECT * FROM {table} LIMIT 3").fetchall()
        return TableInfo(
            name=table, rows=rows, columns=schema.columns[table], sample=[dict(r) for r in sample]
        )

    @tool
    def query_table(
        table: Table,
        filters: list[Filter] | None = None,
        columns: list[str] | None = None,
        order_by: list[OrderBy] | None = None,
        limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] = 100,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> Rows:
        """Rows of a table where every filter holds, with the chosen columns (all by
        default), sorted by order_by, at most `limit` of them (1000 at most)."""
        where, params = _where(schema, "query_table", table, filters or [])
        picked = ", ".join(schema.check("query_table", table, c) for c in columns or []) or "*"
        order = ", ".join(
            schema.check("query_table", table, o.column) + (" DESC" if o.descending else "")
            for o in order_by or []
        )
        sql = f"SELECT {picked} FROM {table}{where}"
        if order:
            sql += f" ORDER BY {order}"
        with _read_only(path) as connection:
            total = connection.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()
            found = connection.execute(f"{sql} LIMIT ? OFFSET ?", [*params, limit, offset])
            return Rows(rows=[dict(row) for row in found], total=total[0])

    @tool
    def top_n(
        table: Table,
        group_by: str,
        metric: Literal["count", "sum", "avg", "min", "max"] = "count",
        column: str | None = None,
        n: Annotated[int, Field(ge=1, le=100)] = 10,
        filters: list[Filter] | None = None,
        ascending: bool = False,
    ) -> list[Group]:
        """The top `n` groups of rows sharing a `group_by` value, ranked by `metric` of
        `column` (`count` needs no column), largest first unless `ascending`."""
        group = schema.check("top_n", table, group_by)
        if metric == "count":
            measure = "count(*)"
        elif column is None:
            raise ToolInputError(f"top_n: metric {metric!r} needs a column to {metric}")
        else:
            measure = f"{metric}({schema.check('top_n', table, column)})"
        where, params = _where(schema, "top_n", table, filters or [])
        direction = "ASC" if ascending else "DESC"
        sql = (
            f"SELECT {group} AS g, {measure} AS v, count(*) AS n FROM {table}{where}"
            f" GROUP BY {group} ORDER BY v {direction}, g LIMIT ?"
        )
        with _read_only(path) as connection:
            found = connection.execute(sql, [*params, n]).fetchall()
        return [Group(group=row["g"], value=row["v"], rows=row["n"]) for row in found]

    return [list_tables, describe_table, query_table, top_n]
