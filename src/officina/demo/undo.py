"""Taking back a sample company that failed halfway.

The demo writes through the faces, request by request, so no single transaction holds it.
Instead the rows each table holds are noted before the first request, and on failure every
row added since is deleted again in one transaction, children before parents. Tables whose
key the store counts up are noted by their highest key; the others by the set of keys.
Rows another client writes to the instance while the demo runs look the same as the demo's
own, so a failed demo on a busy instance takes those back too; the demo is meant for an
instance being tried out, not one in use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, Table, delete, func, inspect, select, tuple_
from sqlalchemy.engine import Connection

from officina.core.schema import metadata
from officina.core.store import Store


@dataclass
class Snapshot:
    """What each table held before the demo: a highest key, or the set of keys."""

    highest: dict[str, int] = field(default_factory=dict)
    keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)


def _counted(table: Table) -> bool:
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].autoincrement is True and isinstance(pk[0].type, Integer)


def _tables(conn: Connection, store: Store) -> list[Table]:
    import officina.migrations.models  # noqa: F401 - every face's tables in one metadata

    present = set(inspect(conn).get_table_names(schema=store.schema))
    return [t for t in metadata.sorted_tables if t.name in present and t.primary_key.columns]


def snapshot(store: Store) -> Snapshot:
    shot = Snapshot()
    with store.read() as conn:
        for table in _tables(conn, store):
            pk = list(table.primary_key.columns)
            if _counted(table):
                shot.highest[table.name] = int(
                    conn.execute(select(func.coalesce(func.max(pk[0]), 0))).scalar_one()
                )
            else:
                shot.keys[table.name] = {tuple(r) for r in conn.execute(select(*pk))}
    return shot


def undo(store: Store, shot: Snapshot) -> int:
    """Delete every row added since ``shot``; returns how many went."""
    removed = 0
    with store.write() as conn:
        for table in reversed(_tables(conn, store)):
            pk = list(table.primary_key.columns)
            if table.name in shot.highest:
                gone = conn.execute(delete(table).where(pk[0] > shot.highest[table.name]))
                removed += gone.rowcount or 0
            elif table.name in shot.keys:
                before = shot.keys[table.name]
                added = [tuple(r) for r in conn.execute(select(*pk)) if tuple(r) not in before]
                for start in range(0, len(added), 500):
                    chunk = added[start : start + 500]
                    gone = conn.execute(delete(table).where(tuple_(*pk).in_(chunk)))
                    removed += gone.rowcount or 0
    return removed
