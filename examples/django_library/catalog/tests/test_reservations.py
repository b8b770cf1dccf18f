"""Reservation queues and holds (TestCase: every test rolls back)."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.test import TestCase, skipUnlessDBFeature

from catalog import notices, services
from catalog.models import Loan, Reservation

from . import factories as f

DAY = timedelta(days=1)


class ReserveTests(TestCase):
    """Who may reserve what, and what a new reservation looks like."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("The Name of the Rose", year=1980)
        cls.reader = f.member("reader@example.org")
        cls.other = f.member("other@example.org")

    def setUp(self):
        notices.clear()

    def test_a_book_on_the_shelf_is_held_at_once(self):
        r = services.reserve(self.book, self.reader, now=f.NOW)
        self.assertEqual(r.status, Reservation.READY)
        self.assertEqual(r.ready_until, f.NOW + 3 * DAY)

    def test_a_book_out_on_loan_is_waited_for(self):
        f.loan(self.book, self.other)
        r = services.reserve(self.book, self.reader, now=f.NOW)
        self.assertEqual(r.status, Reservation.WAITING)
        self.assertIsNone(r.ready_until)

    def test_a_book_held_for_someone_else_is_waited_for(self):
        services.reserve(self.book, self.other, now=f.NOW)
        r = services.reserve(self.book, self.reader, now=f.NOW + DAY)
        self.assertEqual(r.status, Reservation.WAITING)
        self.assertEqual(Reservation.objects.filter(book=self.book).count(), 2)

    def test_reserving_twice_is_refused(self):
        f.loan(self.book, self.other)
        services.reserve(self.book, self.reader, now=f.NOW)
        with self.assertRaises(services.ReservationRefused):
            services.reserve(self.book, self.reader, now=f.NOW + DAY)
        self.assertEqual(self.reader.reservations.count(), 1)

    def test_a_member_cannot_reserve_what_they_have(self):
        f.loan(self.book, self.reader)
        with self.assertRaises(services.ReservationRefused):
            services.reserve(self.book, self.reader, now=f.NOW)
        self.assertFalse(Reservation.objects.exists())

    def test_suspended_members_cannot_reserve(self):
        suspended = f.member(active=False)
        with self.assertRaises(services.MemberInactive):
            services.reserve(self.book, suspended, now=f.NOW)
        self.assertFalse(Reservation.objects.exists())

    def test_a_cancelled_reservation_may_be_made_again(self):
        f.loan(self.book, self.other)
        first = services.reserve(self.book, self.reader, now=f.NOW)
        services.cancel_reservation(first, now=f.NOW + DAY)
        second = services.reserve(self.book, self.reader, now=f.NOW + 2 * DAY)
        self.assertNotEqual(first.pk, second.pk)
        self.assertEqual(list(self.reader.reservations.values_list("status", flat=True)), ["cancelled", "waiting"])

    def test_reserving_takes_no_notice_until_commit(self):
        services.reserve(self.book, self.reader, now=f.NOW)
        self.assertEqual(notices.outbox, [])

    def test_a_hold_notice_is_sent_on_commit(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            services.reserve(self.book, self.reader, now=f.NOW)
        self.assertEqual(len(callbacks), 1)
        self.assertEqual(notices.outbox, [("hold-ready", "reader@example.org", "The Name of the Rose is held for you until 2025-03-04.")])

    def test_waiting_sends_no_notice(self):
        f.loan(self.book, self.other)
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            services.reserve(self.book, self.reader, now=f.NOW)
        self.assertEqual(callbacks, [])
        self.assertEqual(notices.outbox, [])


class ReservationLimitTests(TestCase):
    """A member has five active reservations at most."""

    @classmethod
    def setUpTestData(cls):
        cls.member = f.member()
        cls.books = [f.book(f"Volume {i}") for i in range(1, 8)]

    def test_five_reservations_are_allowed(self):
        for b in self.books[:5]:
            services.reserve(b, self.member, now=f.NOW)
        self.assertEqual(self.member.reservations.filter(status__in=Reservation.ACTIVE).count(), 5)

    def test_the_sixth_is_refused(self):
        for b in self.books[:5]:
            services.reserve(b, self.member, now=f.NOW)
        with self.assertRaises(services.ReservationRefused):
            services.reserve(self.books[5], self.member, now=f.NOW)
        self.assertEqual(self.member.reservations.count(), 5)

    def test_fulfilled_reservations_do_not_count(self):
        for b in self.books[:5]:
            services.reserve(b, self.member, now=f.NOW)
        services.lend(self.books[0], self.member, now=f.NOW)
        services.reserve(self.books[5], self.member, now=f.NOW)
        self.assertEqual(self.member.reservations.filter(status=Reservation.FULFILLED).count(), 1)

    def test_cancelled_reservations_do_not_count(self):
        made = [services.reserve(b, self.member, now=f.NOW) for b in self.books[:5]]
        services.cancel_reservation(made[2], now=f.NOW)
        services.reserve(self.books[6], self.member, now=f.NOW)
        self.assertEqual(self.member.reservations.filter(status__in=Reservation.ACTIVE).count(), 5)


class QueueTests(TestCase):
    """Members are served in the order they reserved."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("Middlemarch", year=1871)
        cls.holder = f.member("holder@example.org")
        cls.queue = [f.member(f"q{i}@example.org") for i in range(1, 5)]
        cls.loan = f.loan(cls.book, cls.holder, borrowed=f.NOW - 10 * DAY)

    def setUp(self):
        notices.clear()
        self.reservations = [
            services.reserve(self.book, m, now=f.NOW - (10 - i) * DAY) for i, m in enumerate(self.queue)
        ]

    def test_positions_follow_the_order_of_reserving(self):
        self.assertEqual([services.queue_position(r) for r in self.reservations], [1, 2, 3, 4])

    def test_a_return_holds_the_copy_for_the_first_in_line(self):
        services.return_book(self.loan, now=f.NOW)
        statuses = list(Reservation.objects.order_by("created_at").values_list("status", flat=True))
        self.assertEqual(statuses, ["ready", "waiting", "waiting", "waiting"])

    def test_the_return_notice_goes_to_the_first_in_line(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.return_book(self.loan, now=f.NOW)
        self.assertEqual([(kind, email) for kind, email, _ in notices.outbox], [("hold-ready", "q1@example.org")])

    def test_the_holder_may_borrow_and_fulfils_the_reservation(self):
        services.return_book(self.loan, now=f.NOW)
        loan = services.lend(self.book, self.queue[0], now=f.NOW + DAY)
        self.assertTrue(loan.is_open)
        self.assertEqual(Reservation.objects.get(pk=self.reservations[0].pk).status, Reservation.FULFILLED)

    def test_others_may_not_borrow_a_held_copy(self):
        services.return_book(self.loan, now=f.NOW)
        with self.assertRaises(services.BookReserved):
            services.lend(self.book, self.queue[1], now=f.NOW + DAY)
        with self.assertRaises(services.BookReserved):
            services.lend(self.book, f.member(), now=f.NOW + DAY)
        self.assertEqual(Loan.objects.filter(book=self.book, returned_at__isnull=True).count(), 0)

    def test_cancelling_moves_the_queue_up(self):
        services.cancel_reservation(self.reservations[1], now=f.NOW)
        self.assertIsNone(services.queue_position(self.reservations[1]))
        self.assertEqual([services.queue_position(r) for r in self.reservations[2:]], [2, 3])

    def test_cancelling_a_hold_passes_the_copy_on(self):
        services.return_book(self.loan, now=f.NOW)
        services.cancel_reservation(self.reservations[0], now=f.NOW + DAY)
        second = Reservation.objects.get(pk=self.reservations[1].pk)
        self.assertEqual(second.status, Reservation.READY)
        self.assertEqual(second.ready_until, f.NOW + DAY + 3 * DAY)

    def test_cancelling_twice_is_refused(self):
        services.cancel_reservation(self.reservations[3], now=f.NOW)
        with self.assertRaises(services.ReservationRefused):
            services.cancel_reservation(self.reservations[3], now=f.NOW)

    def test_the_queue_passes_through_every_member(self):
        services.return_book(self.loan, now=f.NOW)
        now = f.NOW
        for member in self.queue:
            now += DAY
            loan = services.lend(self.book, member, now=now)
            now += DAY
            services.return_book(loan, now=now)
        self.assertEqual(Reservation.objects.filter(status=Reservation.FULFILLED).count(), 4)
        self.assertEqual(self.book.loans.count(), 5)

    def test_an_open_loan_with_a_queue_cannot_be_renewed(self):
        with self.assertRaises(services.RenewalRefused):
            services.renew(self.loan, now=self.loan.due_at - DAY)
        self.assertEqual(Loan.objects.get(pk=self.loan.pk).renewals, 0)

    def test_the_queue_of_one_book_does_not_touch_another(self):
        other = f.book("Persuasion", year=1817)
        r = services.reserve(other, self.queue[0], now=f.NOW)
        self.assertEqual(r.status, Reservation.READY)
        self.assertEqual(services.queue_position(r), 1)
        self.assertEqual(services.queue_position(self.reservations[0]), 1)


class HoldExpiryTests(TestCase):
    """A held copy waits three days for its member, then goes to the next one."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book("Bleak House", year=1853)
        cls.first = f.member("first@example.org")
        cls.second = f.member("second@example.org")

    def setUp(self):
        notices.clear()
        self.held = services.reserve(self.book, self.first, now=f.NOW)
        self.waiting = services.reserve(self.book, self.second, now=f.NOW + DAY)

    def test_nothing_expires_within_the_hold(self):
        self.assertEqual(services.expire_holds(f.NOW + 3 * DAY - timedelta(minutes=1)), 0)
        self.assertEqual(Reservation.objects.get(pk=self.held.pk).status, Reservation.READY)

    def test_a_stale_hold_expires_and_the_next_member_gets_the_copy(self):
        self.assertEqual(services.expire_holds(f.NOW + 4 * DAY), 1)
        self.assertEqual(Reservation.objects.get(pk=self.held.pk).status, Reservation.EXPIRED)
        nxt = Reservation.objects.get(pk=self.waiting.pk)
        self.assertEqual((nxt.status, nxt.ready_until), (Reservation.READY, f.NOW + 7 * DAY))

    def test_expiring_again_changes_nothing(self):
        services.expire_holds(f.NOW + 4 * DAY)
        self.assertEqual(services.expire_holds(f.NOW + 4 * DAY), 0)

    def test_the_second_hold_expires_too_and_the_copy_is_free(self):
        services.expire_holds(f.NOW + 4 * DAY)
        services.expire_holds(f.NOW + 8 * DAY)
        self.assertEqual(Reservation.objects.filter(status=Reservation.EXPIRED).count(), 2)
        services.lend(self.book, f.member(), now=f.NOW + 8 * DAY)

    def test_an_expired_member_may_not_borrow_the_copy_held_for_the_next(self):
        services.expire_holds(f.NOW + 4 * DAY)
        with self.assertRaises(services.BookReserved):
            services.lend(self.book, self.first, now=f.NOW + 4 * DAY)

    def test_expiry_notifies_the_next_member_on_commit(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.expire_holds(f.NOW + 4 * DAY)
        self.assertEqual([email for _, email, _ in notices.outbox], ["second@example.org"])

    def test_expiry_of_many_books_at_once(self):
        books = [f.book(f"Part {i}") for i in range(4)]
        for b in books:
            services.reserve(b, self.second, now=f.NOW)
        self.assertEqual(services.expire_holds(f.NOW + 5 * DAY), 5)
        self.assertEqual(Reservation.objects.filter(status=Reservation.READY).count(), 1)


class ReservationConstraintTests(TestCase):
    """What the database itself refuses."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book()
        cls.member = f.member()

    @skipUnlessDBFeature("supports_partial_indexes")
    def test_two_active_reservations_of_one_member_are_rejected(self):
        f.reservation(self.book, self.member)
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.reservation(self.book, self.member, at=f.NOW + DAY)
        self.assertEqual(Reservation.objects.count(), 1)

    def test_closed_reservations_may_repeat(self):
        for status in ("fulfilled", "cancelled", "expired", "cancelled"):
            f.reservation(self.book, self.member, status=status)
        f.reservation(self.book, self.member)
        self.assertEqual(Reservation.objects.count(), 5)

    def test_an_unknown_status_is_rejected(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.reservation(self.book, self.member, status="lost")

    def test_a_hold_needs_a_deadline(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Reservation.objects.create(book=self.book, member=self.member, created_at=f.NOW, status="ready")
        self.assertFalse(Reservation.objects.exists())

    def test_deleting_a_book_deletes_its_reservations(self):
        b = f.book("Ephemera")
        f.reservation(b, self.member)
        f.reservation(b, f.member(), status="cancelled")
        b.delete()
        self.assertFalse(Reservation.objects.filter(book_id=b.pk).exists())

    def test_reservations_in_queue_order(self):
        late = f.reservation(self.book, f.member(), at=f.NOW + DAY)
        early = f.reservation(self.book, self.member, at=f.NOW - DAY)
        self.assertEqual(list(Reservation.objects.all()), [early, late])
