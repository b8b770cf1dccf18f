"""Report queries over the catalogue, and the overdue snapshots."""

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear
from django.utils import timezone

from catalog.models import Book, FinePayment, Genre, Loan, Member, Reservation
from catalog.services import fine_for, overdue_loans

from .models import OverdueSnapshot, SnapshotLine


def overdue_report(now=None):
    """One row per overdue loan: who, what, how late, and the fine so far."""
    now = now or timezone.now()
    rows = []
    for loan in overdue_loans(now):
        rows.append(
            {
                "loan": loan.pk,
                "member": loan.member.email,
                "book": loan.book.title,
                "isbn": loan.book.isbn,
                "days_overdue": (now - loan.due_at).days,
                "fine_cents": fine_for(loan, now),
            }
        )
    return rows


def popular_books(limit=10):
    """The books lent most often (ties by title), with their loan counts."""
    return list(
        Book.objects.annotate(times_lent=Count("loans"))
        .filter(times_lent__gt=0)
        .order_by("-times_lent", "title")
        .values("isbn", "title", "times_lent")[:limit]
    )


def member_activity():
    """Per member: loans ever, loans open now, fines paid so far (cents)."""
    return list(
        Member.objects.annotate(
            total_loans=Count("loans"),
            open_loans=Count("loans", filter=Q(loans__returned_at__isnull=True)),
            fines_cents=Sum("loans__fine_cents", default=0),
        )
        .order_by("email")
        .values("email", "total_loans", "open_loans", "fines_cents")
    )


@transaction.atomic
def take_snapshot(now=None):
    """Stores the overdue report as it is at ``now``, all or nothing.

    A second snapshot for the same moment violates the unique ``taken_at``
    and leaves no line behind.
    """
    now = now or timezone.now()
    rows = overdue_report(now)
    snapshot = OverdueSnapshot.objects.create(
        taken_at=now,
        loans=len(rows),
        members=len({r["member"] for r in rows}),
        fines_cents=sum(r["fine_cents"] for r in rows),
    )
    SnapshotLine.objects.bulk_create(
        SnapshotLine(
            snapshot=snapshot,
            loan_id=r["loan"],
            member_email=r["member"],
            book_title=r["book"],
            days_overdue=r["days_overdue"],
            fine_cents=r["fine_cents"],
        )
        for r in rows
    )
    return snapshot


def fines_report():
    """Members who owe money: email, fined, paid, outstanding (cents), most owed first."""
    paid = (
        FinePayment.objects.filter(member=OuterRef("pk"))
        .values("member")
        .annotate(t=Sum("amount_cents"))
        .values("t")
    )
    rows = (
        Member.objects.annotate(
            fined=Sum("loans__fine_cents", default=0),
            paid=Coalesce(Subquery(paid, output_field=IntegerField()), Value(0)),
        )
        .values("email", "fined", "paid")
        .order_by("email")
    )
    report = [dict(r, outstanding=r["fined"] - r["paid"]) for r in rows]
    report = [r for r in report if r["outstanding"] > 0]
    report.sort(key=lambda r: (-r["outstanding"], r["email"]))
    return report


def genre_shelf():
    """Every genre (the seeded ones and any added since) with its books and loans ever."""
    return list(
        Genre.objects.annotate(
            books_count=Count("books", distinct=True),
            loans_count=Count("books__loans", distinct=True),
        )
        .order_by("slug")
        .values("slug", "books_count", "loans_count")
    )


def reservation_queues():
    """Books with active reservations: isbn, title, waiting, held; longest queue first."""
    rows = (
        Book.objects.annotate(
            waiting=Count("reservations", filter=Q(reservations__status=Reservation.WAITING)),
            held=Count("reservations", filter=Q(reservations__status=Reservation.READY)),
        )
        .filter(Q(waiting__gt=0) | Q(held__gt=0))
        .order_by("-waiting", "title")
        .values("isbn", "title", "waiting", "held")
    )
    return list(rows)


def loans_per_month(year):
    """{month: loans started that month} for ``year`` (months without loans left out)."""
    rows = (
        Loan.objects.annotate(y=ExtractYear("borrowed_at"), m=ExtractMonth("borrowed_at"))
        .filter(y=year)
        .values("m")
        .annotate(n=Count("id"))
        .order_by("m")
    )
    return {r["m"]: r["n"] for r in rows}
