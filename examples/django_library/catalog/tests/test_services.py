"""Lending rules (TestCase: every test rolls back)."""

import os
from datetime import timedelta

from django.db.models import Count
from django.test import TestCase
from django.utils import timezone

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


class LoanLimitTests(TestCase):
    """Each member's own limit, from one book to six: one test per limit."""

    @classmethod
    def setUpTestData(cls):
        cls.shelf = [f.book(f"Shelf {i}") for i in range(7)]

    def check_limit(self, limit):
        m = f.member(max_loans=limit)
        for b in self.shelf[:limit]:
            services.lend(b, m, now=f.NOW)
        with self.assertRaises(services.LoanLimitReached):
            services.lend(self.shelf[limit], m, now=f.NOW)
        self.assertEqual(m.loans.filter(returned_at__isnull=True).count(), limit)
        # Bringing one back makes room for one more.
        services.return_book(m.loans.first(), now=f.NOW + timedelta(days=1))
        services.lend(self.shelf[limit], m, now=f.NOW + timedelta(days=1))
        self.assertEqual(m.loans.count(), limit + 1)


for _limit in range(1, 7):
    setattr(LoanLimitTests, f"test_limit_of_{_limit}", lambda self, n=_limit: self.check_limit(n))


class LendDetailsTests(TestCase):
    """Loan periods, times and the rows lending touches."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("The Waves", year=1931)
        cls.member = f.member("woolf@example.org")

    def test_a_custom_loan_period(self):
        loan = services.lend(self.book, self.member, now=f.NOW, days=7)
        self.assertEqual(loan.due_at, f.NOW + timedelta(days=7))

    def test_the_loan_is_stored_as_returned(self):
        loan = services.lend(self.book, self.member, now=f.NOW)
        stored = Loan.objects.get(pk=loan.pk)
        self.assertEqual((stored.borrowed_at, stored.renewals, stored.fine_cents), (f.NOW, 0, 0))

    def test_lending_without_now_uses_the_clock(self):
        loan = services.lend(self.book, self.member)
        self.assertLess(abs((loan.borrowed_at - timezone.now()).total_seconds()), 60)

    def test_a_refused_lend_changes_no_row(self):
        services.lend(self.book, self.member, now=f.NOW)
        before = list(Loan.objects.values_list("id", "returned_at"))
        with self.assertRaises(services.BookUnavailable):
            services.lend(self.book, f.member(), now=f.NOW)
        self.assertEqual(list(Loan.objects.values_list("id", "returned_at")), before)

    def test_suspended_after_borrowing_keeps_the_loan(self):
        loan = services.lend(self.book, self.member, now=f.NOW)
        Member.objects.filter(pk=self.member.pk).update(active=False)
        self.assertTrue(Loan.objects.get(pk=loan.pk).is_open)
        with self.assertRaises(services.MemberInactive):
            services.lend(f.book(), self.member, now=f.NOW)

    def test_a_lend_inside_an_outer_transaction_that_fails_is_undone(self):
        from django.db import transaction

        with self.assertRaises(ZeroDivisionError):
            with transaction.atomic():
                services.lend(self.book, self.member, now=f.NOW)
                1 / 0
        self.assertFalse(Loan.objects.exists())

    def test_many_members_many_books(self):
        members = [f.member() for _ in range(5)]
        books = [f.book() for _ in range(15)]
        for i, b in enumerate(books):
            services.lend(b, members[i % 5], now=f.NOW)
        self.assertEqual(
            sorted(Loan.objects.values("member").annotate(n=Count("id")).values_list("n", flat=True)), [3] * 5
        )


class ReturnDetailsTests(TestCase):
    """What returning a loan writes."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member()

    def test_return_time_is_stored(self):
        loan = f.loan(f.book(), self.member)
        services.return_book(loan, now=f.NOW + timedelta(days=3))
        self.assertEqual(Loan.objects.get(pk=loan.pk).returned_at, f.NOW + timedelta(days=3))

    def test_returning_one_loan_leaves_the_others_open(self):
        loans = [f.loan(f.book(), self.member) for _ in range(3)]
        services.return_book(loans[1], now=f.NOW + timedelta(days=1))
        self.assertEqual(
            list(Loan.objects.order_by("id").values_list("returned_at", flat=True)),
            [None, f.NOW + timedelta(days=1), None],
        )

    def test_returning_an_unknown_loan_fails(self):
        with self.assertRaises(Loan.DoesNotExist):
            services.return_book(Loan(pk=10**9), now=f.NOW)

    def test_a_renewed_loan_is_fined_from_its_new_due_date(self):
        loan = f.loan(f.book(), self.member)
        services.renew(loan, now=f.NOW + timedelta(days=13))
        returned = services.return_book(loan, now=f.NOW + timedelta(days=29))
        self.assertEqual(returned.fine_cents, 25)

    def test_returning_the_held_members_copy_again(self):
        loan = f.loan(f.book(), self.member, returned=f.NOW + timedelta(days=1))
        with self.assertRaises(services.AlreadyReturned):
            services.return_book(loan, now=f.NOW + timedelta(days=2))


