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


@pytest.mark.parametrize("sku", ["ABC-0000", "ZZZ-9999", "BOL-1234", "NUT-0042", "SAW-2500", "GLU-0007"])
def test_well_formed_skus_are_stored(db, sku):
    stock.add_product(db, sku, "Part", 100)
    assert stock.product(db, sku).sku == sku
    assert db.scalar("SELECT COUNT(*) FROM products") == 1


@pytest.mark.parametrize("sku", ["ABC-12345", "AB-1234", "ABC_1234", " ABC-1234", "ABC-1234 ", "abc-1234", "ÄBC-1234"])
def test_more_malformed_skus(db, sku):
    with pytest.raises(ValueError):
        stock.add_product(db, sku, "Bad", 1)
    assert stock.products(db) == []


class TestPrices:
    """Prices change; they never go below zero."""

    @pytest.mark.parametrize("cents", [0, 1, 99, 250, 1_000_000])
    def test_a_new_price_reads_back(self, db, widget, cents):
        assert stock.set_price(db, widget.sku, cents).unit_price_cents == cents

    def test_a_negative_price_is_refused_and_the_old_one_stays(self, db, widget):
        with pytest.raises(IntegrityError):
            stock.set_price(db, widget.sku, -5)
        assert stock.product(db, widget.sku).unit_price_cents == 250

    def test_pricing_an_unknown_sku(self, db):
        with pytest.raises(stock.UnknownSku):
            stock.set_price(db, "NOP-0001", 10)

    def test_a_new_price_changes_the_stock_value(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 4, "DN-1")
        stock.set_price(db, widget.sku, 300)
        assert stock.stock_value(db, "AMS") == 1200


class TestProductFields:
    """Reorder levels, pack sizes, names."""

    def test_defaults(self, db):
        p = stock.add_product(db, "DEF-0001", "Defaults", 10)
        assert (p.reorder_level, p.pack_size, p.supplier_id) == (0, 1, None)
        assert stock.product(db, "DEF-0001") == p

    @pytest.mark.parametrize("pack", [1, 6, 12, 100])
    def test_pack_sizes(self, db, pack):
        stock.add_product(db, "PAK-0001", "Packed", 10, pack_size=pack)
        assert stock.product(db, "PAK-0001").pack_size == pack

    @pytest.mark.parametrize("pack", [0, -1, -12])
    def test_pack_size_must_be_positive(self, db, pack):
        with pytest.raises(IntegrityError):
            stock.add_product(db, "PAK-0002", "Packed", 10, pack_size=pack)
        assert db.scalar("SELECT COUNT(*) FROM products") == 0

    def test_negative_reorder_level_is_refused(self, db):
        with pytest.raises(IntegrityError):
            stock.add_product(db, "REO-0001", "Reorder", 10, reorder_level=-1)

    def test_names_keep_their_characters(self, db):
        stock.add_product(db, "UNI-0001", "Schraube M6 – verzinkt, 50 Stück", 10)
        assert stock.product(db, "UNI-0001").name == "Schraube M6 – verzinkt, 50 Stück"

    def test_an_unknown_supplier_is_refused_before_the_insert(self, db):
        with pytest.raises(stock.UnknownSupplier):
            stock.add_product(db, "SUP-0001", "Supplied", 10, supplier="NOPE")
        assert stock.products(db) == []


class TestRemoveProduct:
    """Removing a product takes its stock and history with it."""

    def test_stock_and_movements_go_too(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 5, "DN-1")
        stock.receive(db, widget.sku, "BER", 5, "DN-1")
        stock.remove_product(db, widget.sku)
        assert [db.scalar(f"SELECT COUNT(*) FROM {t}") for t in ("products", "stock", "movements")] == [0, 0, 0]

    def test_other_products_stay(self, db, widget):
        stock.add_product(db, "KEE-0001", "Keeper", 5)
        stock.receive(db, "KEE-0001", "LIS", 3, "DN-1")
        stock.remove_product(db, widget.sku)
        assert [p.sku for p in stock.products(db)] == ["KEE-0001"]
        assert stock.quantity(db, "KEE-0001", "LIS") == 3

    def test_removing_an_unknown_sku(self, db):
        with pytest.raises(stock.UnknownSku):
            stock.remove_product(db, "NOP-0002")

    def test_the_sku_can_be_used_again(self, db, widget):
        stock.remove_product(db, widget.sku)
        again = stock.add_product(db, widget.sku, "Widget II", 260)
        assert stock.product(db, widget.sku) == again
        assert stock.quantity(db, widget.sku, "AMS") == 0


def test_product_ids_increase(db):
    ids = [stock.add_product(db, f"SEQ-000{i}", "Seq", 1).id for i in range(1, 4)]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_warehouse_ids_are_read_once_per_session(db, warehouse_ids):
    assert sorted(warehouse_ids) == ["AMS", "BER", "LIS"]
    assert stock.warehouse_id(db, "BER") == warehouse_ids["BER"]
