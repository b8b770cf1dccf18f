"""Model and database constraint tests of the catalogue (TestCase)."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, ProtectedError
from django.test import TestCase, skipUnlessDBFeature

from catalog.models import Author, Book, Genre, Loan, Member, Reservation

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


class AuthorTests(TestCase):
    """Authors and what is asked of them."""

    @classmethod
    def setUpTestData(cls):
        cls.woolf = f.author("Virginia Woolf", 1882)
        cls.anon = f.author("Anonymous", None)
        for title, year in (("Orlando", 1928), ("The Waves", 1931), ("Mrs Dalloway", 1925)):
            f.book(title, by=cls.woolf, year=year)

    def test_authors_in_name_order(self):
        self.assertEqual(list(Author.objects.values_list("name", flat=True)), ["Anonymous", "Virginia Woolf"])

    def test_birth_year_is_optional(self):
        self.assertIsNone(Author.objects.get(pk=self.anon.pk).born)

    def test_book_counts_per_author(self):
        counts = dict(Author.objects.annotate(n=Count("books")).values_list("name", "n"))
        self.assertEqual(counts, {"Anonymous": 0, "Virginia Woolf": 3})

    def test_an_author_without_books_can_be_deleted(self):
        self.anon.delete()
        self.assertEqual(Author.objects.count(), 1)

    def test_first_and_last_book(self):
        years = self.woolf.books.aggregate(first=Min("published_year"), last=Max("published_year"))
        self.assertEqual(years, {"first": 1925, "last": 1931})

    def test_books_written_after_the_author_turned_forty_five(self):
        titles = Book.objects.filter(author=self.woolf, published_year__gte=F("author__born") + 45)
        self.assertEqual([b.title for b in titles], ["Orlando", "The Waves"])


class MemberModelTests(TestCase):
    """Members, their cards and their loans."""

    @classmethod
    def setUpTestData(cls):
        cls.members = [f.member(f"m{i}@example.org", active=i % 2 == 0) for i in range(6)]

    def test_members_in_email_order(self):
        self.assertEqual(Member.objects.first().email, "m0@example.org")
        self.assertEqual(Member.objects.last().email, "m5@example.org")

    def test_active_and_suspended_members(self):
        self.assertEqual(Member.objects.filter(active=True).count(), 3)
        self.assertEqual(Member.objects.filter(active=False).count(), 3)

    def test_reactivating_a_member(self):
        Member.objects.filter(active=False).update(active=True)
        self.assertEqual(Member.objects.filter(active=True).count(), 6)

    def test_emails_are_case_sensitive_keys_as_stored(self):
        self.assertTrue(Member.objects.filter(email__iexact="M3@EXAMPLE.ORG").exists())

    def test_a_member_with_loans_cannot_be_deleted(self):
        f.loan(f.book(), self.members[0])
        with self.assertRaises(ProtectedError):
            self.members[0].delete()

    def test_a_member_without_loans_can_be_deleted(self):
        self.members[1].delete()
        self.assertEqual(Member.objects.count(), 5)

    def test_deleting_a_member_deletes_their_reservations(self):
        m = f.member()
        f.reservation(f.book(), m)
        m.delete()
        self.assertFalse(Reservation.objects.exists())

    def test_raising_a_members_limit(self):
        Member.objects.filter(pk=self.members[2].pk).update(max_loans=F("max_loans") + 2)
        self.assertEqual(Member.objects.get(pk=self.members[2].pk).max_loans, 5)


class BookQueryTests(TestCase):
    """Queries the catalogue pages make."""

    @classmethod
    def setUpTestData(cls):
        cls.author = f.author("Isaac Asimov", 1920)
        cls.science, cls.fiction = f.genre("science"), f.genre("fiction")
        cls.books = [
            f.book(f"Foundation {i}", by=cls.author, year=1950 + i, genre=cls.fiction if i % 2 else cls.science)
            for i in range(8)
        ]
        cls.member = f.member()
        for b in cls.books[:3]:
            f.loan(b, cls.member)

    def test_books_per_genre(self):
        counts = dict(Genre.objects.annotate(n=Count("books")).values_list("slug", "n"))
        self.assertEqual(counts, {"children": 0, "fiction": 4, "history": 0, "poetry": 0, "science": 4})

    def test_books_on_loan(self):
        open_loans = Loan.objects.filter(returned_at__isnull=True).values("book_id")
        self.assertEqual(Book.objects.filter(pk__in=open_loans).count(), 3)

    def test_books_never_lent(self):
        self.assertEqual(Book.objects.filter(loans__isnull=True).count(), 5)

    def test_books_by_decade(self):
        self.assertEqual(Book.objects.filter(published_year__range=(1950, 1959)).count(), 8)
        self.assertEqual(Book.objects.filter(published_year__gte=1960).count(), 0)

    def test_a_page_of_books(self):
        page = list(Book.objects.values_list("title", flat=True)[2:5])
        self.assertEqual(page, ["Foundation 2", "Foundation 3", "Foundation 4"])

    def test_isbn_lookup(self):
        b = self.books[4]
        self.assertEqual(Book.objects.get(isbn=b.isbn), b)

    def test_moving_books_to_another_genre(self):
        Book.objects.filter(genre=self.science).update(genre=self.fiction)
        self.assertEqual(self.fiction.books.count(), 8)

    def test_book_and_author_in_one_query(self):
        with self.assertNumQueries(1):
            names = {b.author.name for b in Book.objects.select_related("author")}
        self.assertEqual(names, {"Isaac Asimov"})

    def test_genre_prefetch_takes_two_queries(self):
        with self.assertNumQueries(2):
            sizes = {g.slug: len(g.books.all()) for g in Genre.objects.prefetch_related("books")}
        self.assertEqual(sizes["science"], 4)


class FinePaymentModelTests(TestCase):
    """Fine payments as stored."""

    def test_payments_order_by_time(self):
        m = f.member()
        second = f.payment(m, 20, at=f.NOW + timedelta(hours=1))
        first = f.payment(m, 10, at=f.NOW)
        self.assertEqual(list(m.payments.all()), [first, second])

    def test_str(self):
        m = f.member("str@example.org")
        self.assertEqual(str(f.payment(m, 75)), "75 cents from str@example.org")
