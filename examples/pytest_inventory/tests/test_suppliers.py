"""Suppliers: reference data made once for this module (``suppliers``, module scope)."""

import pytest

from inventory import IntegrityError, reports, stock
from tests.conftest import SUPPLIERS


def test_the_module_suppliers_exist_once(db, suppliers):
    assert db.all("SELECT code FROM suppliers ORDER BY code") == [("ACME",), ("BOLT",), ("CRAN",)]


def test_the_fixture_ids_are_the_stored_ones(db, suppliers):
    assert {code: stock.supplier_id_of(db, code) for code in SUPPLIERS} == suppliers


def test_products_in_earlier_tests_are_gone_but_suppliers_stay(db, suppliers):
    assert db.scalar("SELECT COUNT(*) FROM products") == 0
    assert db.scalar("SELECT COUNT(*) FROM suppliers") == 3


class TestAssign:
    """Products are reordered from one supplier."""

    def test_a_product_added_with_its_supplier(self, db, suppliers):
        p = stock.add_product(db, "BOL-0001", "Bolt", 10, supplier="BOLT")
        assert p.supplier_id == suppliers["BOLT"]
        assert stock.product(db, "BOL-0001") == p

    def test_assigning_later(self, db, suppliers, widget):
        stock.assign_supplier(db, widget.sku, "ACME")
        assert stock.product(db, widget.sku).supplier_id == suppliers["ACME"]

    def test_changing_supplier(self, db, suppliers, widget):
        stock.assign_supplier(db, widget.sku, "ACME")
        stock.assign_supplier(db, widget.sku, "CRAN")
        assert stock.product(db, widget.sku).supplier_id == suppliers["CRAN"]

    def test_unassigning(self, db, suppliers, widget):
        stock.assign_supplier(db, widget.sku, "ACME")
        stock.assign_supplier(db, widget.sku, None)
        assert stock.product(db, widget.sku).supplier_id is None

    def test_an_unknown_supplier(self, db, suppliers, widget):
        with pytest.raises(stock.UnknownSupplier):
            stock.assign_supplier(db, widget.sku, "ZZZZ")
        assert stock.product(db, widget.sku).supplier_id is None

    def test_an_unknown_product(self, db, suppliers):
        with pytest.raises(stock.UnknownSku):
            stock.assign_supplier(db, "NOP-0000", "ACME")

    @pytest.mark.parametrize("code", sorted(SUPPLIERS))
    def test_each_supplier_takes_products(self, db, suppliers, code):
        for i in range(3):
            stock.add_product(db, f"{code[:3]}-000{i}", f"{code} part {i}", 10, supplier=code)
        assert db.scalar("SELECT COUNT(*) FROM products WHERE supplier_id = ?", (suppliers[code],)) == 3


class TestSupplierRules:
    """What the database holds suppliers to."""

    def test_codes_are_unique(self, db, suppliers):
        with pytest.raises(IntegrityError):
            stock.add_supplier(db, "ACME", "Acme again", 1)
        assert db.scalar("SELECT COUNT(*) FROM suppliers") == 3

    def test_lead_times_are_not_negative(self, db, suppliers):
        with pytest.raises(IntegrityError):
            stock.add_supplier(db, "NEGA", "Negative", -1)

    def test_a_product_cannot_point_at_a_missing_supplier(self, db, suppliers):
        missing = max(suppliers.values()) + 1000
        with pytest.raises(IntegrityError):
            db.execute(
                "INSERT INTO products (sku, name, unit_price_cents, supplier_id) VALUES (?, ?, ?, ?)",
                ("ORP-0001", "Orphan", 1, missing),
            )

    def test_a_supplier_of_our_own_comes_and_goes(self, db, suppliers, widget):
        own = stock.add_supplier(db, "TEMP", "Temporary", 0)
        stock.assign_supplier(db, widget.sku, "TEMP")
        db.execute("DELETE FROM suppliers WHERE id = ?", (own,))
        assert stock.product(db, widget.sku).supplier_id is None
        assert db.scalar("SELECT COUNT(*) FROM suppliers") == 3


class TestLeadTimes:
    """Suppliers by how long they take."""

    def test_slowest_first_with_their_products(self, db, suppliers):
        stock.add_product(db, "SAW-0001", "Saw", 2500, supplier="CRAN")
        stock.add_product(db, "BOL-0001", "Bolt", 10, supplier="BOLT")
        stock.add_product(db, "NUT-0001", "Nut", 5, supplier="BOLT")
        assert reports.supplier_lead_times(db) == [
            ("CRAN", 21, ["SAW-0001"]),
            ("BOLT", 10, ["BOL-0001", "NUT-0001"]),
            ("ACME", 3, []),
        ]

    def test_without_products(self, db, suppliers):
        assert [(code, days) for code, days, _ in reports.supplier_lead_times(db)] == [
            ("CRAN", 21),
            ("BOLT", 10),
            ("ACME", 3),
        ]

    @pytest.mark.parametrize(("code", "days"), [(code, days) for code, (_, days) in SUPPLIERS.items()])
    def test_each_lead_time_as_stored(self, db, suppliers, code, days):
        assert db.scalar("SELECT lead_time_days FROM suppliers WHERE code = ?", (code,)) == days
