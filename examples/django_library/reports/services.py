"""Report queries over the catalogue, and the overdue snapshots."""

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from catalog.models import Book, Member
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
