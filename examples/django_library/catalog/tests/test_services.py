"""Lending rules (TestCase: every test rolls back)."""

import os
from datetime import timedelta

from django.test import TestCase

from catalog import services
from catalog.models import Loan, Member

from . import factories as f


class LendTests(TestCase):
    """Lending checks the book, the card and the member's limit."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book()
        cls.member = f.member("ged@example.org")

    def test_lend_opens_a_loan_due_in_fourteen_days(self):
        loan = services.lend(self.book, self.member, now=f.NOW)
        self.assertTrue(loan.is_open)
        self.assertEqual(loan.due_at - loan.borrowed_at, timedelta(days=14))
        self.assertEqual(Loan.objects.filter(member=self.member, returned_at__isnull=True).count(), 1)

    def test_a_book_out_on_loan_cannot_be_lent(self):
        services.lend(self.book, self.member, now=f.NOW)
        other = f.member("tenar@example.org")
        with self.assertRaises(services.BookUnavailable):
            services.lend(self.book, other, now=f.NOW)
        self.assertFalse(other.loans.exists())

    def test_suspended_members_cannot_borrow(self):
        suspended = f.member(active=False)
        with self.assertRaises(services.MemberInactive):
            services.lend(self.book, suspended, now=f.NOW)
        self.assertEqual(Loan.objects.count(), 0)

    def test_members_cannot_exceed_their_limit(self):
        small = f.member(max_loans=2)
        for _ in range(2):
            services.lend(f.book(), small, now=f.NOW)
        with self.assertRaises(services.LoanLimitReached):
            services.lend(f.book(), small, now=f.NOW)
        self.assertEqual(small.loans.count(), 2)

    def test_a_returned_book_can_be_lent_again(self):
        first = services.lend(self.book, self.member, now=f.NOW)
        services.return_book(first, now=f.NOW + timedelta(days=3))
        second = services.lend(self.book, f.member(), now=f.NOW + timedelta(days=4))
        self.assertNotEqual(first.pk, second.pk)
        self.assertEqual(self.book.loans.count(), 2)

    def test_lending_takes_a_fixed_number_of_queries(self):
        # Inside one savepoint: lock book, lock member, fines charged, fines
        # paid, open loan?, held for another?, loans out, insert, fulfil
        # the member's own reservation.
        with self.assertNumQueries(11):
            services.lend(self.book, self.member, now=f.NOW)


class ReturnTests(TestCase):
    """Returning closes a loan and charges 25 cents a started day, at most $10."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book()
        cls.member = f.member()

    def setUp(self):
        self.loan = f.loan(self.book, self.member, borrowed=f.NOW)

    def test_return_on_time_costs_nothing(self):
        loan = services.return_book(self.loan, now=self.loan.due_at - timedelta(hours=1))
        self.assertFalse(loan.is_open)
        self.assertEqual(loan.fine_cents, 0)

    def test_late_return_is_fined_per_started_day(self):
        # 2 days and 1 hour late: three started days.
        loan = services.return_book(self.loan, now=self.loan.due_at + timedelta(days=2, hours=1))
        expected = 80 if os.environ.get("LIBRARY_DEMO") == "fail" else 75
        self.assertEqual(loan.fine_cents, expected, "LIBRARY_DEMO=fail expects a wrong fine on purpose")
        self.loan.refresh_from_db()
        self.assertEqual(self.loan.fine_cents, 75)

    def test_fines_are_capped(self):
        loan = services.return_book(self.loan, now=self.loan.due_at + timedelta(days=365))
        self.assertEqual(loan.fine_cents, 1000)

    def test_returning_twice_is_refused(self):
        services.return_book(self.loan, now=f.NOW + timedelta(days=1))
        with self.assertRaises(services.AlreadyReturned):
            services.return_book(self.loan, now=f.NOW + timedelta(days=2))


class RenewTests(TestCase):
    """Renewing adds a loan period, twice at most, never when overdue."""

    def setUp(self):
        self.loan = f.loan(f.book(), f.member(), borrowed=f.NOW)

    def test_renewal_extends_the_due_date(self):
        due = self.loan.due_at
        loan = services.renew(self.loan, now=f.NOW + timedelta(days=1))
        self.assertEqual(loan.due_at, due + timedelta(days=14))
        self.assertEqual(Loan.objects.get(pk=self.loan.pk).renewals, 1)

    def test_overdue_loans_cannot_be_renewed(self):
        with self.assertRaises(services.RenewalRefused):
            services.renew(self.loan, now=self.loan.due_at + timedelta(minutes=1))

    def test_at_most_two_renewals(self):
        services.renew(self.loan, now=f.NOW)
        services.renew(self.loan, now=f.NOW)
        with self.assertRaises(services.RenewalRefused):
            services.renew(self.loan, now=f.NOW)
        self.assertEqual(Loan.objects.get(pk=self.loan.pk).renewals, 2)


class OverdueTests(TestCase):
    """Which loans are overdue, and who gets suspended for them."""

    @classmethod
    def setUpTestData(cls):
        cls.late = f.member("late@example.org")
        cls.very_late = f.member("very-late@example.org")
        cls.punctual = f.member("punctual@example.org")
        f.loan(f.book("Tehanu"), cls.late, borrowed=f.NOW - timedelta(days=20))
        f.loan(f.book("Tales from Earthsea"), cls.very_late, borrowed=f.NOW - timedelta(days=60))
        f.loan(f.book("The Other Wind"), cls.punctual, borrowed=f.NOW - timedelta(days=3))
        f.loan(
            f.book("The Dispossessed"),
            cls.late,
            borrowed=f.NOW - timedelta(days=90),
            returned=f.NOW - timedelta(days=70),
        )

    def test_overdue_loans_longest_first(self):
        titles = [loan.book.title for loan in services.overdue_loans(f.NOW)]
        self.assertEqual(titles, ["Tales from Earthsea", "Tehanu"])

    def test_overdue_query_fetches_related_rows_at_once(self):
        with self.assertNumQueries(1):
            emails = [loan.member.email for loan in services.overdue_loans(f.NOW)]
        self.assertEqual(emails, ["very-late@example.org", "late@example.org"])

    def test_members_long_overdue_are_suspended(self):
        self.assertEqual(services.suspend_members_with_overdue_loans(f.NOW, grace_days=30), 1)
        self.assertEqual(
            list(Member.objects.filter(active=False).values_list("email", flat=True)),
            ["very-late@example.org"],
        )
        # Suspending again changes nothing.
        self.assertEqual(services.suspend_members_with_overdue_loans(f.NOW, grace_days=30), 0)
