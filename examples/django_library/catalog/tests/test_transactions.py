"""Lending with real commits (TransactionTestCase).

These tests commit rows and count them exactly, and Django empties every
table after each of them. Two of these classes running at the same moment
on one database would see each other's rows and wipe each other's data:
that is what paraclone's one-clone-per-worker prevents (try
``paraclone test --share-database`` to watch it happen).
"""

import threading
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.test import TransactionTestCase, skipUnlessDBFeature

from catalog import notices, services
from catalog.models import Author, Book, FinePayment, Genre, Loan, Member, Reservation

from . import factories as f


class CommittedLendingTests(TransactionTestCase):
    """Lending and returning as separate committed transactions."""

    def setUp(self):
        self.books = [f.book(f"Volume {i}") for i in range(1, 4)]
        self.member = f.member("reader@example.org")

    def test_each_lend_commits_one_loan(self):
        for book in self.books:
            services.lend(book, self.member, now=f.NOW)
        self.assertEqual(Loan.objects.count(), 3)
        self.assertEqual(Loan.objects.filter(returned_at__isnull=True).count(), 3)
        self.assertEqual(Member.objects.count(), 1)

    def test_a_refused_lend_leaves_nothing_behind(self):
        services.lend(self.books[0], self.member, now=f.NOW)
        with self.assertRaises(services.BookUnavailable):
            services.lend(self.books[0], f.member(), now=f.NOW)
        self.assertEqual(Loan.objects.count(), 1)
        self.assertEqual(Member.objects.count(), 2)

    def test_returns_commit_fines(self):
        loans = [services.lend(book, self.member, now=f.NOW) for book in self.books]
        for days_late, loan in enumerate(loans):
            services.return_book(loan, now=loan.due_at + timedelta(days=days_late))
        self.assertEqual(Loan.objects.filter(returned_at__isnull=False).count(), 3)
        self.assertEqual(sorted(Loan.objects.values_list("fine_cents", flat=True)), [0, 25, 50])

    def test_outer_rollback_undoes_a_lend(self):
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                services.lend(self.books[0], self.member, now=f.NOW)
                raise RuntimeError("the librarian changed their mind")
        self.assertEqual(Loan.objects.count(), 0)

    def test_on_commit_runs_only_after_the_commit(self):
        sent = []
        with transaction.atomic():
            loan = services.lend(self.books[1], self.member, now=f.NOW)
            transaction.on_commit(lambda: sent.append(loan.pk))
            self.assertEqual(sent, [])
        self.assertEqual(sent, [loan.pk])
        self.assertEqual(Book.objects.count(), 3)


class LendRaceTests(TransactionTestCase):
    """Two librarians lend the same copy at once: exactly one succeeds."""

    def setUp(self):
        self.book = f.book("The Left Hand of Darkness")
        self.members = [f.member(f"racer{i}@example.org") for i in range(4)]

    def _race(self, members):
        barrier = threading.Barrier(len(members))
        outcomes = []
        lock = threading.Lock()

        def attempt(member):
            try:
                barrier.wait(timeout=10)
                services.lend(self.book, member, now=f.NOW)
                result = "lent"
            except services.BookUnavailable:
                result = "unavailable"
            except Exception as e:  # reported in the assertion below
                result = repr(e)
            finally:
                connection.close()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=attempt, args=(m,)) for m in members]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return sorted(outcomes)

    def test_concurrent_lends_of_one_copy(self):
        outcomes = self._race(self.members)
        self.assertEqual(outcomes, ["lent", "unavailable", "unavailable", "unavailable"])
        self.assertEqual(Loan.objects.count(), 1)
        self.assertEqual(Loan.objects.filter(book=self.book, returned_at__isnull=True).count(), 1)

    @skipUnlessDBFeature("supports_partial_indexes")
    def test_the_index_backs_the_rule_when_checks_are_skipped(self):
        f.loan(self.book, self.members[0])
        with self.assertRaises(IntegrityError):
            f.loan(self.book, self.members[1])
        self.assertEqual(Loan.objects.count(), 1)


class ShelvingTests(TransactionTestCase):
    """Committed work on the seeded genres.

    TransactionTestCase empties every table after each test, the seeded
    genres included; ``serialized_rollback`` asks Django to put the
    database's initial contents back before each test.
    """

    serialized_rollback = True

    def test_books_by_genre_after_commits(self):
        fiction, history = f.genre("fiction"), f.genre("history")
        for i in range(3):
            f.book(f"Novel {i}", genre=fiction)
        f.book("The Histories", year=1502, genre=history)
        counts = dict(Book.objects.filter(genre__isnull=False).values_list("genre__slug").annotate(n=Count("id")))
        self.assertEqual(counts, {"fiction": 3, "history": 1})

    def test_lending_a_seeded_genre_book(self):
        book = f.book("Kindred", genre=f.genre("fiction"))
        services.lend(book, f.member(), now=f.NOW)
        self.assertEqual(Loan.objects.filter(book__genre__slug="fiction").count(), 1)
        self.assertEqual(Genre.objects.count(), 5)



