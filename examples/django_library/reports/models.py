"""Models of the reports: overdue snapshots kept for the library board."""

from django.db import models


class OverdueSnapshot(models.Model):
    """The overdue report as it stood at one moment."""

    taken_at = models.DateTimeField(unique=True)
    loans = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    fines_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self):
        return f"{self.loans} overdue at {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotLine(models.Model):
    """One overdue loan in a snapshot."""

    snapshot = models.ForeignKey(OverdueSnapshot, on_delete=models.CASCADE, related_name="lines")
    loan = models.ForeignKey("catalog.Loan", on_delete=models.CASCADE, related_name="+")
    member_email = models.EmailField()
    book_title = models.CharField(max_length=300)
    days_overdue = models.PositiveIntegerField()
    fine_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["-days_overdue", "id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "loan"], name="snapshotline_loan_once"),
        ]
