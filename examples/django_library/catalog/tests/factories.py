"""Small helpers that make catalogue rows for tests (shared with reports)."""

from datetime import date, datetime, timedelta, timezone
from itertools import count

from catalog.models import Author, Book, Genre, Loan, Member

#: The moment every test calls "now", so dates and fines are exact.
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

_serial = count(1)


def isbn():
    """A fresh, valid-looking ISBN-13 (unique within the process)."""
    return f"978{next(_serial):010d}"


def author(name="Ursula K. Le Guin", born=1929):
    """A new author."""
    return Author.objects.create(name=name, born=born)


def book(title="A Wizard of Earthsea", *, by=None, year=1968, genre=None, isbn_=None):
    """A new book (by a new author unless ``by`` is given)."""
    return Book.objects.create(
        title=title,
        isbn=isbn_ or isbn(),
        author=by or author(),
        published_year=year,
        genre=genre,
    )


def member(email=None, *, name="Ged", active=True, max_loans=3):
    """A new member (with a fresh email unless one is given)."""
    return Member.objects.create(
        name=name,
        email=email or f"member{next(_serial)}@example.org",
        joined=date(2024, 1, 15),
        active=active,
        max_loans=max_loans,
    )


def loan(book_, member_, *, borrowed=NOW, days=14, returned=None):
    """A loan row written directly, without the lending rules."""
    return Loan.objects.create(
        book=book_,
        member=member_,
        borrowed_at=borrowed,
        due_at=borrowed + timedelta(days=days),
        returned_at=returned,
    )


def genre(slug):
    """A genre seeded by the data migration."""
    return Genre.objects.get(slug=slug)


def reservation(book_, member_, *, at=NOW, status="waiting", ready_until=None):
    """A reservation row written directly, without the reservation rules."""
    from catalog.models import Reservation

    if status == "ready" and ready_until is None:
        ready_until = at + timedelta(days=3)
    return Reservation.objects.create(book=book_, member=member_, created_at=at, status=status, ready_until=ready_until)


def payment(member_, cents, *, at=NOW, reference=None):
    """A fine payment written directly."""
    from catalog.models import FinePayment

    return FinePayment.objects.create(
        member=member_, amount_cents=cents, paid_at=at, reference=reference or f"PAY-{next(_serial)}"
    )


def fined_loan(book_, member_, cents, *, borrowed=NOW - timedelta(days=40)):
    """A returned loan that was charged ``cents``."""
    return Loan.objects.create(
        book=book_,
        member=member_,
        borrowed_at=borrowed,
        due_at=borrowed + timedelta(days=14),
        returned_at=borrowed + timedelta(days=20),
        fine_cents=cents,
    )
