"""Products and warehouses: identity, validation and constraints."""

import pytest

from inventory import IntegrityError
from inventory import stock


def test_warehouses_come_from_the_migrations(db):
    assert stock.warehouses(db) == ["AMS", "BER", "LIS"]


def test_warehouse_codes_are_unique(db):
    with pytest.raises(IntegrityError):
        db.execute("INSERT INTO warehouses (code, name, city) VALUES (?, ?, ?)", ("AMS", "Second", "Amstelveen"))
    assert db.scalar("SELECT COUNT(*) FROM warehouses") == 3


class TestAddProduct:
    """Creating products."""

    def test_added_product_reads_back(self, db):
        created = stock.add_product(db, "BOL-0042", "Bolt M6", 15, reorder_level=100)
        assert stock.product(db, "BOL-0042") == created
        assert created.unit_price_cents == 15

    def test_duplicate_sku_is_refused(self, db, widget):
        with pytest.raises(stock.DuplicateSku):
            stock.add_product(db, widget.sku, "Another widget", 300)
        assert db.scalar("SELECT COUNT(*) FROM products") == 1

    def test_negative_price_violates_the_check_constraint(self, db):
        with pytest.raises(IntegrityError):
            stock.add_product(db, "NEG-0001", "Refund", -1)
        assert stock.products(db) == []

    @pytest.mark.parametrize("sku", ["wid-0001", "WID0001", "WIDG-0001", "WID-001", ""])
    def test_malformed_skus_are_rejected(self, db, sku):
        with pytest.raises(ValueError):
            stock.add_product(db, sku, "Bad", 1)
        assert db.scalar("SELECT COUNT(*) FROM products") == 0

    def test_products_are_listed_by_sku(self, db):
        for sku in ("NUT-0002", "BOL-0001", "NUT-0001"):
            stock.add_product(db, sku, sku.lower(), 5)
        assert [p.sku for p in stock.products(db)] == ["BOL-0001", "NUT-0001", "NUT-0002"]

    def test_unknown_sku(self, db):
        with pytest.raises(stock.UnknownSku):
            stock.product(db, "NOP-0000")
