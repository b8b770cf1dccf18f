"""Stock reserved for orders: reserve, fulfil, release."""

import pytest

from inventory import IntegrityError, orders, stock


@pytest.fixture
def stocked(db, widget):
    """20 widgets in Amsterdam, 5 in Berlin."""
    stock.receive(db, widget.sku, "AMS", 20, "DN-1")
    stock.receive(db, widget.sku, "BER", 5, "DN-1")
    return db


class TestReserve:
    """Reserving takes units out of what is available, not off the shelf."""

    def test_reserved_units_stay_on_hand(self, stocked, widget):
        assert orders.reserve(stocked, "SO-1", widget.sku, "AMS", 8) == 12
        assert stock.quantity(stocked, widget.sku, "AMS") == 20
        assert orders.available(stocked, widget.sku, "AMS") == 12

    @pytest.mark.parametrize(("units", "left"), [(1, 19), (10, 10), (19, 1), (20, 0)])
    def test_what_is_left_available(self, stocked, widget, units, left):
        assert orders.reserve(stocked, "SO-P", widget.sku, "AMS", units) == left
        assert orders.available(stocked, widget.sku, "AMS") == left

    def test_more_than_available_is_refused(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "AMS", 15)
        with pytest.raises(stock.InsufficientStock) as refused:
            orders.reserve(stocked, "SO-2", widget.sku, "AMS", 6)
        assert (refused.value.available, refused.value.requested) == (5, 6)
        assert orders.lines(stocked, "SO-2") == []

    def test_reservations_are_per_warehouse(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "AMS", 20)
        assert orders.reserve(stocked, "SO-1", widget.sku, "BER", 5) == 0
        assert orders.reserved(stocked, widget.sku) == {"AMS": 20, "BER": 5}

    def test_an_order_reserves_a_product_once_per_warehouse(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "AMS", 1)
        with pytest.raises(orders.DuplicateReservation):
            orders.reserve(stocked, "SO-1", widget.sku, "AMS", 1)
        assert orders.reserved(stocked, widget.sku) == {"AMS": 1}

    @pytest.mark.parametrize("units", [0, -3])
    def test_non_positive_units_are_refused(self, stocked, widget, units):
        with pytest.raises(ValueError):
            orders.reserve(stocked, "SO-1", widget.sku, "AMS", units)

    def test_nothing_on_hand_nothing_to_reserve(self, stocked, widget):
        with pytest.raises(stock.InsufficientStock):
            orders.reserve(stocked, "SO-1", widget.sku, "LIS", 1)

    def test_unknown_sku_and_warehouse(self, stocked, widget):
        with pytest.raises(stock.UnknownSku):
            orders.reserve(stocked, "SO-1", "NOP-0000", "AMS", 1)
        with pytest.raises(stock.UnknownWarehouse):
            orders.reserve(stocked, "SO-1", widget.sku, "OSL", 1)
        assert stocked.scalar("SELECT COUNT(*) FROM reservations") == 0

    def test_reserved_units_cannot_be_shipped_to_others(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "BER", 4)
        with pytest.raises(stock.InsufficientStock) as refused:
            stock.ship(stocked, widget.sku, "BER", 2, "SO-OTHER")
        assert refused.value.available == 1
        assert stock.ship(stocked, widget.sku, "BER", 1, "SO-OTHER") == 4

    def test_reserved_units_cannot_be_transferred(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "AMS", 18)
        with pytest.raises(stock.InsufficientStock):
            stock.transfer(stocked, widget.sku, "AMS", "LIS", 3, "TR-1")
        stock.transfer(stocked, widget.sku, "AMS", "LIS", 2, "TR-1")
        assert orders.available(stocked, widget.sku, "AMS") == 0

    def test_the_database_refuses_a_second_line(self, stocked, widget, warehouse_ids):
        stocked.execute(
            "INSERT INTO reservations (product_id, warehouse_id, order_ref, units) VALUES (?, ?, ?, ?)",
            (widget.id, warehouse_ids["AMS"], "SO-DB", 1),
        )
        with pytest.raises(IntegrityError):
            stocked.execute(
                "INSERT INTO reservations (product_id, warehouse_id, order_ref, units) VALUES (?, ?, ?, ?)",
                (widget.id, warehouse_ids["AMS"], "SO-DB", 2),
            )


