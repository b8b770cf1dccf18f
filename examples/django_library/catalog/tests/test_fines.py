"""Fines: what is charged, what is owed, what is paid (TestCase)."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.test import TestCase

from catalog import notices, services
from catalog.models import FinePayment, Loan

from . import factories as f

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class FineScheduleTests(TestCase):
    """25 cents per started day late, at most 1000 cents; one test per row of the schedule."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("The Fine Print")
        cls.member = f.member()

    def setUp(self):
        self.loan = f.loan(self.book, self.member, borrowed=f.NOW)

    def check_return(self, late, cents):
        loan = services.return_book(self.loan, now=self.loan.due_at + late)
        self.assertEqual(loan.fine_cents, cents)
        self.assertEqual(Loan.objects.get(pk=self.loan.pk).fine_cents, cents)
        self.assertEqual(services.outstanding_fines(self.member), cents)


SCHEDULE = [
    ("early_by_a_week", -7 * DAY, 0),
    ("early_by_an_hour", -HOUR, 0),
    ("exactly_on_time", timedelta(0), 0),
    ("one_second_late", timedelta(seconds=1), 25),
    ("one_hour_late", HOUR, 25),
    ("a_day_late", DAY, 25),
    ("a_day_and_a_minute_late", DAY + timedelta(minutes=1), 50),
    ("two_days_late", 2 * DAY, 50),
    ("three_days_late", 3 * DAY, 75),
    ("a_week_late", 7 * DAY, 175),
    ("ten_days_late", 10 * DAY, 250),
    ("two_weeks_late", 14 * DAY, 350),
    ("thirty_days_late", 30 * DAY, 750),
    ("thirty_nine_days_late", 39 * DAY, 975),
    ("forty_days_late", 40 * DAY, 1000),
    ("forty_days_and_an_hour_late", 40 * DAY + HOUR, 1000),
    ("a_hundred_days_late", 100 * DAY, 1000),
    ("a_year_late", 365 * DAY, 1000),
]

for _name, _late, _cents in SCHEDULE:
    setattr(
        FineScheduleTests,
        f"test_returned_{_name}",
        lambda self, late=_late, cents=_cents: self.check_return(late, cents),
    )


