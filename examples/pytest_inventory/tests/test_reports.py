"""Reports: low stock, stock value, movement history."""

import os

import pytest

from inventory import stock


@pytest.fixture
def catalogue(db):
    """Three products stocked across the warehouses."""
    stock.add_product(db, "BOL-0001", "Bolt", 10, reorder_level=500)
    stock.add_product(db, "NUT-0001", "Nut", 5, reorder_level=100)
    stock.add_product(db, "SAW-0001", "Saw", 2500, reorder_level=2)
    stock.receive(db, "BOL-0001", "AMS", 300, "DN-1")
    stock.receive(db, "BOL-0001", "BER", 100, "DN-1")
    stock.receive(db, "NUT-0001", "AMS", 1000, "DN-1")
    stock.receive(db, "SAW-0001", "LIS", 1, "DN-1")
    stock.ship(db, "NUT-0001", "AMS", 950, "SO-1")
    return db


class TestLowStock:
    """What needs reordering, most urgent first."""

    def test_low_stock_in_order_of_shortfall(self, catalogue):
        assert stock.low_stock(catalogue) == [
            ("BOL-0001", 400, 500),
            ("NUT-0001", 50, 100),
            ("SAW-0001", 1, 2),
        ]

    def test_restocking_clears_the_report(self, catalogue):
        stock.receive(catalogue, "SAW-0001", "BER", 1, "DN-2")
        stock.receive(catalogue, "NUT-0001", "BER", 50, "DN-2")
        assert [row[0] for row in stock.low_stock(catalogue)] == ["BOL-0001"]

    def test_never_stocked_products_are_low(self, db):
        stock.add_product(db, "GLU-0001", "Glue", 300, reorder_level=4)
        assert stock.low_stock(db) == [("GLU-0001", 0, 4)]


class TestStockValue:
    """The value on hand per warehouse."""

    @pytest.mark.parametrize(
        ("warehouse", "cents"),
        [("AMS", 300 * 10 + 50 * 5), ("BER", 100 * 10), ("LIS", 2500)],
    )
    def test_value_per_warehouse(self, catalogue, warehouse, cents):
        if os.environ.get("INVENTORY_DEMO") == "fail" and warehouse == "LIS":
            cents += 1  # INVENTORY_DEMO=fail: a wrong expectation, on purpose
        assert stock.stock_value(catalogue, warehouse) == cents

    def test_unknown_warehouse_has_no_value(self, catalogue):
        with pytest.raises(stock.UnknownWarehouse):
            stock.stock_value(catalogue, "OSL")


class TestHistory:
    """Every change is booked, in order."""

    def test_history_of_one_product(self, catalogue):
        assert stock.movements(catalogue, "NUT-0001") == [
            ("AMS", 1000, "receive", "DN-1"),
            ("AMS", -950, "ship", "SO-1"),
        ]

    def test_exact_number_of_rows(self, catalogue):
        assert catalogue.scalar("SELECT COUNT(*) FROM products") == 3
        assert catalogue.scalar("SELECT COUNT(*) FROM stock") == 4
        assert catalogue.scalar("SELECT COUNT(*) FROM movements") == 5
        assert catalogue.scalar("SELECT SUM(delta) FROM movements") == 300 + 100 + 1000 + 1 - 950
