"""Inventory rules: products, receiving, shipping, transfers, stocktakes, reports.

Every change that reads a quantity and then writes it runs in one
transaction with the stock row locked (``SELECT … FOR UPDATE``; on SQLite
the transaction itself is the lock), so two orders shipping the last unit at
the same moment cannot both succeed. Every change is booked in
``movements``; a reference (delivery note, order number) is booked once per
product and warehouse.
"""

import re
from dataclasses import dataclass

from .db import IntegrityError

SKU = re.compile(r"^[A-Z]{3}-\d{4}$")

REASONS = ("receive", "ship", "transfer_in", "transfer_out", "adjust")


class InventoryError(Exception):
    """An inventory rule said no."""


class UnknownSku(InventoryError):
    """No product has this SKU."""


class UnknownWarehouse(InventoryError):
    """No warehouse has this code."""


class DuplicateSku(InventoryError):
    """A product with this SKU exists already."""


class DuplicateReference(InventoryError):
    """This reference was booked for the product and warehouse before."""


class InsufficientStock(InventoryError):
    """Fewer units on hand than asked for."""

    def __init__(self, sku, warehouse, available, requested):
        super().__init__(f"{sku} at {warehouse}: {available} on hand, {requested} requested")
        self.available = available
        self.requested = requested


@dataclass(frozen=True)
class Product:
    """A product as stored."""

    id: int
    sku: str
    name: str
    unit_price_cents: int
    reorder_level: int
    supplier_id: int | None = None
    pack_size: int = 1


_PRODUCT_COLUMNS = "id, sku, name, unit_price_cents, reorder_level, supplier_id, pack_size"


def add_product(db, sku, name, unit_price_cents, reorder_level=0, *, supplier=None, pack_size=1):
    """Creates a product (reordered from the supplier with code ``supplier``) and returns it."""
    if not SKU.match(sku):
        raise ValueError(f"SKU {sku!r} is not of the form ABC-1234")
    supplier_id = None if supplier is None else supplier_id_of(db, supplier)
    try:
        product_id = db.insert(
            "INSERT INTO products (sku, name, unit_price_cents, reorder_level, supplier_id, pack_size)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (sku, name, unit_price_cents, reorder_level, supplier_id, pack_size),
        )
    except IntegrityError as e:
        if db.scalar("SELECT COUNT(*) FROM products WHERE sku = ?", (sku,)):
            raise DuplicateSku(sku) from e
        raise
    return Product(product_id, sku, name, unit_price_cents, reorder_level, supplier_id, pack_size)


