"""The demo shop: a deterministic database and read-only tools over it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from codemode.demo import SCHEMA_VERSION, demo_tools, ensure_database
from codemode.demo._tools import _read_only
from codemode.errors import ToolInputError
from codemode.tools import Tool


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_database(tmp_path_factory.mktemp("shop") / "shop.sqlite3")


@pytest.fixture(scope="module")
def tools(database: Path) -> dict[str, Tool]:
    return {t.name: t for t in demo_tools(database)}


async def call(tools: dict[str, Tool], name: str, **args: Any) -> Any:
    return await tools[name].execute(args)


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def test_the_data_is_the_same_on_every_machine(database: Path, tmp_path: Path) -> None:
    again = ensure_database(tmp_path / "again.sqlite3")
    assert dump(again) == dump(database)
    with sqlite3.connect(database) as connection:
        counts = {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("customers", "products", "orders", "order_items")
        }
    assert counts["customers"] == 240
    assert counts["products"] == 60
    assert counts["orders"] == 1500
    assert 3000 < counts["order_items"] < 4500


def test_a_current_database_is_left_alone_and_an_old_one_rebuilt(tmp_path: Path) -> None:
    path = ensure_database(tmp_path / "shop.sqlite3")
    before = path.stat().st_mtime_ns
    assert ensure_database(path) == path
    assert path.stat().st_mtime_ns == before
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM customers")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    ensure_database(path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchone()[0] == 240
    assert [p.name for p in tmp_path.iterdir()] == ["shop.sqlite3"]  # no temporary left


def test_a_file_that_is_not_a_database_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    path.write_text("not a database")
    ensure_database(path)
    assert len(dump(path)) > 1000


def test_the_connection_refuses_writes(database: Path) -> None:
    with _read_only(database) as connection, pytest.raises(sqlite3.OperationalError):
        connection.execute("DELETE FROM customers")


async def test_list_and_describe(tools: dict[str, Tool]) -> None:
    tables = await call(tools, "list_tables")
    assert [t["name"] for t in tables] == ["customers", "products", "orders", "order_items"]
    described = await call(tools, "describe_table", table="orders")
    columns = {c["name"]: c for c in described["columns"]}
    assert columns["id"]["primary_key"] is True
    assert columns["customer_id"]["references"] == "customers.id"
    assert len(described["sample"]) == 3
    assert described["rows"] == 1500


async def test_query_table_filters_sorts_and_pages(tools: dict[str, Tool]) -> None:
    found = await call(
        tools,
        "query_table",
        table="products",
        filters=[
            {"column": "category", "value": "books"},
            {"column": "price", "op": ">", "value": 50},
        ],
        columns=["name", "price"],
        order_by=[{"column": "price", "descending": True}],
        limit=3,
    )
    prices = [row["price"] for row in found["rows"]]
    assert prices == sorted(prices, reverse=True)
    assert all(p > 50 for p in prices)
    assert set(found["rows"][0]) == {"name", "price"}
    assert found["total"] >= len(found["rows"])
    picked = await call(
        tools,
        "query_table",
        table="customers",
        filters=[{"column": "id", "op": "in", "value": [3, 1, 2]}],
    )
    assert sorted(row["id"] for row in picked["rows"]) == [1, 2, 3]
    none = await call(
        tools, "query_table", table="customers", filters=[{"column": "id", "op": "in", "value": []}]
    )
    assert none == {"rows": [], "total": 0}
    liked = await call(
        tools,
        "query_table",
        table="customers",
        filters=[{"column": "email", "op": "like", "value": "%.1@%"}],
    )
    assert [row["id"] for row in liked["rows"]] == [1]


async def test_top_n_ranks_groups(tools: dict[str, Tool], database: Path) -> None:
    by_country = await call(tools, "top_n", table="customers", group_by="country", n=3)
    with sqlite3.connect(database) as connection:
        expected = connection.execute(
            "SELECT country, count(*) FROM customers GROUP BY country ORDER BY 2 DESC, 1 LIMIT 3"
        ).fetchall()
    assert [(g["group"], g["value"]) for g in by_country] == [(c, float(n)) for c, n in expected]
    cheapest = await call(
        tools,
        "top_n",
        table="products",
        group_by="category",
        metric="min",
        column="price",
        ascending=True,
        n=1,
    )
    assert cheapest[0]["rows"] == 12


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "query_table",
            {"table": "customers", "columns": ["nme"]},
            "customers has no column 'nme'; its columns are: id, name,",
        ),
        (
            "query_table",
            {"table": "orders", "order_by": [{"column": "when"}]},
            "orders has no column 'when'",
        ),
        (
            "query_table",
            {"table": "orders", "filters": [{"column": "id", "value": [1, 2]}]},
            "a list value needs op 'in'",
        ),
        (
            "top_n",
            {"table": "orders", "group_by": "status", "metric": "sum"},
            "metric 'sum' needs a column",
        ),
        (
            "top_n",
            {"table": "orders", "group_by": 'status" FROM orders; --'},
            "orders has no column",
        ),
    ],
)
async def test_mistakes_name_what_to_use_instead(
    tools: dict[str, Tool], name: str, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ToolInputError, match=message.replace("(", r"\(")):
        await call(tools, name, **args)


async def test_schemas_bound_what_a_program_can_ask_for(tools: dict[str, Tool]) -> None:
    with pytest.raises(ToolInputError, match="table"):
        await call(tools, "query_table", table="sqlite_master")
    with pytest.raises(ToolInputError, match="limit"):
        await call(tools, "query_table", table="orders", limit=100_000)
