"""The migrations build exactly the tables the code declares, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from officina.migrations.models import target_metadata
from officina.migrations.runner import current, heads


def test_store_is_at_every_head(env):
    assert set((current(env.store) or "").split(",")) == set(heads())


def test_migrated_schema_matches_the_code(env):
    store = env.store
    with store.engine.connect() as conn:
        if store.schema:
            conn.execute(text(f'SET search_path TO "{store.schema}"'))
        try:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, target_metadata)
        finally:
            if store.schema:
                conn.execute(text("RESET search_path"))
                conn.commit()
    # Ignore the bookkeeping table; everything else must agree.
    diff = [d for d in diff if "alembic_version" not in repr(d)]
    assert diff == []
