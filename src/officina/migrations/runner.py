"""Applies the Alembic history to one instance store (its SQLite file or PostgreSQL schema)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from officina.core.store import Store

HERE = Path(__file__).parent


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def heads() -> tuple[str, ...]:
    """Newest revision of every branch (each face may add its tables on a branch of its own)."""
    return tuple(ScriptDirectory.from_config(_config()).get_heads())


def upgrade(store: Store) -> None:
    """Bring ``store`` to the newest revision; a no-op when it is already there."""
    cfg = _config()
    with store.engine.connect() as conn:
        if store.schema is not None:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"'))
            conn.commit()
            # On PostgreSQL every unqualified name in the migrations lands in the instance's
            # schema. The setting is local to the one transaction that runs every migration:
            # behind a pooler in transaction mode the next transaction may be served by
            # another server connection, and a session setting would stay with this one.
            conn.execute(text(f'SET LOCAL search_path TO "{store.schema}"'))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
        conn.commit()


def current(store: Store) -> str | None:
    """The revisions a store is at, comma-separated (None for an empty store)."""
    with store.engine.connect() as conn:
        if store.schema is not None:
            # Local to this read's transaction, as in upgrade().
            conn.execute(text(f'SET LOCAL search_path TO "{store.schema}"'))
        return ",".join(sorted(MigrationContext.configure(conn).get_current_heads())) or None
