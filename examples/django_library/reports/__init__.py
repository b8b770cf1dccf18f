"""Reports over the catalogue: overdue loans, popular books, snapshots."""
