"""The demo shop's data: customers, products, orders and order items, generated the same
way on every machine (a seeded ``random.Random``), written once to a SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import tempfile
from pathlib import Path

SCHEMA_VERSION = 1
"""Bump when the tables or the generator change: an older file is then rebuilt."""

SEED = 20261201
CUSTOMERS = 240
PRODUCTS = 60
ORDERS = 1_500

_SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    city TEXT NOT NULL,
    segment TEXT NOT NULL,
    signed_up TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price REAL NOT NULL,
    stock INTEGER NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    ordered_at TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price REAL NOT NULL
);
CREATE INDEX orders_by_customer ON orders(customer_id);
CREATE INDEX items_by_order ON order_items(order_id);
CREATE INDEX items_by_product ON order_items(product_id);
"""

_FIRST = [
    "Ada",
    "Alan",
    "Aiko",
    "Amara",
    "Bea",
    "Bruno",
    "Chen",
    "Clara",
    "Dmitri",
    "Elif",
    "Emil",
    "Farah",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Ivan",
    "Jonas",
    "Kai",
    "Lena",
    "Leo",
    "Maya",
    "Mateo",
    "Nia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Rafael",
    "Sana",
    "Sofia",
    "Tariq",
    "Theo",
    "Uma",
    "Viktor",
    "Yara",
    "Zoe",
]
_LAST = [
    "Almeida",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zhang",
]
_PLACES = {
    "France": ("Paris", "Lyon", "Marseille"),
    "Germany": ("Berlin", "Hamburg", "Munich"),
    "Japan": ("Tokyo", "Osaka"),
    "Brazil": ("São Paulo", "Recife"),
    "Norway": ("Oslo", "Bergen"),
    "Canada": ("Toronto", "Montréal", "Vancouver"),
    "Kenya": ("Nairobi",),
    "India": ("Bengaluru", "Pune", "Delhi"),
}
_SEGMENTS = ("consumer", "consumer", "consumer", "small business", "enterprise")
_CATALOG = {
    "books": ("Field Guide", "Cookbook", "Atlas", "Novel", "Poetry Collection"),
    "garden": ("Trowel", "Seed Kit", "Watering Can", "Pruner", "Planter"),
    "kitchen": ("Kettle", "Chef Knife", "Cast Iron Pan", "Coffee Grinder", "Teapot"),
    "outdoor": ("Tent", "Headlamp", "Rain Jacket", "Trail Shoes", "Water Filter"),
    "office": ("Desk Lamp", "Notebook", "Fountain Pen", "Monitor Stand", "Chair Cushion"),
}
_ADJECTIVES = ("Classic", "Compact", "Deluxe", "Everyday", "Pro", "Travel")
_STATUSES = ("delivered",) * 8 + ("shipped", "shipped", "cancelled", "returned")
_START = dt.date(2025, 1, 1)


def generate(connection: sqlite3.Connection) -> None:
    """Create the tables and fill them (about 5,000 rows in all)."""
    rng = random.Random(SEED)
    connection.executescript(_SCHEMA)
    customers = []
    for id in range(1, CUSTOMERS + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        country = rng.choice(sorted(_PLACES))
        signed_up = _START + dt.timedelta(days=rng.randrange(365))
        customers.append(
            (
                id,
                f"{first} {last}",
                f"{first}.{last}.{id}@example.com".lower(),
                country,
                rng.choice(_PLACES[country]),
                rng.choice(_SEGMENTS),
                signed_up.isoformat(),
            )
        )
    connection.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)", customers)
    products = []
    for id in range(1, PRODUCTS + 1):
        category = sorted(_CATALOG)[(id - 1) % len(_CATALOG)]
        base = rng.choice(_CATALOG[category])
        price = round(rng.uniform(4, 180), 2)
        products.append(
            (id, f"{rng.choice(_ADJECTIVES)} {base}", category, price, rng.randrange(0, 400))
        )
    connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)", products)
    prices = {id: price for id, _, _, price, _ in products}
    orders: list[tuple[int, int, str, str]] = []
    items: list[tuple[int, int, int, int, float]] = []
    for id in range(1, ORDERS + 1):
        customer = customers[rng.randrange(CUSTOMERS)]
        first_day = dt.date.fromisoformat(customer[6])
        ordered = first_day + dt.timedelta(days=rng.randrange(400))
        stamp = dt.datetime.combine(ordered, dt.time(rng.randrange(24), rng.randrange(60)))
        orders.append((id, customer[0], stamp.isoformat(), rng.choice(_STATUSES)))
        for product in rng.sample(range(1, PRODUCTS + 1), rng.randint(1, 4)):
            # A few orders got a discount: the unit price is not always the list price.
            discount = rng.choice((1.0, 1.0, 1.0, 0.9, 0.8))
            items.append(
                (
                    len(items) + 1,
                    id,
                    product,
                    rng.randint(1, 5),
                    round(prices[product] * discount, 2),
                )
            )
    connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
    connection.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)", items)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _current(path: Path) -> bool:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        return bool(version == SCHEMA_VERSION)
    except sqlite3.Error:
        return False
    finally:
        connection.close()


def ensure_database(path: Path) -> Path:
    """The demo database at ``path``, created (or rebuilt from an older version) if needed.

    It is built in a temporary file beside ``path`` and moved into place, so a reader never
    sees half a database and two processes starting at once both end with the same file.
    """
    path = Path(path)
    if path.exists() and _current(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".demo-", suffix=".sqlite3", dir=path.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        try:
            with connection:
                generate(connection)
        finally:
            connection.close()
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path
