"""Migrations of the catalogue (made with makemigrations)."""
