"""Searching the catalogue (TestCase, one shared shelf per class)."""

from datetime import timedelta

from django.test import TestCase

from catalog import services
from catalog.search import search_books, titles

from . import factories as f


class ShelfFixture(TestCase):
    """Ten books by five authors across the seeded genres, some out, one held."""

    @classmethod
    def setUpTestData(cls):
        austen = f.author("Jane Austen", 1775)
        tolstoy = f.author("Leo Tolstoy", 1828)
        sagan = f.author("Carl Sagan", 1934)
        carroll = f.author("Lewis Carroll", 1832)
        homer = f.author("Homer", None)
        fiction, science = f.genre("fiction"), f.genre("science")
        children, history, poetry = f.genre("children"), f.genre("history"), f.genre("poetry")
        cls.books = {
            b.title: b
            for b in [
                f.book("Emma", by=austen, year=1815, genre=fiction),
                f.book("Persuasion", by=austen, year=1817, genre=fiction),
                f.book("Pride and Prejudice", by=austen, year=1813, genre=fiction),
                f.book("War and Peace", by=tolstoy, year=1869, genre=fiction),
                f.book("Anna Karenina", by=tolstoy, year=1878, genre=fiction),
                f.book("Cosmos", by=sagan, year=1980, genre=science),
                f.book("Pale Blue Dot", by=sagan, year=1994, genre=science),
                f.book("Alice in Wonderland", by=carroll, year=1865, genre=children),
                f.book("The Odyssey", by=homer, year=1614, genre=poetry),
                f.book("Untitled Manuscript", by=homer, year=1500),
            ]
        }
        reader, waiter = f.member("reader@example.org"), f.member("waiter@example.org")
        services.lend(cls.books["Cosmos"], reader, now=f.NOW - timedelta(days=2))
        services.lend(cls.books["Emma"], reader, now=f.NOW - timedelta(days=1))
        done = services.lend(cls.books["War and Peace"], reader, now=f.NOW - timedelta(days=30))
        services.return_book(done, now=f.NOW - timedelta(days=20))
        services.reserve(cls.books["Persuasion"], waiter, now=f.NOW)
        cls.history = history


class TextSearchTests(ShelfFixture):
    """Words of titles and authors."""

    def test_no_criteria_lists_every_book_by_title(self):
        self.assertEqual(titles(search_books()), sorted(self.books))

    def test_a_title_word(self):
        self.assertEqual(titles(search_books("peace")), ["War and Peace"])

    def test_an_author_name(self):
        self.assertEqual(titles(search_books("austen")), ["Emma", "Persuasion", "Pride and Prejudice"])

    def test_case_does_not_matter(self):
        self.assertEqual(titles(search_books("COSMOS")), ["Cosmos"])

    def test_every_word_must_match(self):
        self.assertEqual(titles(search_books("tolstoy anna")), ["Anna Karenina"])

    def test_words_may_match_title_and_author_apart(self):
        self.assertEqual(titles(search_books("sagan dot")), ["Pale Blue Dot"])

    def test_nothing_matches(self):
        self.assertEqual(titles(search_books("dostoevsky")), [])

    def test_search_takes_one_query(self):
        with self.assertNumQueries(1):
            found = [(b.title, b.author.name, b.genre and b.genre.slug) for b in search_books("carroll")]
        self.assertEqual(found, [("Alice in Wonderland", "Lewis Carroll", "children")])


class FilterSearchTests(ShelfFixture):
    """Genres, years and availability."""

    def test_by_seeded_genre(self):
        self.assertEqual(titles(search_books(genre="science")), ["Cosmos", "Pale Blue Dot"])

    def test_a_genre_with_no_books(self):
        self.assertEqual(titles(search_books(genre=self.history.slug)), [])

    def test_an_unknown_genre(self):
        self.assertEqual(titles(search_books(genre="westerns")), [])

    def test_from_a_year(self):
        self.assertEqual(titles(search_books(year_from=1900)), ["Cosmos", "Pale Blue Dot"])

    def test_up_to_a_year(self):
        self.assertEqual(titles(search_books(year_to=1700)), ["The Odyssey", "Untitled Manuscript"])

    def test_a_range_of_years(self):
        self.assertEqual(
            titles(search_books(year_from=1813, year_to=1817)), ["Emma", "Persuasion", "Pride and Prejudice"]
        )

    def test_available_books(self):
        self.assertNotIn("Cosmos", titles(search_books(available=True)))
        self.assertNotIn("Persuasion", titles(search_books(available=True)))
        self.assertIn("War and Peace", titles(search_books(available=True)))
        self.assertEqual(len(search_books(available=True)), 7)

    def test_unavailable_books_are_out_or_held(self):
        self.assertEqual(titles(search_books(available=False)), ["Cosmos", "Emma", "Persuasion"])

    def test_criteria_combine(self):
        self.assertEqual(titles(search_books("austen", available=True)), ["Pride and Prejudice"])
        self.assertEqual(titles(search_books(genre="fiction", year_from=1850, available=True)), ["Anna Karenina", "War and Peace"])

    def test_returning_a_book_makes_it_available(self):
        loan = services.lend(self.books["Anna Karenina"], f.member(), now=f.NOW)
        self.assertIn("Anna Karenina", titles(search_books(available=False)))
        services.return_book(loan, now=f.NOW + timedelta(days=1))
        self.assertIn("Anna Karenina", titles(search_books(available=True)))

    def test_books_without_genre_are_found_by_text(self):
        self.assertEqual([b.genre for b in search_books("manuscript")], [None])


YEAR_WINDOWS = [
    (1500, 1500, 1), (1500, 1613, 1), (1500, 1614, 2), (1800, 1815, 2),
    (1800, 1820, 3), (1860, 1870, 2), (1870, 1880, 1), (1900, 2000, 2),
    (1995, 2025, 0), (1450, 2025, 10),
]


class YearWindowTests(ShelfFixture):
    """How many books each window of years finds."""


for _lo, _hi, _n in YEAR_WINDOWS:
    def _test(self, lo=_lo, hi=_hi, n=_n):
        self.assertEqual(search_books(year_from=lo, year_to=hi).count(), n)

    setattr(YearWindowTests, f"test_published_{_lo}_to_{_hi}", _test)