class OutstandingFinesTests(TestCase):
    """What a member owes is what they were charged minus what they paid."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member("owes@example.org")
        cls.clean = f.member("clean@example.org")
        f.fined_loan(f.book(), cls.member, 300)
        f.fined_loan(f.book(), cls.member, 150)
        f.fined_loan(f.book(), cls.clean, 0)

    def test_charged_fines_add_up(self):
        self.assertEqual(services.outstanding_fines(self.member), 450)

    def test_a_member_without_fines_owes_nothing(self):
        self.assertEqual(services.outstanding_fines(self.clean), 0)
        self.assertEqual(services.outstanding_fines(f.member()), 0)

    def test_payments_reduce_what_is_owed(self):
        f.payment(self.member, 100)
        f.payment(self.member, 50)
        self.assertEqual(services.outstanding_fines(self.member), 300)

    def test_other_members_payments_do_not_count(self):
        f.payment(self.member, 450)
        self.assertEqual(services.outstanding_fines(self.clean), 0)
        self.assertEqual(services.outstanding_fines(self.member), 0)

    def test_open_loans_owe_nothing_yet(self):
        f.loan(f.book(), self.clean, borrowed=f.NOW - 60 * DAY)
        self.assertEqual(services.outstanding_fines(self.clean), 0)

    def test_outstanding_takes_two_queries(self):
        with self.assertNumQueries(2):
            services.outstanding_fines(self.member)


class PaymentTests(TestCase):
    """Paying fines: never more than owed, each reference once."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member("payer@example.org")
        f.fined_loan(f.book(), cls.member, 600)

    def setUp(self):
        notices.clear()

    def test_a_part_payment_is_booked(self):
        p = services.pay_fine(self.member, 200, "RCPT-1", now=f.NOW)
        self.assertEqual((p.amount_cents, p.reference), (200, "RCPT-1"))
        self.assertEqual(services.outstanding_fines(self.member), 400)

    def test_paying_everything_clears_the_account(self):
        services.pay_fine(self.member, 600, "RCPT-2", now=f.NOW)
        self.assertEqual(services.outstanding_fines(self.member), 0)
        self.assertEqual(FinePayment.objects.filter(member=self.member).count(), 1)

    def test_paying_more_than_owed_is_refused(self):
        with self.assertRaises(services.PaymentRefused):
            services.pay_fine(self.member, 601, "RCPT-3", now=f.NOW)
        self.assertFalse(FinePayment.objects.exists())

    def test_paying_in_instalments(self):
        for i, cents in enumerate((100, 200, 300)):
            services.pay_fine(self.member, cents, f"RCPT-I{i}", now=f.NOW + i * DAY)
        self.assertEqual(services.outstanding_fines(self.member), 0)
        with self.assertRaises(services.PaymentRefused):
            services.pay_fine(self.member, 1, "RCPT-I9", now=f.NOW)

    def test_a_reference_is_booked_once(self):
        services.pay_fine(self.member, 100, "RCPT-4", now=f.NOW)
        with self.assertRaises(services.PaymentRefused):
            services.pay_fine(self.member, 100, "RCPT-4", now=f.NOW)
        self.assertEqual(services.outstanding_fines(self.member), 500)

    def test_the_database_backs_the_unique_reference(self):
        f.payment(self.member, 10, reference="DUP-1")
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.payment(self.member, 10, reference="DUP-1")
        self.assertEqual(FinePayment.objects.count(), 1)

    def test_zero_payments_are_rejected_before_the_database(self):
        with self.assertRaises(ValueError):
            services.pay_fine(self.member, 0, "RCPT-5", now=f.NOW)

    def test_the_database_rejects_a_zero_payment(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.payment(self.member, 0)

    def test_members_with_payments_cannot_be_deleted(self):
        f.payment(self.member, 10)
        with self.assertRaises(ProtectedError):
            self.member.delete()

    def test_clearing_the_account_sends_a_notice_on_commit(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.pay_fine(self.member, 600, "RCPT-6", now=f.NOW)
        self.assertEqual(notices.outbox, [("fines-cleared", "payer@example.org", "You owe the library nothing.")])

    def test_a_part_payment_sends_no_notice(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            services.pay_fine(self.member, 599, "RCPT-7", now=f.NOW)
        self.assertEqual((callbacks, notices.outbox), ([], []))

    def test_payments_in_the_order_paid(self):
        late = services.pay_fine(self.member, 50, "RCPT-B", now=f.NOW + DAY)
        early = services.pay_fine(self.member, 50, "RCPT-A", now=f.NOW)
        self.assertEqual(list(self.member.payments.all()), [early, late])


class FinesBlockLendingTests(TestCase):
    """A member owing 500 cents or more borrows nothing until they pay."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("Collateral")

    def member_owing(self, cents):
        m = f.member()
        if cents:
            f.fined_loan(f.book(), m, cents)
        return m

    def test_owing_just_under_the_limit_still_borrows(self):
        services.lend(self.book, self.member_owing(499), now=f.NOW)

    def test_owing_the_limit_blocks(self):
        with self.assertRaises(services.FinesOutstanding):
            services.lend(self.book, self.member_owing(500), now=f.NOW)
        self.assertFalse(Loan.objects.filter(book=self.book).exists())

    def test_fines_from_several_loans_add_up_to_a_block(self):
        m = self.member_owing(300)
        f.fined_loan(f.book(), m, 200)
        with self.assertRaises(services.FinesOutstanding):
            services.lend(self.book, m, now=f.NOW)

    def test_paying_lifts_the_block(self):
        m = self.member_owing(800)
        services.pay_fine(m, 301, "LIFT-1", now=f.NOW)
        loan = services.lend(self.book, m, now=f.NOW)
        self.assertTrue(loan.is_open)

    def test_a_late_return_can_cause_the_block(self):
        m = f.member()
        loan = services.lend(f.book(), m, now=f.NOW)
        services.return_book(loan, now=loan.due_at + 20 * DAY)
        with self.assertRaises(services.FinesOutstanding):
            services.lend(self.book, m, now=f.NOW + 40 * DAY)

    def test_suspension_is_checked_before_fines(self):
        m = f.member(active=False)
        f.fined_loan(f.book(), m, 900)
        with self.assertRaises(services.MemberInactive):
            services.lend(self.book, m, now=f.NOW)


class PaymentSplitTests(TestCase):
    """Paying a 1000-cent fine in different instalments always ends at zero."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member()
        f.fined_loan(f.book(), cls.member, 1000)

    def pay_in(self, parts):
        for i, cents in enumerate(parts):
            services.pay_fine(self.member, cents, f"SPLIT-{i}", now=f.NOW + i * DAY)
        self.assertEqual(services.outstanding_fines(self.member), 1000 - sum(parts))
        self.assertEqual(self.member.payments.count(), len(parts))


SPLITS = {
    "at_once": [1000],
    "halves": [500, 500],
    "quarters": [250, 250, 250, 250],
    "uneven": [1, 99, 900],
    "tenths": [100] * 10,
    "partly": [300, 300],
    "one_cent": [1],
}
for _name, _parts in SPLITS.items():
    setattr(PaymentSplitTests, f"test_paid_{_name}", lambda self, parts=_parts: self.pay_in(parts))