def race(workers, timeout=60):
    """Runs each callable of ``workers`` in its own thread, all released at once.

    Returns their results (or the exceptions' class names), sorted. Each
    thread closes its own database connection.
    """
    barrier = threading.Barrier(len(workers))
    results = []
    lock = threading.Lock()

    def run(work):
        try:
            barrier.wait(timeout=10)
            result = work()
        except Exception as e:  # noqa: BLE001 — reported by the caller's assertion
            result = type(e).__name__
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return sorted(results, key=str)


class ReservationRaceTests(TransactionTestCase):
    """Members reserving a copy on the shelf at the same moment: one gets the hold."""

    def setUp(self):
        notices.clear()
        self.book = f.book("Rebecca", year=1938)
        self.members = [f.member(f"rush{i}@example.org") for i in range(4)]

    def test_one_hold_and_a_queue(self):
        def reserve(m):
            return lambda: services.reserve(self.book, m, now=f.NOW).status

        outcomes = race([reserve(m) for m in self.members])
        self.assertEqual(outcomes, ["ready", "waiting", "waiting", "waiting"])
        self.assertEqual(Reservation.objects.filter(status=Reservation.READY).count(), 1)
        self.assertEqual(len(notices.outbox), 1)

    def test_the_same_member_twice_at_once(self):
        m = self.members[0]
        outcomes = race([lambda: services.reserve(self.book, m, now=f.NOW).status] * 2)
        self.assertEqual(outcomes, ["ReservationRefused", "ready"])
        self.assertEqual(Reservation.objects.count(), 1)

    def test_lend_and_reserve_race(self):
        lender, reserver = self.members[:2]
        outcomes = race(
            [
                lambda: type(services.lend(self.book, lender, now=f.NOW)).__name__,
                lambda: services.reserve(self.book, reserver, now=f.NOW).status,
            ]
        )
        # Either the loan came first (the reservation waits) or the hold
        # did (the lend is refused).
        self.assertIn(outcomes, [["Loan", "waiting"], ["BookReserved", "ready"]])
        self.assertEqual(Loan.objects.count() + Reservation.objects.filter(status="ready").count(), 1)


class PaymentRaceTests(TransactionTestCase):
    """Two desks take the same member's money at once."""

    def setUp(self):
        self.member = f.member("double@example.org")
        f.fined_loan(f.book(), self.member, 400)

    def test_the_whole_fine_is_paid_once(self):
        outcomes = race(
            [
                lambda: services.pay_fine(self.member, 400, "DESK-A", now=f.NOW).reference,
                lambda: services.pay_fine(self.member, 400, "DESK-B", now=f.NOW).reference,
            ]
        )
        self.assertEqual(len([o for o in outcomes if o.startswith("DESK")]), 1)
        self.assertIn("PaymentRefused", outcomes)
        self.assertEqual(services.outstanding_fines(self.member), 0)

    def test_part_payments_at_once_both_book(self):
        outcomes = race(
            [lambda i=i: services.pay_fine(self.member, 100, f"PART-{i}", now=f.NOW).amount_cents for i in range(4)]
        )
        self.assertEqual(outcomes, [100, 100, 100, 100])
        self.assertEqual(FinePayment.objects.count(), 4)
        self.assertEqual(services.outstanding_fines(self.member), 0)


class ReturnRaceTests(TransactionTestCase):
    """The same copy checked in at two desks at once."""

    def test_one_return_wins(self):
        loan = f.loan(f.book(), f.member(), borrowed=f.NOW)
        outcomes = race([lambda: services.return_book(loan, now=loan.due_at + timedelta(days=1)).fine_cents] * 3)
        self.assertEqual(outcomes, [25, "AlreadyReturned", "AlreadyReturned"])
        self.assertEqual(Loan.objects.get(pk=loan.pk).fine_cents, 25)


