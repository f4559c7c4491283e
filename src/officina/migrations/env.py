"""Alembic environment: runs on the connection the runner hands over (never from a URL)."""

from __future__ import annotations

from alembic import context

from officina.migrations.models import target_metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the runner drives migrations
    raise RuntimeError("officina migrations run through officina.migrations.runner")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
