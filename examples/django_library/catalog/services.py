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
from django.db.models import Q, Sum
from django.utils import timezone

from . import notices
from .models import Book, FinePayment, Loan, Member, Reservation


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
    """The loan may not be renewed (overdue, renewed too often, or reserved)."""


class BookReserved(LendingError):
    """The copy is held for another member."""


class FinesOutstanding(LendingError):
    """The member owes too much to borrow."""


class ReservationRefused(LendingError):
    """The member may not reserve this book (has it, or reserved it already)."""


class PaymentRefused(LendingError):
    """The payment is more than the member owes, or was booked before."""


def lend(book, member, *, now=None, days=None):
    """Lends ``book`` to ``member`` and returns the new open :class:`Loan`.

    A copy held for someone else (a ``ready`` reservation) is refused; the
    member's own active reservation of the book is fulfilled by the loan.
    """
    now = now or timezone.now()
    days = days or settings.LIBRARY_LOAN_DAYS
    try:
        with transaction.atomic():
            # Lock order: book, then member, everywhere.
            book = Book.objects.select_for_update().get(pk=book.pk)
            member = Member.objects.select_for_update().get(pk=member.pk)
            if not member.active:
                raise MemberInactive(f"{member.email} is suspended")
            owed = outstanding_fines(member)
            if owed >= settings.LIBRARY_BLOCKING_FINE_CENTS:
                raise FinesOutstanding(f"{member.email} owes {owed} cents")
            if Loan.objects.filter(book=book, returned_at__isnull=True).exists():
                raise BookUnavailable(f"{book.isbn} is out on loan")
            if Reservation.objects.filter(book=book, status=Reservation.READY).exclude(member=member).exists():
                raise BookReserved(f"{book.isbn} is held for another member")
            open_loans = Loan.objects.filter(member=member, returned_at__isnull=True).count()
            if open_loans >= member.max_loans:
                raise LoanLimitReached(f"{member.email} has {open_loans} books out")
            loan = Loan.objects.create(
                book=book,
                member=member,
                borrowed_at=now,
                due_at=now + timedelta(days=days),
            )
            Reservation.objects.filter(book=book, member=member, status__in=Reservation.ACTIVE).update(
                status=Reservation.FULFILLED, ready_until=None
            )
            return loan
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
        _hold_for_next(loan.book_id, now)
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
        if Reservation.objects.filter(book_id=loan.book_id, status=Reservation.WAITING).exists():
            raise RenewalRefused(f"loan {loan.pk}: another member is waiting for the book")
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


# Fines and payments.


def outstanding_fines(member):
    """What ``member`` owes in cents: fines charged minus payments made."""
    charged = Loan.objects.filter(member=member).aggregate(t=Sum("fine_cents", default=0))["t"]
    paid = FinePayment.objects.filter(member=member).aggregate(t=Sum("amount_cents", default=0))["t"]
    return charged - paid


def pay_fine(member, amount_cents, reference, *, now=None):
    """Books a payment of ``amount_cents`` towards ``member``'s fines.

    Refused when it is more than they owe or its reference was used before.
    Returns the :class:`FinePayment`.
    """
    now = now or timezone.now()
    if amount_cents <= 0:
        raise ValueError("a payment must be positive")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        owed = outstanding_fines(member)
        if amount_cents > owed:
            raise PaymentRefused(f"{member.email} owes {owed} cents, not {amount_cents}")
        if FinePayment.objects.filter(reference=reference).exists():
            raise PaymentRefused(f"payment {reference} was booked before")
        payment = FinePayment.objects.create(member=member, amount_cents=amount_cents, paid_at=now, reference=reference)
        if owed == amount_cents:
            notices.send_on_commit("fines-cleared", member.email, "You owe the library nothing.")
        return payment


# Reservations.


