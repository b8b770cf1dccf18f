"""Transfers in transit: dispatched, then arrived or cancelled."""

import pytest

from inventory import IntegrityError, orders, stock, transit


@pytest.fixture
def stocked(db, widget):
    stock.receive(db, widget.sku, "AMS", 50, "DN-1")
    return db


class TestDispatch:
    """Dispatching takes units out of the source at once."""

    def test_units_leave_the_source(self, stocked, widget):
        assert transit.dispatch(stocked, widget.sku, "AMS", "LIS", 20, "TR-1") == 30
        assert stock.quantity(stocked, widget.sku, "AMS") == 30
        assert stock.quantity(stocked, widget.sku, "LIS") == 0

    def test_units_are_in_transit(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "LIS", 20, "TR-1")
        transit.dispatch(stocked, widget.sku, "AMS", "BER", 5, "TR-2")
        assert transit.in_transit(stocked, widget.sku) == {"BER": 5, "LIS": 20}
        assert transit.status(stocked, "TR-1") == "in_transit"

    def test_in_transit_units_are_not_on_hand_anywhere(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "BER", 15, "TR-1")
        assert stock.total_quantity(stocked, widget.sku) == 35

    def test_the_dispatch_is_booked(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "LIS", 20, "TR-1")
        assert stock.movements(stocked, widget.sku)[-1] == ("AMS", -20, "transfer_out", "TR-1")

    def test_more_than_on_hand_is_refused_and_nothing_is_written(self, stocked, widget):
        with pytest.raises(stock.InsufficientStock):
            transit.dispatch(stocked, widget.sku, "AMS", "LIS", 51, "TR-1")
        assert stocked.scalar("SELECT COUNT(*) FROM transfers") == 0
        assert stock.quantity(stocked, widget.sku, "AMS") == 50

    def test_reserved_units_do_not_travel(self, stocked, widget):
        orders.reserve(stocked, "SO-1", widget.sku, "AMS", 45)
        with pytest.raises(stock.InsufficientStock):
            transit.dispatch(stocked, widget.sku, "AMS", "LIS", 6, "TR-1")
        assert transit.dispatch(stocked, widget.sku, "AMS", "LIS", 5, "TR-1") == 45

    def test_a_reference_is_used_once(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "LIS", 1, "TR-1")
        with pytest.raises(stock.DuplicateReference):
            transit.dispatch(stocked, widget.sku, "AMS", "BER", 1, "TR-1")
        assert stock.quantity(stocked, widget.sku, "AMS") == 49

    def test_same_warehouse_is_refused(self, stocked, widget):
        with pytest.raises(ValueError):
            transit.dispatch(stocked, widget.sku, "AMS", "AMS", 1, "TR-1")

    @pytest.mark.parametrize("units", [0, -5])
    def test_non_positive_units_are_refused(self, stocked, widget, units):
        with pytest.raises(ValueError):
            transit.dispatch(stocked, widget.sku, "AMS", "LIS", units, "TR-1")

    def test_unknown_destination_books_nothing(self, stocked, widget):
        with pytest.raises(stock.UnknownWarehouse):
            transit.dispatch(stocked, widget.sku, "AMS", "OSL", 1, "TR-1")
        assert len(stock.movements(stocked, widget.sku)) == 1


class TestArrive:
    """Arrival books the units in at the destination."""

    @pytest.fixture(autouse=True)
    def on_the_road(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "LIS", 20, "TR-7")

    def test_units_arrive(self, db, widget):
        assert transit.arrive(db, "TR-7") == 20
        assert transit.status(db, "TR-7") == "arrived"
        assert transit.in_transit(db, widget.sku) == {}

    def test_totals_are_whole_again(self, db, widget):
        transit.arrive(db, "TR-7")
        assert stock.total_quantity(db, widget.sku) == 50

    def test_arrival_is_booked(self, db, widget):
        transit.arrive(db, "TR-7")
        assert stock.movements(db, widget.sku)[-2:] == [
            ("AMS", -20, "transfer_out", "TR-7"),
            ("LIS", 20, "transfer_in", "TR-7"),
        ]

    def test_arriving_twice_is_refused(self, db, widget):
        transit.arrive(db, "TR-7")
        with pytest.raises(transit.TransferClosed):
            transit.arrive(db, "TR-7")
        assert stock.quantity(db, widget.sku, "LIS") == 20

    def test_an_unknown_transfer(self, db):
        with pytest.raises(transit.UnknownTransfer):
            transit.arrive(db, "TR-404")
        with pytest.raises(transit.UnknownTransfer):
            transit.status(db, "TR-404")

    def test_arrival_adds_to_what_was_there(self, db, widget):
        stock.receive(db, widget.sku, "LIS", 4, "DN-2")
        assert transit.arrive(db, "TR-7") == 24

    def test_arrived_units_can_ship(self, db, widget):
        transit.arrive(db, "TR-7")
        assert stock.ship(db, widget.sku, "LIS", 20, "SO-1") == 0


