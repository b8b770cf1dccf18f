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


WAREHOUSES = ["AMS", "BER", "LIS"]


@pytest.mark.parametrize("warehouse", WAREHOUSES)
@pytest.mark.parametrize("units", [1, 3, 40, 1000])
def test_receiving_at_each_warehouse(db, widget, warehouse, units):
    assert stock.receive(db, widget.sku, warehouse, units, "DN-W") == units
    assert {w: stock.quantity(db, widget.sku, w) for w in WAREHOUSES} == {
        w: (units if w == warehouse else 0) for w in WAREHOUSES
    }
    assert stock.movements(db, widget.sku) == [(warehouse, units, "receive", "DN-W")]


@pytest.mark.parametrize(("source", "destination"), [(a, b) for a in WAREHOUSES for b in WAREHOUSES if a != b])
class TestTransferBetweenEveryPair:
    """Every ordered pair of warehouses."""

    @pytest.fixture(autouse=True)
    def stocked(self, db, widget, source):
        stock.receive(db, widget.sku, source, 20, "DN-PAIR")

    def test_units_arrive(self, db, widget, source, destination):
        stock.transfer(db, widget.sku, source, destination, 8, "TR-PAIR")
        assert (stock.quantity(db, widget.sku, source), stock.quantity(db, widget.sku, destination)) == (12, 8)
        assert stock.total_quantity(db, widget.sku) == 20

    def test_everything_can_move(self, db, widget, source, destination):
        stock.transfer(db, widget.sku, source, destination, 20, "TR-ALL")
        assert stock.quantity(db, widget.sku, source) == 0
        assert db.scalar("SELECT COUNT(*) FROM stock WHERE quantity > 0") == 1

    def test_a_transfer_reference_is_booked_once(self, db, widget, source, destination):
        stock.transfer(db, widget.sku, source, destination, 1, "TR-ONCE")
        with pytest.raises(stock.DuplicateReference):
            stock.transfer(db, widget.sku, source, destination, 1, "TR-ONCE")
        assert stock.quantity(db, widget.sku, destination) == 1


class TestTotals:
    """Quantities across warehouses."""

    def test_total_over_warehouses(self, db, widget):
        for units, warehouse in ((5, "AMS"), (7, "BER"), (11, "LIS")):
            stock.receive(db, widget.sku, warehouse, units, "DN-T")
        assert stock.total_quantity(db, widget.sku) == 23

    def test_never_stocked_total_is_zero(self, db, widget):
        assert stock.total_quantity(db, widget.sku) == 0
        assert stock.total_quantity(db, "NOP-0000") == 0

    def test_shipping_everything_keeps_a_zero_row(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 3, "DN-Z")
        stock.ship(db, widget.sku, "AMS", 3, "SO-Z")
        assert db.all("SELECT quantity FROM stock") == [(0,)]
        assert stock.total_quantity(db, widget.sku) == 0

    @pytest.mark.parametrize("deliveries", [1, 2, 5, 10])
    def test_many_deliveries_add_up(self, db, widget, deliveries):
        for i in range(deliveries):
            stock.receive(db, widget.sku, "BER", i + 1, f"DN-{i}")
        assert stock.quantity(db, widget.sku, "BER") == deliveries * (deliveries + 1) // 2
        assert db.scalar("SELECT COUNT(*) FROM movements") == deliveries


class TestShipMore:
    """More about orders."""

    @pytest.fixture(autouse=True)
    def stocked(self, db, widget):
        stock.receive(db, widget.sku, "LIS", 6, "DN-500")

    @pytest.mark.parametrize("units", [0, -1])
    def test_non_positive_orders_are_refused(self, db, widget, units):
        with pytest.raises(ValueError):
            stock.ship(db, widget.sku, "LIS", units, "SO-0")
        assert stock.quantity(db, widget.sku, "LIS") == 6

    def test_shipping_from_an_empty_warehouse(self, db, widget):
        with pytest.raises(stock.InsufficientStock) as refused:
            stock.ship(db, widget.sku, "AMS", 1, "SO-E")
        assert refused.value.available == 0

    def test_shipping_an_unknown_sku(self, db):
        with pytest.raises(stock.UnknownSku):
            stock.ship(db, "NOP-0000", "LIS", 1, "SO-U")

    def test_several_orders_in_a_row(self, db, widget):
        left = [stock.ship(db, widget.sku, "LIS", 2, f"SO-{i}") for i in range(3)]
        assert left == [4, 2, 0]
        with pytest.raises(stock.InsufficientStock):
            stock.ship(db, widget.sku, "LIS", 1, "SO-3")

    def test_one_order_may_ship_from_two_warehouses(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 6, "DN-501")
        stock.ship(db, widget.sku, "LIS", 6, "SO-SPLIT")
        stock.ship(db, widget.sku, "AMS", 1, "SO-SPLIT")
        assert stock.total_quantity(db, widget.sku) == 5

    def test_history_in_booking_order(self, db, widget):
        stock.ship(db, widget.sku, "LIS", 1, "SO-A")
        stock.receive(db, widget.sku, "LIS", 2, "DN-502")
        stock.ship(db, widget.sku, "LIS", 3, "SO-B")
        assert [m[1] for m in stock.movements(db, widget.sku)] == [6, -1, 2, -3]


class TestStocktakeMore:
    """Counts in edge cases."""

    def test_counting_a_never_stocked_product(self, db, widget):
        assert stock.stocktake(db, widget.sku, "AMS", 4, "ST-N") == 4
        assert stock.quantity(db, widget.sku, "AMS") == 4

    def test_counting_zero_empties_the_shelf(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 9, "DN-1")
        assert stock.stocktake(db, widget.sku, "AMS", 0, "ST-0") == -9
        assert stock.quantity(db, widget.sku, "AMS") == 0

    def test_a_negative_count_is_refused(self, db, widget):
        with pytest.raises(ValueError):
            stock.stocktake(db, widget.sku, "AMS", -1, "ST-X")

    def test_a_count_reference_is_booked_once_per_warehouse(self, db, widget):
        stock.stocktake(db, widget.sku, "AMS", 3, "ST-1")
        stock.stocktake(db, widget.sku, "BER", 3, "ST-1")
        with pytest.raises(stock.DuplicateReference):
            stock.stocktake(db, widget.sku, "AMS", 5, "ST-1")
        assert stock.quantity(db, widget.sku, "AMS") == 3

    def test_a_matching_count_books_nothing(self, db, widget):
        stock.receive(db, widget.sku, "AMS", 2, "DN-1")
        stock.stocktake(db, widget.sku, "AMS", 2, "ST-M")
        stock.stocktake(db, widget.sku, "AMS", 2, "ST-M")
        assert db.scalar("SELECT COUNT(*) FROM movements WHERE reason = 'adjust'") == 0
