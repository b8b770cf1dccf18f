"""Reports across products, warehouses and suppliers."""

from . import stock


def purchase_suggestions(db):
    """What to reorder, per supplier code: [(sku, on hand, order quantity)].

    A product is reordered when its total quantity is below its reorder
    level: enough to reach twice the level, rounded up to whole packs.
    Products without a supplier are listed under ``None``.
    """
    rows = db.all(
        "SELECT s.code, p.sku, COALESCE(SUM(st.quantity), 0), p.reorder_level, p.pack_size"
        " FROM products p LEFT JOIN suppliers s ON s.id = p.supplier_id"
        " LEFT JOIN stock st ON st.product_id = p.id"
        " GROUP BY s.code, p.id, p.sku, p.reorder_level, p.pack_size"
        " HAVING COALESCE(SUM(st.quantity), 0) < p.reorder_level"
        " ORDER BY p.sku"
    )
    suggestions = {}
    for code, sku, on_hand, level, pack in rows:
        on_hand, level, pack = int(on_hand), int(level), int(pack)
        need = 2 * level - on_hand
        packs = -(-need // pack)
        suggestions.setdefault(code, []).append((sku, on_hand, packs * pack))
    return suggestions


def warehouse_summary(db):
    """Per warehouse code: (products stocked, units, value in cents), every warehouse listed."""
    rows = db.all(
        "SELECT w.code, COUNT(s.product_id), COALESCE(SUM(s.quantity), 0),"
        " COALESCE(SUM(s.quantity * p.unit_price_cents), 0)"
        " FROM warehouses w LEFT JOIN stock s ON s.warehouse_id = w.id AND s.quantity > 0"
        " LEFT JOIN products p ON p.id = s.product_id"
        " GROUP BY w.id, w.code ORDER BY w.code"
    )
    return {code: (int(n), int(units), int(value)) for code, n, units, value in rows}


def movement_summary(db, sku):
    """Net units per movement reason for ``sku`` (reasons never used left out)."""
    stock.product(db, sku)
    rows = db.all(
        "SELECT m.reason, SUM(m.delta) FROM movements m JOIN products p ON p.id = m.product_id"
        " WHERE p.sku = ? GROUP BY m.reason ORDER BY m.reason",
        (sku,),
    )
    return {reason: int(total) for reason, total in rows}


def supplier_lead_times(db):
    """Suppliers with their products, slowest first: [(code, lead time days, [skus])]."""
    rows = db.all(
        "SELECT s.code, s.lead_time_days, p.sku FROM suppliers s LEFT JOIN products p ON p.supplier_id = s.id"
        " ORDER BY s.lead_time_days DESC, s.code, p.sku"
    )
    result = []
    for code, days, sku in rows:
        if not result or result[-1][0] != code:
            result.append((code, int(days), []))
        if sku is not None:
            result[-1][2].append(sku)
    return result