class TestFulfil:
    """Fulfilling ships every open line of an order."""

    @pytest.fixture(autouse=True)
    def order(self, stocked, widget):
        stock.add_product(stocked, "NUT-0001", "Nut", 5)
        stock.receive(stocked, "NUT-0001", "AMS", 100, "DN-2")
        orders.reserve(stocked, "SO-9", widget.sku, "AMS", 3)
        orders.reserve(stocked, "SO-9", widget.sku, "BER", 2)
        orders.reserve(stocked, "SO-9", "NUT-0001", "AMS", 30)

    def test_every_line_ships(self, db, widget):
        assert orders.fulfil(db, "SO-9") == 35
        assert (stock.quantity(db, widget.sku, "AMS"), stock.quantity(db, widget.sku, "BER")) == (17, 3)
        assert stock.quantity(db, "NUT-0001", "AMS") == 70

    def test_lines_are_marked_fulfilled(self, db, widget):
        orders.fulfil(db, "SO-9")
        assert [line[3] for line in orders.lines(db, "SO-9")] == ["fulfilled"] * 3
        assert orders.reserved(db, widget.sku) == {}

    def test_shipments_are_booked_under_the_order(self, db, widget):
        orders.fulfil(db, "SO-9")
        assert db.all("SELECT reason, reference, delta FROM movements WHERE reason = 'ship' ORDER BY delta") == [
            ("ship", "SO-9", -30),
            ("ship", "SO-9", -3),
            ("ship", "SO-9", -2),
        ]

    def test_fulfilling_twice_is_refused(self, db):
        orders.fulfil(db, "SO-9")
        with pytest.raises(orders.UnknownOrder):
            orders.fulfil(db, "SO-9")

    def test_an_unknown_order(self, db):
        with pytest.raises(orders.UnknownOrder):
            orders.fulfil(db, "SO-NONE")

    def test_a_short_shelf_fails_the_whole_order(self, db, widget):
        # A stocktake found fewer nuts than were reserved.
        db.execute("UPDATE stock SET quantity = 10 WHERE product_id = (SELECT id FROM products WHERE sku = 'NUT-0001')")
        with pytest.raises(stock.InsufficientStock):
            orders.fulfil(db, "SO-9")
        assert stock.quantity(db, widget.sku, "AMS") == 20
        assert [line[3] for line in orders.lines(db, "SO-9")] == ["open"] * 3
        assert db.scalar("SELECT COUNT(*) FROM movements WHERE reason = 'ship'") == 0

    def test_available_after_fulfilment(self, db, widget):
        orders.fulfil(db, "SO-9")
        assert orders.available(db, widget.sku, "AMS") == 17

    def test_other_orders_are_untouched(self, db, widget):
        orders.reserve(db, "SO-10", widget.sku, "AMS", 4)
        orders.fulfil(db, "SO-9")
        assert orders.lines(db, "SO-10") == [(widget.sku, "AMS", 4, "open")]
        assert orders.available(db, widget.sku, "AMS") == 13


class TestRelease:
    """Releasing gives reserved units back."""

    @pytest.fixture(autouse=True)
    def order(self, stocked, widget):
        orders.reserve(stocked, "SO-5", widget.sku, "AMS", 12)
        orders.reserve(stocked, "SO-5", widget.sku, "BER", 5)

    def test_units_are_available_again(self, db, widget):
        assert orders.release(db, "SO-5") == 17
        assert orders.available(db, widget.sku, "AMS") == 20
        assert orders.available(db, widget.sku, "BER") == 5

    def test_nothing_moves(self, db, widget):
        orders.release(db, "SO-5")
        assert db.scalar("SELECT COUNT(*) FROM movements") == 2

    def test_a_released_order_cannot_be_fulfilled(self, db):
        orders.release(db, "SO-5")
        with pytest.raises(orders.UnknownOrder):
            orders.fulfil(db, "SO-5")

    def test_releasing_twice_is_refused(self, db):
        orders.release(db, "SO-5")
        with pytest.raises(orders.UnknownOrder):
            orders.release(db, "SO-5")

    def test_the_order_may_reserve_again_elsewhere(self, db, widget):
        orders.release(db, "SO-5")
        stock.receive(db, widget.sku, "LIS", 3, "DN-L")
        orders.reserve(db, "SO-5", widget.sku, "LIS", 3)
        assert [line[1:] for line in orders.lines(db, "SO-5")] == [
            ("AMS", 12, "released"),
            ("BER", 5, "released"),
            ("LIS", 3, "open"),
        ]

    def test_released_units_can_be_shipped_to_another_order(self, db, widget):
        orders.release(db, "SO-5")
        assert stock.ship(db, widget.sku, "BER", 5, "SO-6") == 0


@pytest.mark.parametrize("split", [[20], [10, 10], [5, 5, 5, 5], [1, 2, 3, 4, 10], [19, 1]])
def test_many_orders_share_the_shelf(stocked, widget, split):
    for i, units in enumerate(split):
        orders.reserve(stocked, f"SO-{i}", widget.sku, "AMS", units)
    assert orders.available(stocked, widget.sku, "AMS") == 0
    with pytest.raises(stock.InsufficientStock):
        orders.reserve(stocked, "SO-LATE", widget.sku, "AMS", 1)
    for i in range(len(split)):
        orders.fulfil(stocked, f"SO-{i}")
    assert stock.quantity(stocked, widget.sku, "AMS") == 0
    assert stocked.scalar("SELECT COUNT(*) FROM reservations WHERE status = 'fulfilled'") == len(split)


@pytest.mark.parametrize("status", ["open", "fulfilled", "released"])
def test_known_statuses(db, widget, warehouse_ids, status):
    db.execute(
        "INSERT INTO reservations (product_id, warehouse_id, order_ref, units, status) VALUES (?, ?, ?, ?, ?)",
        (widget.id, warehouse_ids["LIS"], "SO-S", 1, status),
    )
    assert db.scalar("SELECT status FROM reservations") == status


@pytest.mark.parametrize(("column", "value"), [("status", "lost"), ("status", "OPEN"), ("units", 0), ("units", -1)])
def test_the_database_checks_reservations(db, widget, warehouse_ids, column, value):
    row = {"product_id": widget.id, "warehouse_id": warehouse_ids["LIS"], "order_ref": "SO-C", "units": 1, "status": "open"}
    row[column] = value
    with pytest.raises(IntegrityError):
        db.execute(
            f"INSERT INTO reservations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
    assert db.scalar("SELECT COUNT(*) FROM reservations") == 0
