"""Rows added next to the data migration's genres.

The genres come from ``0005_seed_genres``; their ids are whatever the
migration got, and the table's id sequence stands after them. These tests
insert more genres and check the new ids and counts against the seed. A
harness that empties the table after a ``TransactionTestCase`` and puts the
seed back with the sequence reset (``flush`` + reload) makes the first
insert here collide with a restored id: ``duplicate key … Key (id)=(1)``.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.test import TestCase, TransactionTestCase

from catalog import services
from catalog.models import Book, Genre

from . import factories as f

SEEDED = ["children", "fiction", "history", "poetry", "science"]


def seed_genre_module():
    import importlib

    return importlib.import_module("catalog.migrations.0005_seed_genres")


class SeededGenreIdTests(TestCase):
    """New genres get ids after the seeded ones."""

    @classmethod
    def setUpTestData(cls):
        cls.seed_ids = list(Genre.objects.order_by("id").values_list("id", flat=True))
        cls.seed_max = max(cls.seed_ids)

    def test_the_seed_is_what_the_migration_lists(self):
        self.assertEqual(sorted(slug for slug, _ in seed_genre_module().GENRES), SEEDED)
        self.assertEqual(len(self.seed_ids), 5)

    def test_a_new_genre_gets_an_id_after_the_seed(self):
        drama = Genre.objects.create(slug="drama", name="Drama")
        self.assertGreater(drama.pk, self.seed_max)
        self.assertEqual(Genre.objects.count(), 6)

    def test_ids_keep_increasing(self):
        first = Genre.objects.create(slug="travel", name="Travel")
        second = Genre.objects.create(slug="cookery", name="Cookery")
        self.assertGreater(second.pk, first.pk)
        self.assertEqual(Genre.objects.filter(pk__gt=self.seed_max).count(), 2)

    def test_bulk_created_genres_join_the_seed(self):
        Genre.objects.bulk_create([Genre(slug=s, name=s.title()) for s in ("art", "music", "sport")])
        self.assertEqual(Genre.objects.count(), 8)
        self.assertEqual(Genre.objects.aggregate(m=Max("id"))["m"] > self.seed_max, True)
        self.assertEqual(list(Genre.objects.values_list("slug", flat=True)), ["art", "children", "fiction", "history", "music", "poetry", "science", "sport"])

    def test_seeded_ids_are_unchanged_by_inserts(self):
        Genre.objects.create(slug="drama", name="Drama")
        self.assertEqual(list(Genre.objects.filter(slug__in=SEEDED).order_by("id").values_list("id", flat=True)), self.seed_ids)

    def test_a_seeded_slug_cannot_be_added_again(self):
        with self.assertRaises(IntegrityError):
            with transaction.atomic():
                Genre.objects.create(slug="fiction", name="Fiction again")
        self.assertEqual(Genre.objects.count(), 5)

    def test_books_in_a_new_genre_and_a_seeded_one(self):
        drama = Genre.objects.create(slug="drama", name="Drama")
        f.book("Hamlet", year=1603, genre=drama)
        f.book("Emma", year=1815, genre=f.genre("fiction"))
        self.assertEqual(Book.objects.filter(genre__pk__gt=self.seed_max).count(), 1)
        self.assertEqual(Book.objects.filter(genre__pk__lte=self.seed_max).count(), 1)

    def test_renaming_a_seeded_genre(self):
        Genre.objects.filter(slug="science").update(name="Science & Nature")
        self.assertEqual(f.genre("science").name, "Science & Nature")
        self.assertEqual(Genre.objects.count(), 5)


class SeededGenreLendingTests(TestCase):
    """Lending books of new and seeded genres."""

    @classmethod
    def setUpTestData(cls):
        cls.comics = Genre.objects.create(slug="comics", name="Comics")
        cls.member = f.member()

    def test_the_class_genre_follows_the_seed(self):
        self.assertEqual(Genre.objects.count(), 6)
        self.assertEqual(Genre.objects.order_by("-id").first(), self.comics)

    def test_lending_a_book_of_the_new_genre(self):
        book = f.book("Maus", year=1986, genre=self.comics)
        loan = services.lend(book, self.member, now=f.NOW)
        self.assertEqual(loan.book.genre.slug, "comics")

    def test_another_genre_after_the_class_one(self):
        manga = Genre.objects.create(slug="manga", name="Manga")
        self.assertGreater(manga.pk, self.comics.pk)


class SeedRestoredPerTestTests(TransactionTestCase):
    """Committed inserts next to the seed, which Django restores before each test."""

    serialized_rollback = True

    def test_the_seed_is_there(self):
        self.assertEqual(list(Genre.objects.values_list("slug", flat=True)), SEEDED)

    def test_committed_new_genre_after_the_seed(self):
        seed_max = Genre.objects.aggregate(m=Max("id"))["m"]
        drama = Genre.objects.create(slug="drama", name="Drama")
        self.assertGreater(drama.pk, seed_max)
        self.assertEqual(Genre.objects.count(), 6)

    def test_committed_genres_are_gone_in_the_next_test(self):
        self.assertFalse(Genre.objects.exclude(slug__in=SEEDED).exists())
        Genre.objects.create(slug="sagas", name="Sagas")
        self.assertEqual(Genre.objects.count(), 6)
