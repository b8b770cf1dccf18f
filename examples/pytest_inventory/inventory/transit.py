"""Transfers that take time: dispatched from one warehouse, received at another.

Dispatching takes the units out of the source at once (``transfer_out``);
they are in transit until the destination books them in (``transfer_in``)
or the transfer is cancelled and they go back to the source. Each step is
one transaction, and each transfer reference is used once.
"""

from . import stock
from .stock import InventoryError


class UnknownTransfer(InventoryError):
    """No transfer has this reference."""


class TransferClosed(InventoryError):
    """The transfer arrived or was cancelled already."""


def dispatch(db, sku, source, destination, units, reference):
    """Sends ``units`` of ``sku`` on their way; returns what is left at the source."""
    if source == destination:
        raise ValueError("a transfer needs two different warehouses")
    if units <= 0:
        raise ValueError("units must be positive")
    with db.transaction():
        p = stock.product(db, sku)
        src, dst = stock.warehouse_id(db, source), stock.warehouse_id(db, destination)
        if db.scalar("SELECT COUNT(*) FROM transfers WHERE reference = ?", (reference,)):
            raise stock.DuplicateReference(f"transfer {reference} exists")
        left = stock._take(db, p, src, source, units, "transfer_out", reference)
        db.execute(
            "INSERT INTO transfers (product_id, source_id, destination_id, units, reference) VALUES (?, ?, ?, ?, ?)",
            (p.id, src, dst, units, reference),
        )
        return left


def _open(db, reference):
    row = db.one(
        "SELECT id, product_id, source_id, destination_id, units, status FROM transfers WHERE reference = ?"
        + db.for_update,
        (reference,),
    )
    if row is None:
        raise UnknownTransfer(reference)
    if row[5] != "in_transit":
        raise TransferClosed(f"transfer {reference} is {row[5]}")
    return row


def arrive(db, reference):
    """Books the transfer in at its destination; returns the quantity there now."""
    with db.transaction():
        transfer_id, product_id, _src, dst, units, _ = _open(db, reference)
        stock._book(db, product_id, dst, units, "transfer_in", reference)
        stock._add(db, product_id, dst, units)
        db.execute("UPDATE transfers SET status = 'arrived' WHERE id = ?", (transfer_id,))
        return stock._locked_quantity(db, product_id, dst)


def cancel(db, reference):
    """Sends the units back to the source; returns the quantity there now."""
    with db.transaction():
        transfer_id, product_id, src, _dst, units, _ = _open(db, reference)
        stock._book(db, product_id, src, units, "transfer_in", reference)
        stock._add(db, product_id, src, units)
        db.execute("UPDATE transfers SET status = 'cancelled' WHERE id = ?", (transfer_id,))
        return stock._locked_quantity(db, product_id, src)


def status(db, reference):
    """``in_transit``, ``arrived`` or ``cancelled``."""
    found = db.scalar("SELECT status FROM transfers WHERE reference = ?", (reference,))
    if found is None:
        raise UnknownTransfer(reference)
    return found


def in_transit(db, sku):
    """Units of ``sku`` on their way, per destination code."""
    rows = db.all(
        "SELECT w.code, SUM(t.units) FROM transfers t"
        " JOIN products p ON p.id = t.product_id JOIN warehouses w ON w.id = t.destination_id"
        " WHERE p.sku = ? AND t.status = 'in_transit' GROUP BY w.code ORDER BY w.code",
        (sku,),
    )
    return {code: int(units) for code, units in rows}
