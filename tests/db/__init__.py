"""Tests of db/: the store, its migrations and faults, files written whole."""
