"""Models of the catalogue."""

from django.db import models
from django.db.models import F, Q


class Author(models.Model):
    """Someone who wrote books."""

    name = models.CharField(max_length=200)
    born = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Genre(models.Model):
    """A shelf section; the standard ones come with the data migration."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Book(models.Model):
    """One copy of a book on the shelves."""

    title = models.CharField(max_length=300)
    isbn = models.CharField("ISBN-13", max_length=13, unique=True)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    published_year = models.PositiveIntegerField()
    genre = models.ForeignKey(Genre, on_delete=models.SET_NULL, null=True, blank=True, related_name="books")

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_year__gte=1450),
                name="book_published_after_printing_press",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.isbn})"


class Member(models.Model):
    """A library card holder."""

    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    joined = models.DateField()
    active = models.BooleanField(default=True)
    max_loans = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email


class Loan(models.Model):
    """A book lent to a member; open until it is returned."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="loans")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="loans")
    borrowed_at = models.DateTimeField()
    due_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    renewals = models.PositiveSmallIntegerField(default=0)
    fine_cents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["borrowed_at", "id"]
        constraints = [
            # A book is out to one member at a time. A partial unique index
            # on SQLite and PostgreSQL; MySQL/MariaDB have none, there the
            # row lock in catalog.services.lend is what holds it.
            models.UniqueConstraint(
                fields=["book"],
                condition=Q(returned_at__isnull=True),
                name="loan_one_open_loan_per_book",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=F("borrowed_at")),
                name="loan_due_after_borrowed",
            ),
        ]
        indexes = [models.Index(fields=["due_at"], name="loan_due_at_idx")]

    @property
    def is_open(self):
        """Whether the book has not come back yet."""
        return self.returned_at is None

    def __str__(self):
        return f"{self.book.isbn} to {self.member.email}"


class Reservation(models.Model):
    """A member's place in the queue for a book.

    ``waiting`` until the copy comes back, then ``ready`` (held for the
    member until ``ready_until``), then ``fulfilled`` when lent to them —
    or ``cancelled`` / ``expired``. A member has one active (waiting or
    ready) reservation per book.
    """

    WAITING = "waiting"
    READY = "ready"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ACTIVE = (WAITING, READY)
    STATUSES = [(s, s) for s in (WAITING, READY, FULFILLED, CANCELLED, EXPIRED)]

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reservations")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reservations")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default=WAITING)
    ready_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Partial unique index on SQLite and PostgreSQL; on MySQL the
            # row locks in catalog.services.reserve hold the rule.
            models.UniqueConstraint(
                fields=["book", "member"],
                condition=Q(status__in=["waiting", "ready"]),
                name="reservation_one_active_per_member",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "ready", "fulfilled", "cancelled", "expired"]),
                name="reservation_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | Q(ready_until__isnull=False),
                name="reservation_ready_has_deadline",
            ),
        ]

    @property
    def is_active(self):
        """Whether the member is still waiting for, or being held, the book."""
        return self.status in self.ACTIVE

    def __str__(self):
        return f"{self.book.isbn} for {self.member.email} ({self.status})"


class FinePayment(models.Model):
    """Money a member paid towards their fines."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.PositiveIntegerField()
    paid_at = models.DateTimeField()
    reference = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["paid_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="finepayment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.amount_cents} cents from {self.member.email}"
