"""Fixtures: one database per session (per xdist worker), emptied around each test.

Scopes, from the longest:

- session: ``database_url`` (the database to test against), ``connector``
  (opens connections to it, closes them all at the end), ``shared_db`` (the
  one connection the ``db`` fixture reuses) and ``warehouse_ids`` (the
  warehouses the migrations seed, read once).
- module: ``suppliers`` (three suppliers a test module reorders from,
  created when the first test of the module asks for them and deleted after
  its last one) — see ``tests/test_suppliers.py`` and ``test_reorder.py``.
- function: ``db`` (the shared connection with no products, stock,
  movements, reservations or transfers, before and after the test),
  ``connect_db`` (extra connections for the concurrency tests), ``widget``.

Where the database comes from:

- ``DATABASE_URL`` (paraclone sets it to this worker's clone of the
  migrated template): used as it is.
- ``DATABASE_URL`` under pytest-xdist (``pytest -n 4``): every xdist worker
  gets a copy of that database of its own, named after the worker
  (``<name>_gw0`` …: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE``
  on PostgreSQL, the migrations replayed on MySQL), dropped at the end.
- no ``DATABASE_URL``: a fresh SQLite file per session (per xdist worker),
  migrated with ``migrations/sqlite`` as paraclone migrates the template.

Tests commit what they write and count rows exactly; two tests at once on
one database would delete each other's rows (see ``paraclone test
--share-database``).
"""

import os
import pathlib
import shutil
from urllib.parse import urlsplit, urlunsplit

import pytest

from inventory import connect
from inventory.db import apply_migrations, sqlite_path

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: Tables the tests change, children first.
MUTABLE_TABLES = ("movements", "reservations", "transfers", "stock", "products")

#: The suppliers of the module-scoped ``suppliers`` fixture: code → (name, lead time in days).
SUPPLIERS = {
    "ACME": ("Acme Fasteners", 3),
    "BOLT": ("Bolt Brothers", 10),
    "CRAN": ("Crane Tools", 21),
}


def _with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _copy_for_worker(url, worker):
    """A copy of the database at ``url`` for the xdist worker ``worker``; returns (url, drop)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        source = pathlib.Path(sqlite_path(url))
        target = source.with_name(f"{source.stem}_{worker}{source.suffix}")
        shutil.copyfile(source, target)
        return f"sqlite://{target}", lambda: target.unlink(missing_ok=True)
    name = urlsplit(url).path.lstrip("/")
    copy = f"{name}_{worker}"
    if scheme in ("postgres", "postgresql"):
        admin = connect(_with_database(url, "postgres"))
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')

        def drop():
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
            admin.close()

        return _with_database(url, copy), drop
    admin = connect(url)
    admin.execute(f"DROP DATABASE IF EXISTS `{copy}`")
    admin.execute(f"CREATE DATABASE `{copy}`")
    copy_url = _with_database(url, copy)
    database = connect(copy_url)
    try:
        apply_migrations(database, ROOT / "migrations" / "mysql")
    finally:
        database.close()

    def drop():
        admin.execute(f"DROP DATABASE IF EXISTS `{copy}`")
        admin.close()

    return copy_url, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The database to test against (see the module doc)."""
    url = os.environ.get("DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        url, drop = _copy_for_worker(url, worker)
        yield url
        drop()
        return
    if url:
        yield url
        return
    path = tmp_path_factory.mktemp("inventory") / "inventory.sqlite3"
    url = f"sqlite://{path}"
    database = connect(url)
    try:
        apply_migrations(database, ROOT / "migrations" / "sqlite")
    finally:
        database.close()
    yield url


@pytest.fixture(scope="session")
def connector(database_url):
    """Opens connections to the test database; all are closed when the session ends."""
    opened = []

    def open_one():
        database = connect(database_url)
        opened.append(database)
        return database

    yield open_one
    for database in opened:
        database.close()


@pytest.fixture(scope="session")
def shared_db(connector):
    """The session's one long-lived connection (``db`` hands it to each test)."""
    return connector()


@pytest.fixture(scope="session")
def warehouse_ids(shared_db):
    """The seeded warehouses, code → id, read once per session."""
    return dict(shared_db.all("SELECT code, id FROM warehouses ORDER BY code"))


def _empty(database):
    with database.transaction():
        for table in MUTABLE_TABLES:
            database.execute(f"DELETE FROM {table}")


@pytest.fixture
def connect_db(connector):
    """Opens extra connections to the test database (closed at the end of the test)."""
    opened = []

    def open_one():
        database = connector()
        opened.append(database)
        return database

    yield open_one
    for database in opened:
        database.close()


@pytest.fixture
def db(shared_db):
    """The shared connection, with no products, stock, movements, reservations or transfers.

    Emptied when the test starts and again when it ends, so the database is
    left as the test found it. A test that leaves a transaction open fails
    here instead of poisoning the next one.
    """
    _empty(shared_db)
    yield shared_db
    left_open = shared_db._in_transaction
    if left_open:
        shared_db._in_transaction = False
        shared_db.execute("ROLLBACK")
    _empty(shared_db)
    assert not left_open, "the test left a transaction open"


@pytest.fixture(scope="module")
def suppliers(connector):
    """The suppliers of ``SUPPLIERS``, code → id, for the whole module.

    Made on a connection of their own (closed with the session's) when the
    module's first test needs them; deleted after its last one (their
    products lose the supplier).
    Made twice without being deleted in between, the unique codes collide.
    """
    from inventory import stock

    database = connector()
    ids = {code: stock.add_supplier(database, code, name, days) for code, (name, days) in SUPPLIERS.items()}
    yield ids
    database.execute("UPDATE products SET supplier_id = NULL WHERE supplier_id IS NOT NULL")
    for supplier_id in ids.values():
        database.execute("DELETE FROM suppliers WHERE id = ?", (supplier_id,))


@pytest.fixture
def widget(db):
    """A product with SKU WID-0001 at 250 cents."""
    from inventory.stock import add_product

    return add_product(db, "WID-0001", "Widget", 250, reorder_level=10)
