"""Lending rules: lend, return, renew, and what is overdue.

Every operation that reads a state and then changes it runs in one
transaction and locks the rows it decides on (``select_for_update``), so two
librarians lending the same copy at the same moment cannot both succeed.
On SQLite, where ``select_for_update`` is a no-op, the settings open every
transaction with ``BEGIN IMMEDIATE``, which serialises writers instead.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Book, Loan, Member


class LendingError(Exception):
    """A lending rule said no."""


class BookUnavailable(LendingError):
    """The book is out on loan."""


class MemberInactive(LendingError):
    """The member's card is suspended."""


class LoanLimitReached(LendingError):
    """The member has as many books out as they may."""


class AlreadyReturned(LendingError):
    """The loan was closed before."""


class RenewalRefused(LendingError):
    """The loan may not be renewed (overdue, or renewed too often)."""


def lend(book, member, *, now=None, days=None):
    """Lends ``book`` to ``member`` and returns the new open :class:`Loan`."""
    now = now or timezone.now()
    days = days or settings.LIBRARY_LOAN_DAYS
    try:
        with transaction.atomic():
            # Lock order: book, then member, everywhere.
            book = Book.objects.select_for_update().get(pk=book.pk)
            member = Member.objects.select_for_update().get(pk=member.pk)
            if not member.active:
                raise MemberInactive(f"{member.email} is suspended")
            if Loan.objects.filter(book=book, returned_at__isnull=True).exists():
                raise BookUnavailable(f"{book.isbn} is out on loan")
            open_loans = Loan.objects.filter(member=member, returned_at__isnull=True).count()
            if open_loans >= member.max_loans:
                raise LoanLimitReached(f"{member.email} has {open_loans} books out")
            return Loan.objects.create(
                book=book,
                member=member,
                borrowed_at=now,
                due_at=now + timedelta(days=days),
            )
    except IntegrityError as e:
        # The partial unique index caught a race the checks did not.
        raise BookUnavailable(f"{book.isbn} is out on loan") from e


def fine_for(loan, returned_at):
    """The fine in cents for bringing ``loan`` back at ``returned_at``."""
    late = returned_at - loan.due_at
    if late <= timedelta(0):
        return 0
    days_late = late.days + (1 if late.seconds or late.microseconds else 0)
    return min(days_late * settings.LIBRARY_FINE_PER_DAY_CENTS, settings.LIBRARY_MAX_FINE_CENTS)


def return_book(loan, *, now=None):
    """Closes ``loan``, charging a fine when it is late; returns the loan."""
    now = now or timezone.now()
    with transaction.atomic():
        loan = Loan.objects.select_for_update().get(pk=loan.pk)
        if loan.returned_at is not None:
            raise AlreadyReturned(f"loan {loan.pk} was returned at {loan.returned_at:%Y-%m-%d}")
        loan.returned_at = now
        loan.fine_cents = fine_for(loan, now)
        loan.save(update_fields=["returned_at", "fine_cents"])
        return loan


def renew(loan, *, now=None):
    """Extends an open, not yet overdue loan by one loan period."""
    now = now or timezone.now()
    with transaction.atomic():
        loan = Loan.objects.select_for_update().get(pk=loan.pk)
        if loan.returned_at is not None:
            raise AlreadyReturned(f"loan {loan.pk} is closed")
        if loan.due_at < now:
            raise RenewalRefused(f"loan {loan.pk} is overdue")
        if loan.renewals >= settings.LIBRARY_MAX_RENEWALS:
            raise RenewalRefused(f"loan {loan.pk} was renewed {loan.renewals} times")
        loan.due_at += timedelta(days=settings.LIBRARY_LOAN_DAYS)
        loan.renewals += 1
        loan.save(update_fields=["due_at", "renewals"])
        return loan


def overdue_loans(now=None):
    """Open loans past their due date, longest overdue first."""
    now = now or timezone.now()
    return (
        Loan.objects.filter(returned_at__isnull=True, due_at__lt=now)
        .select_related("book", "member")
        .order_by("due_at", "id")
    )


def suspend_members_with_overdue_loans(now=None, *, grace_days=30):
    """Suspends every member with a loan more than ``grace_days`` overdue.

    Returns how many members were suspended by this call.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=grace_days)
    with transaction.atomic():
        late = Loan.objects.filter(returned_at__isnull=True, due_at__lt=cutoff).values("member_id")
        members = Member.objects.select_for_update().filter(active=True, pk__in=late)
        ids = list(members.values_list("pk", flat=True))
        return Member.objects.filter(pk__in=ids).update(active=False)
