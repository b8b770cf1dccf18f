"""Migrations of the reports (made with makemigrations)."""
