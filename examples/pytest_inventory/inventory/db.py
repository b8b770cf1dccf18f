"""Connections by URL, one small API over sqlite3, psycopg and PyMySQL.

URL forms (the ones paraclone hands its workers in ``DATABASE_URL``):

- ``sqlite:///absolute/path.sqlite3`` (also ``sqlite:////absolute/path``, as
  dj-database-url writes it, and ``sqlite://relative/path``)
- ``postgres://user:password@host:port/name`` (or ``postgresql://``)
- ``mysql://user:password@host:port/name`` (MySQL and MariaDB)

Statements are written with ``?`` placeholders and translated for drivers
that use ``%s``. Connections run in autocommit mode; :meth:`Database.transaction`
opens an explicit transaction (``BEGIN IMMEDIATE`` on SQLite, so writers
queue up instead of failing).
"""

import contextlib
import os
import sqlite3
from urllib.parse import unquote, urlsplit


class IntegrityError(Exception):
    """A constraint of the database refused a change (any driver)."""


#: MySQL/MariaDB error codes that are constraint violations: NOT NULL,
#: duplicate key, foreign keys, too long for the column, out of range,
#: CHECK (MySQL and MariaDB).
_MYSQL_INTEGRITY_CODES = {1048, 1062, 1216, 1217, 1264, 1406, 1451, 1452, 1690, 3819, 4025}


class Database:
    """One connection and its dialect (``sqlite``, ``postgres`` or ``mysql``)."""

    def __init__(self, connection, dialect, integrity_errors):
        self.connection = connection
        self.dialect = dialect
        self._integrity_errors = integrity_errors
        self._in_transaction = False

    @property
    def for_update(self):
        """The row-locking suffix for SELECTs inside a transaction."""
        return "" if self.dialect == "sqlite" else " FOR UPDATE"

    def _is_integrity_error(self, error):
        if isinstance(error, self._integrity_errors):
            return True
        if self.dialect == "mysql":
            import pymysql

            return isinstance(error, pymysql.MySQLError) and error.args and error.args[0] in _MYSQL_INTEGRITY_CODES
        return False

    def execute(self, sql, params=()):
        """Runs one statement and returns the cursor."""
        if self.dialect != "sqlite":
            sql = sql.replace("?", "%s")
        cursor = self.connection.cursor()
        try:
            if params:
                cursor.execute(sql, tuple(params))
            else:
                cursor.execute(sql)
        except Exception as e:
            if self._is_integrity_error(e):
                raise IntegrityError(str(e)) from e
            raise
        return cursor

    def all(self, sql, params=()):
        """All rows of a query, as tuples."""
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    def one(self, sql, params=()):
        """The first row of a query, or None."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def scalar(self, sql, params=()):
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def insert(self, sql, params=()):
        """Runs an INSERT and returns the new row's id (``id`` column)."""
        if self.dialect == "postgres":
            return self.scalar(sql + " RETURNING id", params)
        return self.execute(sql, params).lastrowid

    @contextlib.contextmanager
    def transaction(self):
        """Commits the block's statements together, or none of them.

        Nested use joins the outer transaction.
        """
        if self._in_transaction:
            yield self
            return
        begin = {"sqlite": "BEGIN IMMEDIATE", "postgres": "BEGIN", "mysql": "START TRANSACTION"}[self.dialect]
        self.execute(begin)
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self._in_transaction = False
            self.execute("ROLLBACK")
            raise
        self._in_transaction = False
        self.execute("COMMIT")

    def close(self):
        """Closes the connection (again: nothing happens)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def sqlite_path(url):
    """The file path of an ``sqlite://`` URL."""
    path = url[len("sqlite://") :].split("?", 1)[0]
    if path.startswith("//"):
        path = path[1:]
    if not path:
        raise ValueError(f"no path in {url!r}")
    return unquote(path)


def connect(url=None):
    """Connects to ``url`` (default: ``$DATABASE_URL``)."""
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        raise ValueError("no database URL given and DATABASE_URL is not set")
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        connection = sqlite3.connect(sqlite_path(url), timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys = ON")
        return Database(connection, "sqlite", (sqlite3.IntegrityError,))
    if scheme in ("postgres", "postgresql"):
        import psycopg

        connection = psycopg.connect(url, autocommit=True)
        return Database(connection, "postgres", (psycopg.IntegrityError,))
    if scheme in ("mysql", "mariadb"):
        import pymysql
        from pymysql.constants import CLIENT

        parts = urlsplit(url)
        connection = pymysql.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")),
            charset="utf8mb4",
            autocommit=True,
            # An UPDATE that sets a value it had counts its row, as on the others.
            client_flag=CLIENT.FOUND_ROWS,
        )
        return Database(connection, "mysql", (pymysql.IntegrityError,))
    raise ValueError(f"unsupported database URL scheme {scheme!r} (sqlite, postgres, mysql)")


def apply_migrations(database, directory):
    """Runs every ``*.sql`` file of ``directory`` in file-name order.

    What paraclone does to the template; used by the tests when they run
    without paraclone on a fresh SQLite file.
    """
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".sql")):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            script = f.read()
        if database.dialect == "sqlite":
            database.connection.executescript(script)
        else:
            for statement in _statements(script):
                database.execute(statement)


def _statements(script):
    """The statements of a plain SQL script (no procedures, no ';' in literals)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