class RenewDetailsTests(TestCase):
    """Renewals and their limits."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member()

    def setUp(self):
        self.loan = f.loan(f.book(), self.member, borrowed=f.NOW)

    def test_renewing_on_the_due_date_is_allowed(self):
        loan = services.renew(self.loan, now=self.loan.due_at)
        self.assertEqual(loan.renewals, 1)

    def test_two_renewals_add_four_weeks(self):
        services.renew(self.loan, now=f.NOW)
        loan = services.renew(self.loan, now=f.NOW)
        self.assertEqual(loan.due_at, f.NOW + timedelta(days=14 * 3))

    def test_a_returned_loan_cannot_be_renewed(self):
        services.return_book(self.loan, now=f.NOW + timedelta(days=1))
        with self.assertRaises(services.AlreadyReturned):
            services.renew(self.loan, now=f.NOW + timedelta(days=2))

    def test_a_refused_renewal_keeps_the_due_date(self):
        due = self.loan.due_at
        with self.assertRaises(services.RenewalRefused):
            services.renew(self.loan, now=due + timedelta(days=1))
        self.assertEqual(Loan.objects.get(pk=self.loan.pk).due_at, due)

    def test_a_cancelled_reservation_does_not_block_renewal(self):
        r = f.reservation(self.loan.book, f.member())
        services.cancel_reservation(r, now=f.NOW)
        self.assertEqual(services.renew(self.loan, now=f.NOW).renewals, 1)


class SuspensionTests(TestCase):
    """Suspending members whose loans are long overdue, with different grace periods."""

    @classmethod
    def setUpTestData(cls):
        cls.members = {}
        for days in (10, 25, 45, 70, 100):
            m = f.member(f"late{days}@example.org")
            f.loan(f.book(), m, borrowed=f.NOW - timedelta(days=14 + days))
            cls.members[days] = m
        cls.returned = f.member("returned@example.org")
        f.loan(f.book(), cls.returned, borrowed=f.NOW - timedelta(days=200), returned=f.NOW - timedelta(days=150))

    def suspended(self):
        return sorted(Member.objects.filter(active=False).values_list("email", flat=True))

    def test_nobody_suspended_before_the_run(self):
        self.assertEqual(self.suspended(), [])

    def test_returned_loans_never_suspend(self):
        services.suspend_members_with_overdue_loans(f.NOW, grace_days=0)
        self.assertNotIn("returned@example.org", self.suspended())

    def test_already_suspended_members_are_not_counted(self):
        Member.objects.filter(email="late100@example.org").update(active=False)
        self.assertEqual(services.suspend_members_with_overdue_loans(f.NOW, grace_days=30), 2)


for _grace, _expected in ((0, 5), (20, 4), (30, 3), (50, 2), (90, 1), (120, 0)):
    def _test(self, grace=_grace, expected=_expected):
        self.assertEqual(services.suspend_members_with_overdue_loans(f.NOW, grace_days=grace), expected)
        self.assertEqual(len(self.suspended()), expected)

    setattr(SuspensionTests, f"test_grace_of_{_grace}_days", _test)