def product(db, sku):
    """The product with ``sku``."""
    row = db.one(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = ?", (sku,))
    if row is None:
        raise UnknownSku(sku)
    return Product(*row)


def products(db):
    """All products, in SKU order."""
    rows = db.all(f"SELECT {_PRODUCT_COLUMNS} FROM products ORDER BY sku")
    return [Product(*row) for row in rows]


def set_price(db, sku, unit_price_cents):
    """Changes a product's price; returns the product as it is now."""
    if db.execute("UPDATE products SET unit_price_cents = ? WHERE sku = ?", (unit_price_cents, sku)).rowcount == 0:
        raise UnknownSku(sku)
    return product(db, sku)


def remove_product(db, sku):
    """Deletes a product with its stock and history (the schema cascades)."""
    if db.execute("DELETE FROM products WHERE sku = ?", (sku,)).rowcount == 0:
        raise UnknownSku(sku)


class UnknownSupplier(InventoryError):
    """No supplier has this code."""


def add_supplier(db, code, name, lead_time_days):
    """Creates a supplier; returns its id."""
    return db.insert(
        "INSERT INTO suppliers (code, name, lead_time_days) VALUES (?, ?, ?)", (code, name, lead_time_days)
    )


def supplier_id_of(db, code):
    """The id of the supplier with ``code``."""
    found = db.scalar("SELECT id FROM suppliers WHERE code = ?", (code,))
    if found is None:
        raise UnknownSupplier(code)
    return found


def assign_supplier(db, sku, code):
    """Reorders ``sku`` from the supplier ``code`` from now on (None: from nobody)."""
    supplier = None if code is None else supplier_id_of(db, code)
    if db.execute("UPDATE products SET supplier_id = ? WHERE sku = ?", (supplier, sku)).rowcount == 0:
        raise UnknownSku(sku)


def warehouse_id(db, code):
    """The id of the warehouse with ``code``."""
    found = db.scalar("SELECT id FROM warehouses WHERE code = ?", (code,))
    if found is None:
        raise UnknownWarehouse(code)
    return found


def warehouses(db):
    """Warehouse codes, in order."""
    return [row[0] for row in db.all("SELECT code FROM warehouses ORDER BY code")]


def quantity(db, sku, warehouse):
    """Units of ``sku`` on hand at ``warehouse`` (0 if never stocked there)."""
    found = db.scalar(
        "SELECT s.quantity FROM stock s"
        " JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id"
        " WHERE p.sku = ? AND w.code = ?",
        (sku, warehouse),
    )
    return found or 0


def total_quantity(db, sku):
    """Units of ``sku`` on hand in all warehouses."""
    found = db.scalar(
        "SELECT SUM(s.quantity) FROM stock s JOIN products p ON p.id = s.product_id WHERE p.sku = ?",
        (sku,),
    )
    return int(found or 0)


def _book(db, product_id, wh_id, delta, reason, reference):
    # Checked first (a failed statement would end a PostgreSQL transaction);
    # the unique constraint still holds against a concurrent booking.
    booked = db.scalar(
        "SELECT COUNT(*) FROM movements WHERE reason = ? AND reference = ? AND product_id = ? AND warehouse_id = ?",
        (reason, reference, product_id, wh_id),
    )
    if booked:
        raise DuplicateReference(f"{reason} {reference} was booked before")
    db.execute(
        "INSERT INTO movements (product_id, warehouse_id, delta, reason, reference) VALUES (?, ?, ?, ?, ?)",
        (product_id, wh_id, delta, reason, reference),
    )


def _add(db, product_id, wh_id, units):
    if db.dialect == "mysql":
        sql = (
            "INSERT INTO stock (warehouse_id, product_id, quantity) VALUES (?, ?, ?)"
            " ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity)"
        )
    else:
        sql = (
            "INSERT INTO stock (warehouse_id, product_id, quantity) VALUES (?, ?, ?)"
            " ON CONFLICT (warehouse_id, product_id) DO UPDATE SET quantity = stock.quantity + excluded.quantity"
        )
    db.execute(sql, (wh_id, product_id, units))


def _locked_quantity(db, product_id, wh_id):
    found = db.scalar(
        "SELECT quantity FROM stock WHERE warehouse_id = ? AND product_id = ?" + db.for_update,
        (wh_id, product_id),
    )
    return found or 0


def receive(db, sku, warehouse, units, reference):
    """Books ``units`` arriving at ``warehouse``; returns the new quantity there."""
    if units <= 0:
        raise ValueError("units must be positive")
    with db.transaction():
        p = product(db, sku)
        wh = warehouse_id(db, warehouse)
        _book(db, p.id, wh, units, "receive", reference)
        _add(db, p.id, wh, units)
        return _locked_quantity(db, p.id, wh)


def _reserved(db, product_id, wh_id):
    # A locking read: under MySQL's REPEATABLE READ a plain SELECT would
    # read the transaction's snapshot, taken before the stock row's lock
    # was granted, and miss reservations committed in between.
    rows = db.all(
        "SELECT units FROM reservations WHERE product_id = ? AND warehouse_id = ? AND status = 'open'"
        + db.for_update,
        (product_id, wh_id),
    )
    return sum(int(units) for (units,) in rows)


def _take(db, p, wh, warehouse, units, reason, reference):
    on_hand = _locked_quantity(db, p.id, wh)
    available = on_hand - _reserved(db, p.id, wh)
    if available < units:
        raise InsufficientStock(p.sku, warehouse, available, units)
    _book(db, p.id, wh, -units, reason, reference)
    db.execute(
        "UPDATE stock SET quantity = quantity - ? WHERE warehouse_id = ? AND product_id = ?",
        (units, wh, p.id),
    )
    return on_hand - units


def ship(db, sku, warehouse, units, reference):
    """Books ``units`` leaving ``warehouse`` for an order; returns what is left."""
    if units <= 0:
        raise ValueError("units must be positive")
    with db.transaction():
        p = product(db, sku)
        wh = warehouse_id(db, warehouse)
        return _take(db, p, wh, warehouse, units, "ship", reference)


def transfer(db, sku, source, destination, units, reference):
    """Moves ``units`` between warehouses, all or nothing."""
    if source == destination:
        raise ValueError("a transfer needs two different warehouses")
    if units <= 0:
        raise ValueError("units must be positive")
    with db.transaction():
        p = product(db, sku)
        src, dst = warehouse_id(db, source), warehouse_id(db, destination)
        # Both stock rows, in warehouse order: two transfers in opposite
        # directions would otherwise each hold one row and wait for the other.
        db.all(
            "SELECT quantity FROM stock WHERE product_id = ? AND warehouse_id IN (?, ?) ORDER BY warehouse_id"
            + db.for_update,
            (p.id, src, dst),
        )
        _take(db, p, src, source, units, "transfer_out", reference)
        _book(db, p.id, dst, units, "transfer_in", reference)
        _add(db, p.id, dst, units)


def stocktake(db, sku, warehouse, counted, reference):
    """Sets the quantity to what was counted, booking the difference.

    Returns the difference (0: nothing booked).
    """
    if counted < 0:
        raise ValueError("a count cannot be negative")
    with db.transaction():
        p = product(db, sku)
        wh = warehouse_id(db, warehouse)
        difference = counted - _locked_quantity(db, p.id, wh)
        if difference > 0:
            _book(db, p.id, wh, difference, "adjust", reference)
            _add(db, p.id, wh, difference)
        elif difference < 0:
            _book(db, p.id, wh, difference, "adjust", reference)
            db.execute(
                "UPDATE stock SET quantity = ? WHERE warehouse_id = ? AND product_id = ?",
                (counted, wh, p.id),
            )
        return difference


def movements(db, sku):
    """The history of ``sku``: (warehouse, delta, reason, reference), oldest first."""
    return db.all(
        "SELECT w.code, m.delta, m.reason, m.reference FROM movements m"
        " JOIN products p ON p.id = m.product_id JOIN warehouses w ON w.id = m.warehouse_id"
        " WHERE p.sku = ? ORDER BY m.id",
        (sku,),
    )


def low_stock(db):
    """Products whose total quantity is below their reorder level.

    (sku, on hand, reorder level), most urgent (largest shortfall) first.
    """
    rows = db.all(
        "SELECT p.sku, COALESCE(SUM(s.quantity), 0) AS on_hand, p.reorder_level"
        " FROM products p LEFT JOIN stock s ON s.product_id = p.id"
        " GROUP BY p.id, p.sku, p.reorder_level"
        " HAVING COALESCE(SUM(s.quantity), 0) < p.reorder_level"
        " ORDER BY p.reorder_level - COALESCE(SUM(s.quantity), 0) DESC, p.sku"
    )
    return [(sku, int(on_hand), int(level)) for sku, on_hand, level in rows]


def stock_value(db, warehouse):
    """The value in cents of everything on hand at ``warehouse``."""
    wh = warehouse_id(db, warehouse)
    found = db.scalar(
        "SELECT SUM(s.quantity * p.unit_price_cents) FROM stock s"
        " JOIN products p ON p.id = s.product_id WHERE s.warehouse_id = ?",
        (wh,),
    )
    return int(found or 0)
