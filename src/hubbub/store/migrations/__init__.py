"""Alembic migrations; run with `hubbub migrate` (or at `serve` start-up)."""
