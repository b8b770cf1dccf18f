"""Finding books on the shelves: by words, genre, years and availability."""

from django.db.models import Exists, OuterRef, Q

from .models import Book, Loan, Reservation


def search_books(text=None, *, genre=None, year_from=None, year_to=None, available=None):
    """Books matching every criterion given, in title order.

    ``text`` matches words of the title or the author's name (case-insensitive);
    ``genre`` is a slug; ``available`` True keeps the copies on the shelf and
    not held for anyone, False the ones that are out or held.
    """
    books = Book.objects.select_related("author", "genre")
    if text:
        for word in text.split():
            books = books.filter(Q(title__icontains=word) | Q(author__name__icontains=word))
    if genre:
        books = books.filter(genre__slug=genre)
    if year_from is not None:
        books = books.filter(published_year__gte=year_from)
    if year_to is not None:
        books = books.filter(published_year__lte=year_to)
    if available is not None:
        out = Loan.objects.filter(book=OuterRef("pk"), returned_at__isnull=True)
        held = Reservation.objects.filter(book=OuterRef("pk"), status=Reservation.READY)
        books = books.annotate(out=Exists(out), held=Exists(held))
        if available:
            books = books.filter(out=False, held=False)
        else:
            books = books.filter(Q(out=True) | Q(held=True))
    return books.order_by("title", "id")


def titles(books):
    """The titles of ``books``, in order."""
    return [b.title for b in books]
