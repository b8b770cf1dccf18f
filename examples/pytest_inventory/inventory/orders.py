"""Stock reserved for customer orders, then shipped or released.

An order reserves units per product and warehouse; reserved units stay on
hand but no other shipment may take them. Fulfilling ships every open line
of the order in one transaction; releasing gives the units back.
"""

from . import stock
from .stock import InsufficientStock, InventoryError


class UnknownOrder(InventoryError):
    """No open reservation has this order reference."""


class DuplicateReservation(InventoryError):
    """The order reserved this product at this warehouse already."""


def available(db, sku, warehouse):
    """Units on hand at ``warehouse`` that no open order has reserved."""
    p = stock.product(db, sku)
    wh = stock.warehouse_id(db, warehouse)
    return stock._locked_quantity(db, p.id, wh) - stock._reserved(db, p.id, wh)


def reserve(db, order_ref, sku, warehouse, units):
    """Reserves ``units`` of ``sku`` at ``warehouse`` for ``order_ref``; returns what is left available."""
    if units <= 0:
        raise ValueError("units must be positive")
    with db.transaction():
        p = stock.product(db, sku)
        wh = stock.warehouse_id(db, warehouse)
        free = stock._locked_quantity(db, p.id, wh) - stock._reserved(db, p.id, wh)
        if free < units:
            raise InsufficientStock(sku, warehouse, free, units)
        if db.scalar(
            "SELECT COUNT(*) FROM reservations WHERE order_ref = ? AND product_id = ? AND warehouse_id = ?",
            (order_ref, p.id, wh),
        ):
            raise DuplicateReservation(f"{order_ref} reserved {sku} at {warehouse} before")
        db.execute(
            "INSERT INTO reservations (product_id, warehouse_id, order_ref, units) VALUES (?, ?, ?, ?)",
            (p.id, wh, order_ref, units),
        )
        return free - units


def lines(db, order_ref):
    """The order's reservations: (sku, warehouse, units, status), in the order made."""
    return db.all(
        "SELECT p.sku, w.code, r.units, r.status FROM reservations r"
        " JOIN products p ON p.id = r.product_id JOIN warehouses w ON w.id = r.warehouse_id"
        " WHERE r.order_ref = ? ORDER BY r.id",
        (order_ref,),
    )


def _open_lines(db, order_ref):
    rows = db.all(
        "SELECT id, product_id, warehouse_id, units FROM reservations"
        " WHERE order_ref = ? AND status = 'open' ORDER BY warehouse_id, product_id" + db.for_update,
        (order_ref,),
    )
    if not rows:
        raise UnknownOrder(order_ref)
    return rows


def fulfil(db, order_ref):
    """Ships every open line of the order, all or nothing; returns the units shipped."""
    with db.transaction():
        shipped = 0
        for line_id, product_id, wh, units in _open_lines(db, order_ref):
            on_hand = stock._locked_quantity(db, product_id, wh)
            if on_hand < units:  # a stocktake found less than was reserved
                sku = db.scalar("SELECT sku FROM products WHERE id = ?", (product_id,))
                raise InsufficientStock(sku, str(wh), on_hand, units)
            stock._book(db, product_id, wh, -units, "ship", order_ref)
            db.execute(
                "UPDATE stock SET quantity = quantity - ? WHERE warehouse_id = ? AND product_id = ?",
                (units, wh, product_id),
            )
            db.execute("UPDATE reservations SET status = 'fulfilled' WHERE id = ?", (line_id,))
            shipped += units
        return shipped


def release(db, order_ref):
    """Gives back every open line of the order; returns the units released."""
    with db.transaction():
        rows = _open_lines(db, order_ref)
        db.execute("UPDATE reservations SET status = 'released' WHERE order_ref = ? AND status = 'open'", (order_ref,))
        return sum(r[3] for r in rows)


def reserved(db, sku):
    """Open reserved units of ``sku`` per warehouse code."""
    rows = db.all(
        "SELECT w.code, SUM(r.units) FROM reservations r"
        " JOIN products p ON p.id = r.product_id JOIN warehouses w ON w.id = r.warehouse_id"
        " WHERE p.sku = ? AND r.status = 'open' GROUP BY w.code ORDER BY w.code",
        (sku,),
    )
    return {code: int(units) for code, units in rows}
