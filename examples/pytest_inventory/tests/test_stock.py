"""Receiving, shipping, transfers and stocktakes."""

import pytest

from inventory import stock


class TestReceive:
    """Deliveries add up, and are booked once."""

    def test_deliveries_add_up(self, db, widget):
        assert stock.receive(db, widget.sku, "AMS", 40, "DN-1") == 40
        assert stock.receive(db, widget.sku, "AMS", 2, "DN-2") == 42
        assert stock.quantity(db, widget.sku, "BER") == 0

    @pytest.mark.parametrize("units", [1, 7, 250])
    def test_received_units_are_on_hand(self, db, widget, units):
        stock.receive(db, widget.sku, "LIS", units, "DN-P")
        assert stock.quantity(db, widget.sku, "LIS") == units
        assert stock.total_quantity(db, widget.sku) == units

    def test_a_delivery_note_is_booked_once(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 10, "DN-7")
        with pytest.raises(stock.DuplicateReference):
            stock.receive(db, widget.sku, "AMS", 10, "DN-7")
        assert stock.quantity(db, widget.sku, "AMS") == 10
        assert db.scalar("SELECT COUNT(*) FROM movements") == 1

    def test_unknown_warehouse_books_nothing(self, db, widget):
        with pytest.raises(stock.UnknownWarehouse):
            stock.receive(db, widget.sku, "XXX", 1, "DN-8")
        assert db.scalar("SELECT COUNT(*) FROM movements") == 0

    def test_zero_units_are_no_delivery(self, db, widget):
        with pytest.raises(ValueError):
            stock.receive(db, widget.sku, "AMS", 0, "DN-9")


class TestShip:
    """Orders take units out, never more than there are."""

    @pytest.fixture(autouse=True)
    def stocked(self, db, widget):
        stock.receive(db, widget.sku, "BER", 12, "DN-100")

    @pytest.mark.parametrize(("order", "left"), [(1, 11), (5, 7), (12, 0)])
    def test_shipping_leaves_the_rest(self, db, widget, order, left):
        assert stock.ship(db, widget.sku, "BER", order, "SO-1") == left
        assert stock.quantity(db, widget.sku, "BER") == left

    def test_shipping_more_than_on_hand_is_refused_and_books_nothing(self, db, widget):
        with pytest.raises(stock.InsufficientStock) as refused:
            stock.ship(db, widget.sku, "BER", 13, "SO-2")
        assert (refused.value.available, refused.value.requested) == (12, 13)
        assert stock.quantity(db, widget.sku, "BER") == 12
        assert stock.movements(db, widget.sku) == [("BER", 12, "receive", "DN-100")]

    def test_an_order_ships_once(self, db, widget):
        stock.ship(db, widget.sku, "BER", 2, "SO-3")
        with pytest.raises(stock.DuplicateReference):
            stock.ship(db, widget.sku, "BER", 2, "SO-3")
        assert stock.quantity(db, widget.sku, "BER") == 10


class TestTransfer:
    """Transfers move units between warehouses, all or nothing."""

    @pytest.fixture(autouse=True)
    def stocked(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 30, "DN-200")

    def test_transfer_moves_units_and_books_both_sides(self, db, widget):
        stock.transfer(db, widget.sku, "AMS", "LIS", 12, "TR-1")
        assert (stock.quantity(db, widget.sku, "AMS"), stock.quantity(db, widget.sku, "LIS")) == (18, 12)
        assert stock.movements(db, widget.sku)[1:] == [
            ("AMS", -12, "transfer_out", "TR-1"),
            ("LIS", 12, "transfer_in", "TR-1"),
        ]

    def test_a_failed_transfer_changes_nothing(self, db, widget):
        with pytest.raises(stock.InsufficientStock):
            stock.transfer(db, widget.sku, "AMS", "BER", 31, "TR-2")
        assert stock.quantity(db, widget.sku, "AMS") == 30
        assert stock.quantity(db, widget.sku, "BER") == 0
        assert db.scalar("SELECT COUNT(*) FROM movements") == 1

    def test_transfer_to_an_unknown_warehouse_rolls_back(self, db, widget):
        with pytest.raises(stock.UnknownWarehouse):
            stock.transfer(db, widget.sku, "AMS", "ZZZ", 5, "TR-3")
        assert stock.quantity(db, widget.sku, "AMS") == 30

    def test_no_transfer_within_one_warehouse(self, db, widget):
        with pytest.raises(ValueError):
            stock.transfer(db, widget.sku, "AMS", "AMS", 1, "TR-4")


class TestStocktake:
    """A count sets the quantity and books the difference."""

    @pytest.mark.parametrize(("counted", "difference"), [(25, 5), (17, -3), (20, 0)])
    def test_count_books_the_difference(self, db, widget, counted, difference):
        stock.receive(db, widget.sku, "BER", 20, "DN-300")
        assert stock.stocktake(db, widget.sku, "BER", counted, "ST-1") == difference
        assert stock.quantity(db, widget.sku, "BER") == counted
        adjustments = [m for m in stock.movements(db, widget.sku) if m[2] == "adjust"]
        assert adjustments == ([("BER", difference, "adjust", "ST-1")] if difference else [])
