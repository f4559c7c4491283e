"""Alembic environment: runs on the connection the runner hands over (never from a URL)."""

from __future__ import annotations

from typing import Any

from alembic import context

from officina.migrations.models import target_metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the runner drives migrations
    raise RuntimeError("officina migrations run through officina.migrations.runner")

# When writing a new revision for one face, only that face's tables are compared.
only_prefixes: tuple[str, ...] | None = context.config.attributes.get("only_prefixes")
exclude_prefixes: tuple[str, ...] = context.config.attributes.get("exclude_prefixes", ())


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if kind == "table" else getattr(obj, "table", None)
    table_name = getattr(table, "name", name) or ""
    if exclude_prefixes and table_name.startswith(exclude_prefixes):
        return False
    return only_prefixes is None or table_name.startswith(only_prefixes)


context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
