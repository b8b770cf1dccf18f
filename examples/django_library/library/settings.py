"""Settings of the library example project.

The one paraclone-specific part is where the database comes from: the
environment, so that each of paraclone's workers talks to its own clone.

- ``DJANGO_SQLITE_PATH`` (set by paraclone.toml to the clone's file for the
  SQLite backend; empty for server backends, and then ignored): an SQLite
  database at that path.
- otherwise ``DATABASE_URL`` through dj-database-url (``postgres://…``,
  ``mysql://…``), falling back to ``dev.sqlite3`` next to manage.py.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "library-example-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "catalog.apps.CatalogConfig",
    "reports.apps.ReportsConfig",
]

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "library.urls"

TEMPLATES = []


def database_from_env():
    """The ``default`` database, read from the environment (see the module doc)."""
    sqlite_path = os.environ.get("DJANGO_SQLITE_PATH", "")
    if sqlite_path:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path}
    else:
        database = dj_database_url.config(default="sqlite:///" + str(BASE_DIR / "dev.sqlite3"))
    engine = database["ENGINE"]
    if engine == "django.db.backends.mysql":
        # PyMySQL stands in for mysqlclient (no C library to build).
        import pymysql

        pymysql.install_as_MySQLdb()
        database.setdefault("OPTIONS", {}).update({"charset": "utf8mb4"})
    elif engine == "django.db.backends.sqlite3":
        # Writers queue for the lock instead of failing when a read
        # transaction would have to be upgraded (the lend race tests).
        database.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
        # Plain `manage.py test` makes a file, not Django's shared-cache
        # in-memory database, whose table locks fail at once instead of
        # waiting. (Under paraclone no test database is made at all.)
        database.setdefault("TEST", {}).setdefault("NAME", str(BASE_DIR / "test_library.sqlite3"))
    return database


DATABASES = {"default": database_from_env()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Lending rules, read by catalog.services.
LIBRARY_LOAN_DAYS = 14
LIBRARY_MAX_RENEWALS = 2
LIBRARY_FINE_PER_DAY_CENTS = 25
LIBRARY_MAX_FINE_CENTS = 1000
# Reservations and fines.
LIBRARY_HOLD_DAYS = 3
LIBRARY_MAX_RESERVATIONS = 5
LIBRARY_BLOCKING_FINE_CENTS = 500
