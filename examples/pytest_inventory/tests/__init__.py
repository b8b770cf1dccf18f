"""Tests of the inventory example."""
