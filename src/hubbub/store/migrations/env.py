"""Alembic environment: always handed a live connection by `hubbub.store.sql.migrate`."""

from __future__ import annotations

from alembic import context

from hubbub.store.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable via the alembic CLI
    raise RuntimeError("run migrations with `hubbub migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