class TestCancel:
    """Cancelling sends the units back."""

    @pytest.fixture(autouse=True)
    def on_the_road(self, stocked, widget):
        transit.dispatch(stocked, widget.sku, "AMS", "BER", 10, "TR-8")

    def test_units_return_to_the_source(self, db, widget):
        assert transit.cancel(db, "TR-8") == 50
        assert transit.status(db, "TR-8") == "cancelled"
        assert stock.quantity(db, widget.sku, "BER") == 0

    def test_a_cancelled_transfer_cannot_arrive(self, db):
        transit.cancel(db, "TR-8")
        with pytest.raises(transit.TransferClosed):
            transit.arrive(db, "TR-8")

    def test_an_arrived_transfer_cannot_be_cancelled(self, db, widget):
        transit.arrive(db, "TR-8")
        with pytest.raises(transit.TransferClosed):
            transit.cancel(db, "TR-8")
        assert stock.quantity(db, widget.sku, "BER") == 10

    def test_the_return_is_booked_at_the_source(self, db, widget):
        transit.cancel(db, "TR-8")
        assert stock.movements(db, widget.sku)[-1] == ("AMS", 10, "transfer_in", "TR-8")


@pytest.mark.parametrize(("source", "destination"), [("AMS", "BER"), ("AMS", "LIS"), ("BER", "LIS"), ("LIS", "AMS")])
@pytest.mark.parametrize("ending", ["arrive", "cancel"])
def test_every_route_ends_whole(db, widget, source, destination, ending):
    stock.receive(db, widget.sku, source, 9, "DN-R")
    transit.dispatch(db, widget.sku, source, destination, 9, "TR-R")
    assert stock.total_quantity(db, widget.sku) == 0
    getattr(transit, ending)(db, "TR-R")
    assert stock.total_quantity(db, widget.sku) == 9
    where = destination if ending == "arrive" else source
    assert stock.quantity(db, widget.sku, where) == 9


def test_a_chain_of_transfers(db, widget):
    stock.receive(db, widget.sku, "AMS", 12, "DN-C")
    for i, (a, b) in enumerate([("AMS", "BER"), ("BER", "LIS"), ("LIS", "AMS")]):
        transit.dispatch(db, widget.sku, a, b, 12, f"TR-C{i}")
        transit.arrive(db, f"TR-C{i}")
    assert stock.quantity(db, widget.sku, "AMS") == 12
    assert db.scalar("SELECT COUNT(*) FROM transfers WHERE status = 'arrived'") == 3
    assert db.scalar("SELECT COUNT(*) FROM movements") == 7


@pytest.mark.parametrize(
    ("column", "value"), [("units", 0), ("status", "lost"), ("destination", "same"), ("reference", "dup")]
)
def test_the_database_checks_transfers(db, widget, warehouse_ids, column, value):
    row = {
        "product_id": widget.id,
        "source_id": warehouse_ids["AMS"],
        "destination_id": warehouse_ids["BER"],
        "units": 1,
        "reference": "TR-DB",
        "status": "in_transit",
    }
    sql = "INSERT INTO transfers ({}) VALUES ({})"
    if column == "reference":
        db.execute(sql.format(", ".join(row), ", ".join("?" * len(row))), tuple(row.values()))
    elif column == "destination":
        row["destination_id"] = row["source_id"]
    else:
        row[column] = value
    with pytest.raises(IntegrityError):
        db.execute(sql.format(", ".join(row), ", ".join("?" * len(row))), tuple(row.values()))
    assert db.scalar("SELECT COUNT(*) FROM transfers") == (1 if column == "reference" else 0)
