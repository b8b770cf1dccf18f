"""Model and database constraint tests of the catalogue (TestCase)."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.test import TestCase, skipUnlessDBFeature

from catalog.models import Author, Book, Genre, Loan, Member

from . import factories as f


class GenreSeedTests(TestCase):
    """The data migration's genres are in the database every test starts from."""

    def test_standard_genres_are_seeded(self):
        self.assertEqual(
            list(Genre.objects.values_list("slug", flat=True)),
            ["children", "fiction", "history", "poetry", "science"],
        )

    def test_deleting_a_genre_keeps_its_books(self):
        poetry = f.genre("poetry")
        b = f.book("Leaves of Grass", year=1855, genre=poetry)
        poetry.delete()
        b.refresh_from_db()
        self.assertIsNone(b.genre)
        self.assertEqual(Genre.objects.count(), 4)


class BookConstraintTests(TestCase):
    """ISBNs are unique, years plausible, authors with books stay."""

    @classmethod
    def setUpTestData(cls):
        cls.author = f.author()
        cls.book = f.book(by=cls.author, isbn_="9780547773742")

    def test_duplicate_isbn_is_rejected_by_the_database(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Book.objects.create(title="Copy", isbn="9780547773742", author=self.author, published_year=1968)
        self.assertEqual(Book.objects.filter(isbn="9780547773742").count(), 1)

    def test_year_before_printing_is_rejected(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.book("Codex", by=self.author, year=1200)

    def test_author_with_books_cannot_be_deleted(self):
        with self.assertRaises(ProtectedError):
            self.author.delete()
        self.assertTrue(Author.objects.filter(pk=self.author.pk).exists())

    def test_books_by_author_in_title_order(self):
        f.book("The Tombs of Atuan", by=self.author, year=1970)
        f.book("The Farthest Shore", by=self.author, year=1972)
        titles = list(self.author.books.values_list("title", flat=True))
        self.assertEqual(titles, ["A Wizard of Earthsea", "The Farthest Shore", "The Tombs of Atuan"])


class MemberConstraintTests(TestCase):
    """Emails identify members."""

    def test_duplicate_email_is_rejected(self):
        f.member("tenar@example.org")
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.member("tenar@example.org")
        self.assertEqual(Member.objects.count(), 1)

    def test_new_members_may_borrow_three_books(self):
        self.assertEqual(f.member().max_loans, 3)


class LoanConstraintTests(TestCase):
    """A copy is out to one member at a time; loans end after they start."""

    @classmethod
    def setUpTestData(cls):
        cls.book = f.book()
        cls.alice = f.member("alice@example.org")
        cls.bob = f.member("bob@example.org")

    @skipUnlessDBFeature("supports_partial_indexes")
    def test_second_open_loan_of_a_book_is_rejected(self):
        f.loan(self.book, self.alice)
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                f.loan(self.book, self.bob)
        self.assertEqual(Loan.objects.filter(book=self.book).count(), 1)

    def test_closed_loans_do_not_block_a_new_one(self):
        f.loan(self.book, self.alice, borrowed=f.NOW - timedelta(days=30), returned=f.NOW - timedelta(days=20))
        f.loan(self.book, self.alice, borrowed=f.NOW - timedelta(days=10), returned=f.NOW - timedelta(days=5))
        f.loan(self.book, self.bob)
        self.assertEqual(Loan.objects.filter(book=self.book, returned_at__isnull=True).count(), 1)
        self.assertEqual(self.book.loans.count(), 3)

    def test_due_date_must_follow_borrowing(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Loan.objects.create(book=self.book, member=self.alice, borrowed_at=f.NOW, due_at=f.NOW)

    def test_loaned_book_cannot_be_deleted(self):
        f.loan(self.book, self.alice)
        with self.assertRaises(ProtectedError):
            self.book.delete()
