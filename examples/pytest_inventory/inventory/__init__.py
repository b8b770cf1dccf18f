"""A small warehouse inventory on plain DB-API connections.

``inventory.db`` connects to the database named by a URL (SQLite, PostgreSQL
or MySQL/MariaDB) and hides the drivers' differences; ``inventory.stock``
holds the rules: products, receiving, shipping, transfers, stocktakes and
reports. The schema lives in ``migrations/<backend>/*.sql``.
"""

from .db import Database, IntegrityError, connect

__all__ = ["Database", "IntegrityError", "connect"]
