"""Fixtures: a connection to this worker's database, emptied of mutable rows.

Under paraclone, ``DATABASE_URL`` names this worker's clone of the migrated
template. Without it (plain ``pytest``), the session makes a fresh SQLite
file and applies ``migrations/sqlite`` to it, as paraclone does to the
template.

The ``db`` fixture deletes every product, stock row and movement when a
test starts (the seeded warehouses stay), and tests commit what they write:
two tests running at once on one database would delete each other's rows.
That is fine on a clone per worker, and visibly not with
``paraclone test --share-database``.
"""

import os
import pathlib

import pytest

from inventory import connect
from inventory.db import apply_migrations

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: Tables the tests change, children first.
MUTABLE_TABLES = ("movements", "stock", "products")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The database to test against: ``$DATABASE_URL`` or a fresh SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = tmp_path_factory.mktemp("inventory") / "inventory.sqlite3"
    url = f"sqlite://{path}"
    database = connect(url)
    try:
        apply_migrations(database, ROOT / "migrations" / "sqlite")
    finally:
        database.close()
    return url


@pytest.fixture
def connect_db(database_url):
    """Opens extra connections to the test database (closed at the end)."""
    opened = []

    def open_one():
        database = connect(database_url)
        opened.append(database)
        return database

    yield open_one
    for database in opened:
        database.close()


@pytest.fixture
def db(connect_db):
    """A connection to the test database with no products, stock or movements."""
    database = connect_db()
    for table in MUTABLE_TABLES:
        database.execute(f"DELETE FROM {table}")
    return database


@pytest.fixture
def widget(db):
    """A product with SKU WID-0001 at 250 cents."""
    from inventory.stock import add_product

    return add_product(db, "WID-0001", "Widget", 250, reorder_level=10)
