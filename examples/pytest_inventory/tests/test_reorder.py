"""Purchase suggestions per supplier (module-scoped ``suppliers`` again).

This module makes the same three suppliers as ``test_suppliers.py``: if a
runner failed to tear that module's fixture down before this one sets it up,
the unique supplier codes would collide here.
"""

import pytest

from inventory import orders, reports, stock, transit


def test_suppliers_are_this_modules_own(db, suppliers):
    assert db.scalar("SELECT COUNT(*) FROM suppliers") == 3


def test_nothing_to_reorder_without_products(db, suppliers):
    assert reports.purchase_suggestions(db) == {}


@pytest.mark.parametrize(
    ("level", "on_hand", "pack", "order"),
    [
        (10, 0, 1, 20),
        (10, 9, 1, 11),
        (10, 4, 5, 20),
        (10, 4, 6, 18),
        (10, 4, 12, 24),
        (100, 1, 25, 200),
        (100, 99, 25, 125),
        (7, 3, 1, 11),
        (7, 3, 4, 12),
        (1, 0, 1, 2),
        (1, 0, 10, 10),
        (50, 49, 50, 100),
    ],
)
def test_order_quantity(db, suppliers, level, on_hand, pack, order):
    stock.add_product(db, "ORD-0001", "Ordered", 10, reorder_level=level, supplier="ACME", pack_size=pack)
    if on_hand:
        stock.receive(db, "ORD-0001", "AMS", on_hand, "DN-1")
    assert reports.purchase_suggestions(db) == {"ACME": [("ORD-0001", on_hand, order)]}


@pytest.mark.parametrize("on_hand", [10, 11, 500])
def test_at_or_above_the_level_nothing_is_ordered(db, suppliers, on_hand):
    stock.add_product(db, "ORD-0002", "Enough", 10, reorder_level=10, supplier="BOLT")
    stock.receive(db, "ORD-0002", "BER", on_hand, "DN-1")
    assert reports.purchase_suggestions(db) == {}


class TestSuggestionsPerSupplier:
    """A catalogue spread over the three suppliers and nobody."""

    @pytest.fixture(autouse=True)
    def catalogue(self, db, suppliers):
        for sku, level, supplier, pack in [
            ("BOL-0001", 500, "BOLT", 100),
            ("NUT-0001", 100, "BOLT", 50),
            ("SAW-0001", 2, "CRAN", 1),
            ("GLU-0001", 4, "ACME", 6),
            ("TAP-0001", 3, None, 1),
        ]:
            stock.add_product(db, sku, sku, 10, reorder_level=level, supplier=supplier, pack_size=pack)
        stock.receive(db, "BOL-0001", "AMS", 300, "DN-1")
        stock.receive(db, "BOL-0001", "BER", 100, "DN-1")
        stock.receive(db, "NUT-0001", "AMS", 150, "DN-1")
        stock.receive(db, "SAW-0001", "LIS", 1, "DN-1")

    def test_grouped_by_supplier(self, db):
        assert reports.purchase_suggestions(db) == {
            "ACME": [("GLU-0001", 0, 12)],
            "BOLT": [("BOL-0001", 400, 600)],
            "CRAN": [("SAW-0001", 1, 3)],
            None: [("TAP-0001", 0, 6)],
        }

    def test_a_delivery_takes_a_product_off(self, db):
        stock.receive(db, "SAW-0001", "AMS", 5, "DN-2")
        assert "CRAN" not in reports.purchase_suggestions(db)

    def test_a_shipment_puts_a_product_on(self, db):
        stock.ship(db, "NUT-0001", "AMS", 60, "SO-1")
        assert reports.purchase_suggestions(db)["BOLT"] == [("BOL-0001", 400, 600), ("NUT-0001", 90, 150)]

    def test_changing_supplier_moves_the_line(self, db):
        stock.assign_supplier(db, "GLU-0001", "CRAN")
        assert reports.purchase_suggestions(db)["CRAN"] == [("GLU-0001", 0, 12), ("SAW-0001", 1, 3)]

    def test_reserved_units_still_count_as_on_hand(self, db):
        orders.reserve(db, "SO-2", "NUT-0001", "AMS", 150)
        assert "NUT-0001" not in [sku for sku, _, _ in reports.purchase_suggestions(db)["BOLT"]]

    def test_units_in_transit_are_not_on_hand(self, db):
        transit.dispatch(db, "NUT-0001", "AMS", "LIS", 100, "TR-1")
        assert ("NUT-0001", 50, 150) in reports.purchase_suggestions(db)["BOLT"]

    def test_the_low_stock_report_agrees(self, db):
        low = {sku for sku, _, _ in stock.low_stock(db)}
        suggested = {sku for lines in reports.purchase_suggestions(db).values() for sku, _, _ in lines}
        assert low == suggested