class NoticeCommitTests(TransactionTestCase):
    """Notices leave only with a commit."""

    def setUp(self):
        notices.clear()
        self.book = f.book("Jane Eyre", year=1847)
        self.member = f.member("eyre@example.org")

    def test_a_committed_hold_sends_its_notice(self):
        services.reserve(self.book, self.member, now=f.NOW)
        self.assertEqual([n[:2] for n in notices.outbox], [("hold-ready", "eyre@example.org")])

    def test_a_rolled_back_hold_sends_nothing(self):
        with self.assertRaises(RuntimeError):
            with transaction.atomic():
                services.reserve(self.book, self.member, now=f.NOW)
                raise RuntimeError("undo")
        self.assertEqual(notices.outbox, [])
        self.assertFalse(Reservation.objects.exists())

    def test_the_notice_waits_for_the_outer_transaction(self):
        with transaction.atomic():
            services.reserve(self.book, self.member, now=f.NOW)
            self.assertEqual(notices.outbox, [])
        self.assertEqual(len(notices.outbox), 1)

    def test_a_return_notifies_the_next_member_after_commit(self):
        loan = services.lend(self.book, f.member(), now=f.NOW)
        services.reserve(self.book, self.member, now=f.NOW)
        self.assertEqual(notices.outbox, [])
        services.return_book(loan, now=f.NOW + timedelta(days=2))
        self.assertEqual([n[1] for n in notices.outbox], ["eyre@example.org"])

    def test_a_rolled_back_savepoint_drops_its_notice_only(self):
        other = f.book("Villette", year=1853)
        with transaction.atomic():
            services.reserve(self.book, self.member, now=f.NOW)
            try:
                with transaction.atomic():
                    services.reserve(other, self.member, now=f.NOW)
                    raise RuntimeError("not this one")
            except RuntimeError:
                pass
        self.assertEqual(len(notices.outbox), 1)
        self.assertEqual(Reservation.objects.get().book, self.book)

    def test_clearing_fines_notifies_after_commit(self):
        f.fined_loan(f.book(), self.member, 125)
        services.pay_fine(self.member, 125, "CLR-1", now=f.NOW)
        self.assertEqual(notices.outbox, [("fines-cleared", "eyre@example.org", "You owe the library nothing.")])


class SavepointTests(TransactionTestCase):
    """atomic() blocks inside each other, with commits that stay."""

    def setUp(self):
        self.author = Author.objects.create(name="Mary Shelley", born=1797)

    def test_an_inner_failure_keeps_the_outer_work(self):
        with transaction.atomic():
            Book.objects.create(title="Frankenstein", isbn="9780000000001", author=self.author, published_year=1818)
            with self.assertRaises(IntegrityError):
                with transaction.atomic():
                    Book.objects.create(title="Copy", isbn="9780000000001", author=self.author, published_year=1818)
        self.assertEqual(Book.objects.count(), 1)

    def test_an_outer_failure_drops_the_inner_work(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                with transaction.atomic():
                    Book.objects.create(title="The Last Man", isbn="9780000000002", author=self.author, published_year=1826)
                Book.objects.create(title="Codex", isbn="9780000000003", author=self.author, published_year=1200)
        self.assertEqual(Book.objects.count(), 0)

    def test_each_autocommitted_save_stays(self):
        for i in range(5):
            Book.objects.create(title=f"Draft {i}", isbn=f"978000000010{i}", author=self.author, published_year=1820 + i)
        with self.assertRaises(IntegrityError):
            Book.objects.create(title="Bad", isbn="9780000000100", author=self.author, published_year=1830)
        self.assertEqual(Book.objects.count(), 5)

    def test_set_rollback_undoes_without_an_error(self):
        with transaction.atomic():
            Book.objects.create(title="Mathilda", isbn="9780000000200", author=self.author, published_year=1819)
            transaction.set_rollback(True)
        self.assertEqual(Book.objects.count(), 0)
        self.assertEqual(Author.objects.count(), 1)


class SequenceResetTests(TransactionTestCase):
    """``reset_sequences``: every test starts the ids at 1 (on tables emptied first).

    Django resets every table's sequence here, the seeded genres' too, and
    leaves them so. Under Django's own runner nothing that runs after this
    class in the same process may insert next to restored seed rows (a
    ``serialized_rollback`` class creating a genre would collide with id 1
    on PostgreSQL); in Django's order (module, then class name) none does.
    A harness that runs classes in any order must restore the sequences
    too — what ``catalog.tests.test_seed`` checks.
    """

    reset_sequences = True

    def test_the_first_author_is_number_one(self):
        self.assertEqual(Author.objects.create(name="First").pk, 1)

    def test_ids_count_up_from_one(self):
        ids = [Member.objects.create(name="n", email=f"seq{i}@example.org", joined=f.NOW.date()).pk for i in range(3)]
        self.assertEqual(ids, [1, 2, 3])

    def test_a_loan_of_book_one_to_member_one(self):
        loan = services.lend(f.book(), f.member(), now=f.NOW)
        self.assertEqual((loan.pk, loan.book_id, loan.member_id), (1, 1, 1))
