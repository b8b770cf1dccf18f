"""Overdue snapshots, committed for real (TransactionTestCase).

Like catalog's TransactionTestCase classes, these commit rows, count them
exactly and leave empty tables behind: they need a database of their own.
"""

from datetime import timedelta

from django.db import IntegrityError
from django.test import TransactionTestCase

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
