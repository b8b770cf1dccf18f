"""Overdue snapshots, committed for real (TransactionTestCase).

Like catalog's TransactionTestCase classes, these commit rows, count them
exactly and leave empty tables behind: they need a database of their own.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.test import TestCase, TransactionTestCase

from catalog import services
from catalog.models import Loan
from catalog.tests import factories as f
from reports.models import OverdueSnapshot, SnapshotLine
from reports.services import take_snapshot


class SnapshotTests(TransactionTestCase):
    """A snapshot is stored whole or not at all."""

    def setUp(self):
        self.ann = f.member("ann@example.org")
        self.ben = f.member("ben@example.org")
        f.loan(f.book("Beloved"), self.ann, borrowed=f.NOW - timedelta(days=30))  # 16 days late
        f.loan(f.book("Jazz"), self.ann, borrowed=f.NOW - timedelta(days=16))  # 2 days late
        f.loan(f.book("Sula"), self.ben, borrowed=f.NOW - timedelta(days=15))  # 1 day late
        f.loan(f.book("Paradise"), self.ben, borrowed=f.NOW - timedelta(days=1))  # on time

    def test_snapshot_counts_loans_members_and_fines(self):
        snapshot = take_snapshot(f.NOW)
        self.assertEqual((snapshot.loans, snapshot.members, snapshot.fines_cents), (3, 2, 400 + 50 + 25))
        self.assertEqual(OverdueSnapshot.objects.count(), 1)
        self.assertEqual(SnapshotLine.objects.count(), 3)
        self.assertEqual(
            list(snapshot.lines.values_list("book_title", "days_overdue")),
            [("Beloved", 16), ("Jazz", 2), ("Sula", 1)],
        )

    def test_one_snapshot_per_moment_and_no_partial_lines(self):
        take_snapshot(f.NOW)
        with self.assertRaises(IntegrityError):
            take_snapshot(f.NOW)
        self.assertEqual(OverdueSnapshot.objects.count(), 1)
        self.assertEqual(SnapshotLine.objects.count(), 3)

    def test_snapshots_over_time(self):
        for days in (0, 1, 2):
            take_snapshot(f.NOW + timedelta(days=days))
        self.assertEqual(
            list(OverdueSnapshot.objects.values_list("loans", flat=True)),
            [3, 3, 3],
        )
        self.assertEqual(SnapshotLine.objects.count(), 9)

    def test_deleting_a_loan_removes_its_lines(self):
        take_snapshot(f.NOW)
        Loan.objects.filter(book__title="Sula").delete()
        self.assertEqual(SnapshotLine.objects.count(), 2)
        self.assertEqual(OverdueSnapshot.objects.get().loans, 3)


class EmptySnapshotTests(TransactionTestCase):
    """With nothing overdue, a snapshot still records the moment."""

    def test_empty_snapshot(self):
        snapshot = take_snapshot(f.NOW)
        self.assertEqual((snapshot.loans, snapshot.members, snapshot.fines_cents), (0, 0, 0))
        self.assertEqual(OverdueSnapshot.objects.count(), 1)
        self.assertEqual(SnapshotLine.objects.count(), 0)
        self.assertEqual(Loan.objects.count(), 0)


class SnapshotQueryTests(TestCase):
    """Snapshots read back (TestCase: rolled back per test)."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member("reader@example.org")
        for days in (20, 25, 40):
            f.loan(f.book(f"Late by {days - 14}"), cls.member, borrowed=f.NOW - timedelta(days=days))
        cls.snapshots = [take_snapshot(f.NOW + timedelta(days=d)) for d in (0, 7)]

    def test_newest_snapshot_first(self):
        self.assertEqual(list(OverdueSnapshot.objects.all()), self.snapshots[::-1])

    def test_lines_most_overdue_first(self):
        self.assertEqual(
            list(self.snapshots[0].lines.values_list("days_overdue", flat=True)), [26, 11, 6]
        )

    def test_a_week_later_everything_is_a_week_later(self):
        before, after = (list(s.lines.values_list("days_overdue", flat=True)) for s in self.snapshots)
        self.assertEqual([a - b for a, b in zip(after, before)], [7, 7, 7])

    def test_fines_grow_by_the_day(self):
        self.assertEqual([s.fines_cents for s in self.snapshots], [(26 + 11 + 6) * 25, (33 + 18 + 13) * 25])

    def test_a_line_per_loan_once(self):
        snapshot = self.snapshots[0]
        line = snapshot.lines.first()
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                SnapshotLine.objects.create(
                    snapshot=snapshot,
                    loan_id=line.loan_id,
                    member_email=line.member_email,
                    book_title=line.book_title,
                    days_overdue=1,
                    fine_cents=1,
                )

    def test_deleting_a_snapshot_deletes_its_lines(self):
        self.snapshots[0].delete()
        self.assertEqual(SnapshotLine.objects.count(), 3)

    def test_str(self):
        self.assertEqual(str(self.snapshots[0]), "3 overdue at 2025-03-01 12:00")


class SnapshotCommitTests(TransactionTestCase):
    """Snapshots taken in separate committed transactions."""

    def setUp(self):
        self.member = f.member("tt@example.org")
        self.loan = f.loan(f.book("Middlemarch"), self.member, borrowed=f.NOW - timedelta(days=20))

    def test_a_rolled_back_outer_transaction_drops_the_snapshot(self):
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                take_snapshot(f.NOW)
                raise RuntimeError("board meeting cancelled")
        self.assertEqual(OverdueSnapshot.objects.count(), 0)
        self.assertEqual(SnapshotLine.objects.count(), 0)

    def test_a_return_between_snapshots(self):
        take_snapshot(f.NOW)
        services.return_book(self.loan, now=f.NOW + timedelta(hours=1))
        later = take_snapshot(f.NOW + timedelta(hours=2))
        self.assertEqual(list(OverdueSnapshot.objects.values_list("loans", flat=True)), [0, 1])
        self.assertEqual(later.lines.count(), 0)

    def test_snapshot_ids_increase(self):
        first = take_snapshot(f.NOW)
        second = take_snapshot(f.NOW + timedelta(minutes=1))
        self.assertGreater(second.pk, first.pk)
        self.assertEqual(SnapshotLine.objects.filter(snapshot=second).count(), 1)
