"""Several connections at once: locks and isolation hold."""

import threading

from inventory import stock


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