def _hold(reservation, now):
    reservation.status = Reservation.READY
    reservation.ready_until = now + timedelta(days=settings.LIBRARY_HOLD_DAYS)
    reservation.save(update_fields=["status", "ready_until"])
    notices.send_on_commit(
        "hold-ready",
        reservation.member.email,
        f"{reservation.book.title} is held for you until {reservation.ready_until:%Y-%m-%d}.",
    )


def _hold_for_next(book_id, now):
    """Holds the copy for the first waiting member, if it is free and nobody holds it."""
    if Reservation.objects.filter(book_id=book_id, status=Reservation.READY).exists():
        return None
    if Loan.objects.filter(book_id=book_id, returned_at__isnull=True).exists():
        return None
    nxt = (
        Reservation.objects.select_for_update()
        .select_related("book", "member")
        .filter(book_id=book_id, status=Reservation.WAITING)
        .order_by("created_at", "id")
        .first()
    )
    if nxt is not None:
        _hold(nxt, now)
    return nxt


def reserve(book, member, *, now=None):
    """Puts ``member`` in the queue for ``book``; returns the :class:`Reservation`.

    A copy on the shelf with nobody waiting is held for them at once
    (``ready``); otherwise they wait for their turn.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            book = Book.objects.select_for_update().get(pk=book.pk)
            member = Member.objects.select_for_update().get(pk=member.pk)
            if not member.active:
                raise MemberInactive(f"{member.email} is suspended")
            if Loan.objects.filter(book=book, member=member, returned_at__isnull=True).exists():
                raise ReservationRefused(f"{member.email} has {book.isbn} already")
            active = Reservation.objects.filter(member=member, status__in=Reservation.ACTIVE)
            if active.filter(book=book).exists():
                raise ReservationRefused(f"{member.email} reserved {book.isbn} already")
            if active.count() >= settings.LIBRARY_MAX_RESERVATIONS:
                raise ReservationRefused(f"{member.email} has {settings.LIBRARY_MAX_RESERVATIONS} reservations")
            reservation = Reservation.objects.create(book=book, member=member, created_at=now)
            if not Reservation.objects.filter(book=book, status=Reservation.WAITING).exclude(pk=reservation.pk).exists():
                _hold_for_next(book.pk, now)
                reservation.refresh_from_db()
            return reservation
    except IntegrityError as e:
        raise ReservationRefused(f"{member.email} reserved {book.isbn} already") from e


def cancel_reservation(reservation, *, now=None):
    """Cancels an active reservation; a copy it held goes to the next in line."""
    now = now or timezone.now()
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if not reservation.is_active:
            raise ReservationRefused(f"reservation {reservation.pk} is {reservation.status}")
        was_ready = reservation.status == Reservation.READY
        reservation.status = Reservation.CANCELLED
        reservation.ready_until = None
        reservation.save(update_fields=["status", "ready_until"])
        if was_ready:
            _hold_for_next(reservation.book_id, now)
        return reservation


def expire_holds(now=None):
    """Expires every hold past its deadline and holds those copies for the next in line.

    Returns how many holds expired.
    """
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            Reservation.objects.select_for_update().filter(status=Reservation.READY, ready_until__lt=now).order_by("id")
        )
        for reservation in stale:
            reservation.status = Reservation.EXPIRED
            reservation.save(update_fields=["status"])
        for book_id in sorted({r.book_id for r in stale}):
            _hold_for_next(book_id, now)
        return len(stale)


def queue_position(reservation):
    """1 for the member first in line (or holding the copy), 2 for the next, …; None when not active."""
    reservation = Reservation.objects.get(pk=reservation.pk)
    if not reservation.is_active:
        return None
    if reservation.status == Reservation.READY:
        return 1
    ahead = Reservation.objects.filter(book_id=reservation.book_id, status__in=Reservation.ACTIVE).filter(
        Q(created_at__lt=reservation.created_at) | Q(created_at=reservation.created_at, id__lt=reservation.id)
    )
    return ahead.count() + 1
