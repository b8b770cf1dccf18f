"""Several connections at once: locks and isolation hold."""

import threading

import pytest

from inventory import orders, stock, transit


class TestConcurrentShipping:
    """Orders racing for the last units."""

    def test_no_more_units_ship_than_there_are(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "AMS", 5, "DN-1")
        connections = [connect_db() for _ in range(8)]
        barrier = threading.Barrier(len(connections))
        outcomes = []
        lock = threading.Lock()

        def order(i, conn):
            barrier.wait(timeout=10)
            try:
                stock.ship(conn, widget.sku, "AMS", 1, f"SO-{i}")
                result = "shipped"
            except stock.InsufficientStock:
                result = "refused"
            except Exception as e:  # shown by the assertion below
                result = repr(e)
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=order, args=(i, c)) for i, c in enumerate(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["refused"] * 3 + ["shipped"] * 5
        assert stock.quantity(db, widget.sku, "AMS") == 0
        assert db.scalar("SELECT COUNT(*) FROM movements WHERE reason = 'ship'") == 5

    def test_uncommitted_changes_are_invisible_to_others(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "BER", 10, "DN-2")
        other = connect_db()
        with db.transaction():
            db.execute("UPDATE stock SET quantity = 3")
            assert stock.quantity(other, widget.sku, "BER") == 10
        assert stock.quantity(other, widget.sku, "BER") == 3


def race(connections, work):
    """Runs ``work(i, connection)`` in a thread per connection, all released at once.

    Returns the results (an exception's class name when one was raised), sorted.
    """
    barrier = threading.Barrier(len(connections))
    results = []
    lock = threading.Lock()

    def run(i, conn):
        barrier.wait(timeout=10)
        try:
            result = work(i, conn)
        except Exception as e:  # shown by the caller's assertion
            result = type(e).__name__
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(results, key=str)


class TestConcurrentReservations:
    """Orders racing to reserve the last units."""

    def test_no_more_units_reserved_than_on_hand(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "AMS", 4, "DN-1")
        outcomes = race([connect_db() for _ in range(6)], lambda i, c: orders.reserve(c, f"SO-{i}", widget.sku, "AMS", 1))
        assert outcomes.count("InsufficientStock") == 2
        assert sorted(o for o in outcomes if o != "InsufficientStock") == [0, 1, 2, 3]
        assert orders.available(db, widget.sku, "AMS") == 0

    def test_a_reservation_and_a_shipment_at_once(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "BER", 3, "DN-1")
        a, b = connect_db(), connect_db()
        outcomes = race(
            [a, b],
            lambda i, c: orders.reserve(c, "SO-R", widget.sku, "BER", 2) if i == 0 else stock.ship(c, widget.sku, "BER", 2, "SO-S"),
        )
        assert "InsufficientStock" in outcomes and len(outcomes) == 2
        # The reservation first: 3 on hand, 2 of them reserved. The shipment first: 1 left.
        assert stock.quantity(db, widget.sku, "BER") + db.scalar("SELECT COALESCE(SUM(units), 0) FROM reservations") in (1, 5)

    def test_the_same_order_line_twice_at_once(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "LIS", 10, "DN-1")
        outcomes = race([connect_db(), connect_db()], lambda i, c: orders.reserve(c, "SO-DUP", widget.sku, "LIS", 1))
        assert outcomes[0] == 9 and outcomes[1] in ("DuplicateReservation", "IntegrityError")
        assert db.scalar("SELECT COUNT(*) FROM reservations") == 1


class TestConcurrentTransfers:
    """Transfers in both directions at once neither deadlock nor lose units."""

    def test_opposite_transfers(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "AMS", 50, "DN-1")
        stock.receive(db, widget.sku, "BER", 50, "DN-1")
        pairs = [("AMS", "BER"), ("BER", "AMS")] * 3

        def move(i, c):
            source, destination = pairs[i]
            stock.transfer(c, widget.sku, source, destination, 5, f"TR-{i}")
            return "moved"

        outcomes = race([connect_db() for _ in pairs], move)
        assert outcomes == ["moved"] * 6
        assert stock.total_quantity(db, widget.sku) == 100
        assert (stock.quantity(db, widget.sku, "AMS"), stock.quantity(db, widget.sku, "BER")) == (50, 50)

    def test_dispatches_racing_for_the_last_units(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "LIS", 10, "DN-1")
        outcomes = race(
            [connect_db() for _ in range(4)], lambda i, c: transit.dispatch(c, widget.sku, "LIS", "AMS", 4, f"TR-{i}")
        )
        assert outcomes == [2, 6, "InsufficientStock", "InsufficientStock"]
        assert sum(transit.in_transit(db, widget.sku).values()) == 8

    def test_arriving_twice_at_once(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "AMS", 10, "DN-1")
        transit.dispatch(db, widget.sku, "AMS", "BER", 10, "TR-X")
        outcomes = race([connect_db() for _ in range(3)], lambda i, c: transit.arrive(c, "TR-X"))
        assert outcomes == [10, "TransferClosed", "TransferClosed"]
        assert stock.quantity(db, widget.sku, "BER") == 10


class TestConcurrentOrders:
    """Fulfilment and release of one order racing."""

    def test_fulfil_or_release_never_both(self, db, widget, connect_db):
        stock.receive(db, widget.sku, "AMS", 5, "DN-1")
        orders.reserve(db, "SO-1", widget.sku, "AMS", 5)
        outcomes = race(
            [connect_db(), connect_db()], lambda i, c: (orders.fulfil if i == 0 else orders.release)(c, "SO-1")
        )
        assert outcomes[0] == 5 and outcomes[1] == "UnknownOrder"
        status = db.scalar("SELECT status FROM reservations")
        assert stock.quantity(db, widget.sku, "AMS") == (0 if status == "fulfilled" else 5)

    @pytest.mark.parametrize("workers", [2, 4, 8])
    def test_receipts_at_once_add_up(self, db, widget, connect_db, workers):
        outcomes = race(
            [connect_db() for _ in range(workers)],
            lambda i, c: stock.receive(c, widget.sku, "BER", 3, f"DN-{i}") and "received",
        )
        assert outcomes == ["received"] * workers
        assert stock.quantity(db, widget.sku, "BER") == 3 * workers
        assert db.scalar("SELECT COUNT(*) FROM movements") == workers
