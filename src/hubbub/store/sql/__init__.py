"""SQLAlchemy Core store: one code path for SQLite and PostgreSQL."""
