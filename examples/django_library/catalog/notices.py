"""Notices to members (e-mail in a real library; an in-process outbox here).

Services queue a notice with ``transaction.on_commit``, so a member hears
about a held book only once the hold is committed, never for a change that
was rolled back.
"""

from django.db import transaction

#: Notices sent by this process, oldest first: (kind, email, text).
outbox = []


def send(kind, email, text):
    """Sends one notice now."""
    outbox.append((kind, email, text))


def send_on_commit(kind, email, text):
    """Sends one notice when the current transaction commits."""
    transaction.on_commit(lambda: send(kind, email, text))


def clear():
    """Forgets every notice sent so far (tests call it in setUp)."""
    outbox.clear()
