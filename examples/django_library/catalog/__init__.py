"""The catalogue: authors, books, members and their loans."""
