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

from catalog import services
from catalog.models import Book, Genre, Loan, Member

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
