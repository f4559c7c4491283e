"""Plain row writes that leave their change entries, for faces that write with SQL of their own.

The projects and jobs faces build their own inserts, updates and deletes (their rows have no
registry behind them). These helpers run such a statement and append one change entry per
row it touched (:mod:`officina.core.changes`), in the same transaction: an update reads the
rows it is about to change first, so the entry holds their old values; a delete goes through
core's one delete path (:func:`officina.core.writes.delete_rows`), so the rows a foreign key
cascade takes along are logged too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from officina.core.changes import Actor, log_create, log_update
from officina.core.writes import Rules, delete_rows, key_of


def row_id(table: Table, row: Mapping[str, Any]) -> int | str:
    """The change log's key of a row: its primary key, composite keys joined by ``/``."""
    key = key_of(table, row)
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return key if isinstance(key, int | str) else str(key)


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as the row holds them: SQL expressions (``_rev + 1``) say nothing."""
    return {k: v for k, v in values.items() if not isinstance(v, ClauseElement)}


def insert_row(
    conn: Connection,
    actor: Actor,
    table: Table,
    values: Mapping[str, Any],
) -> Any:
    """Insert one row and log its values; returns its primary key (generated ones included)."""
    missing = [c for c in table.primary_key.columns if c.name not in values]
    stmt = insert(table).values(**values)
    stored = _stored(values)
    if missing:
        generated = conn.execute(stmt.returning(*missing)).one()
        stored.update(zip([c.name for c in missing], generated, strict=True))
    else:
        conn.execute(stmt)
    log_create(conn, actor, table.name, row_id(table, stored), stored)
    return key_of(table, stored)


def insert_rows(
    conn: Connection, actor: Actor, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert rows whose keys are all given, in one statement, and log each."""
    if not rows:
        return
    conn.execute(insert(table), [dict(r) for r in rows])
    for row in rows:
        log_create(conn, actor, table.name, row_id(table, row), _stored(row))


def update_where(
    conn: Connection,
    actor: Actor,
    table: Table,
    condition: ColumnElement[bool],
    values: Mapping[str, Any],
    logged: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Update the rows matching ``condition`` and log, per row, the fields that changed;
    returns the rows as they were. ``logged``: side data (kept in other tables) the entry
    shows as part of the row, compared against the same names in the old row."""
    old = [dict(r) for r in conn.execute(select(table).where(condition)).mappings()]
    if not old:
        return old
    conn.execute(update(table).where(condition).values(**values))
    new = {**_stored(values), **(logged or {})}
    for row in old:
        log_update(conn, actor, table.name, row_id(table, row), row, new)
    return old


def delete_where(
    conn: Connection, actor: Actor, table: Table, condition: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """Delete the rows matching ``condition`` with what they take along; every removed row,
    cascades included, leaves a delete entry. Returns the rows asked for, as they were.

    Raises :class:`officina.core.writes.InUse` (409, nothing written) when a row that would
    go is still referred to by a row of another face."""
    old = [dict(r) for r in conn.execute(select(table).where(condition)).mappings()]
    if old:
        delete_rows(conn, table, old, Rules(actor))
    return old
