"""Benchmarks: `python -m bench` (or `make bench`) times the deadline sweep on SQLite and PostgreSQL."""
