"""App config of the reports."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The ``reports`` app."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
