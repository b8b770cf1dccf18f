"""The schema the migrations make: what the database itself refuses."""

import pytest

from inventory import IntegrityError

TABLES = ["movements", "products", "reservations", "stock", "suppliers", "transfers", "warehouses"]


@pytest.mark.parametrize("table", TABLES)
def test_every_table_exists(db, table):
    assert db.scalar(f"SELECT COUNT(*) FROM {table} WHERE 1 = 0") == 0


@pytest.mark.parametrize("table", [t for t in TABLES if t not in ("warehouses", "suppliers")])
def test_mutable_tables_start_empty(db, table):
    assert db.scalar(f"SELECT COUNT(*) FROM {table}") == 0


@pytest.mark.parametrize(("code", "city"), [("AMS", "Amsterdam"), ("BER", "Berlin"), ("LIS", "Lisbon")])
def test_seeded_warehouses(db, code, city):
    assert db.scalar("SELECT city FROM warehouses WHERE code = ?", (code,)) == city


@pytest.mark.parametrize("code", ["AM", "AMST", ""])
def test_warehouse_codes_have_three_letters(db, code):
    with pytest.raises(IntegrityError):
        db.execute("INSERT INTO warehouses (code, name, city) VALUES (?, ?, ?)", (code, "Bad", "Nowhere"))
    assert db.scalar("SELECT COUNT(*) FROM warehouses") == 3


def test_a_warehouse_with_stock_cannot_be_deleted(db, widget, warehouse_ids):
    db.execute("INSERT INTO stock (warehouse_id, product_id, quantity) VALUES (?, ?, ?)", (warehouse_ids["LIS"], widget.id, 1))
    with pytest.raises(IntegrityError):
        db.execute("DELETE FROM warehouses WHERE code = 'LIS'")
    assert db.scalar("SELECT COUNT(*) FROM warehouses") == 3


@pytest.fixture
def stock_row(db, widget, warehouse_ids):
    def insert(**values):
        row = {"warehouse_id": warehouse_ids["AMS"], "product_id": widget.id, "quantity": 1, **values}
        db.execute(f"INSERT INTO stock ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    return insert


def test_a_stock_row_per_product_and_warehouse(db, stock_row):
    stock_row()
    with pytest.raises(IntegrityError):
        stock_row(quantity=5)
    assert db.scalar("SELECT quantity FROM stock") == 1


@pytest.mark.parametrize("quantity", [-1, -100])
def test_stock_is_never_negative(db, stock_row, quantity):
    with pytest.raises(IntegrityError):
        stock_row(quantity=quantity)


def test_stock_of_a_missing_product(db, stock_row, widget):
    with pytest.raises(IntegrityError):
        stock_row(product_id=widget.id + 1000)


def test_stock_in_a_missing_warehouse(db, stock_row, warehouse_ids):
    with pytest.raises(IntegrityError):
        stock_row(warehouse_id=max(warehouse_ids.values()) + 1000)


@pytest.fixture
def movement(db, widget, warehouse_ids):
    def insert(**values):
        row = {
            "product_id": widget.id,
            "warehouse_id": warehouse_ids["BER"],
            "delta": 1,
            "reason": "receive",
            "reference": "DN-S",
            **values,
        }
        db.execute(f"INSERT INTO movements ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    return insert


@pytest.mark.parametrize("reason", ["receive", "ship", "transfer_in", "transfer_out", "adjust"])
def test_movement_reasons(db, movement, reason):
    movement(reason=reason)
    assert db.scalar("SELECT reason FROM movements") == reason


@pytest.mark.parametrize(("column", "value"), [("reason", "theft"), ("reason", "RECEIVE"), ("delta", 0)])
def test_movements_are_checked(db, movement, column, value):
    with pytest.raises(IntegrityError):
        movement(**{column: value})
    assert db.scalar("SELECT COUNT(*) FROM movements") == 0


def test_a_reference_is_booked_once_per_reason_product_and_warehouse(db, movement, warehouse_ids):
    movement()
    movement(reason="ship", delta=-1)
    movement(warehouse_id=warehouse_ids["AMS"])
    with pytest.raises(IntegrityError):
        movement(delta=5)
    assert db.scalar("SELECT COUNT(*) FROM movements") == 3


def test_movements_get_a_timestamp(db, movement):
    movement()
    assert db.scalar("SELECT created_at FROM movements") is not None


def test_deleting_a_product_cascades(db, movement, stock_row, widget):
    movement()
    stock_row()
    db.execute("DELETE FROM products WHERE id = ?", (widget.id,))
    assert [db.scalar(f"SELECT COUNT(*) FROM {t}") for t in ("movements", "stock")] == [0, 0]


@pytest.mark.parametrize(
    ("column", "value"), [("unit_price_cents", -1), ("reorder_level", -1), ("pack_size", 0), ("sku", None), ("name", None)]
)
def test_products_are_checked(db, column, value):
    row = {"sku": "CHK-0001", "name": "Checked", "unit_price_cents": 1, "reorder_level": 0, "pack_size": 1, column: value}
    with pytest.raises(IntegrityError):
        db.execute(f"INSERT INTO products ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    assert db.scalar("SELECT COUNT(*) FROM products") == 0
