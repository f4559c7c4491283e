"""The change log: one entry per written row, appended in the write's own transaction.

Every face writes its rows through code that calls :func:`log_create`, :func:`log_update` or
:func:`log_delete` for each row it touches, cascades included. Because the entry is written
by the same transaction as the row, a write that fails or is rolled back leaves no entry, and
a committed write always has one: the log can later feed history, webhooks and a change feed
without a second source of truth.

An entry names the table the row lives in (face-neutral), the row's key as text, the action,
who wrote it and through which face, the time (Unix seconds, the clock of ``lastmodified``)
and the fields as ``{name: [old, new]}``: ``old`` is null on create, ``new`` is null on delete,
and an update keeps only the fields whose value differs. Secrets (password hashes, client
secrets) appear only as a marker that they were set or changed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Connection

from officina.core.clock import now
from officina.core.direct import Direct
from officina.core.schema import changes

# The execution option a store sets on its connections: the instance they belong to.
INSTANCE_OPTION = "officina_instance"
# Bookkeeping columns that change with every write and say nothing about the row itself.
_UNLOGGED = frozenset({"_rev"})
# Columns whose values must not be copied anywhere: the entry only shows that they changed.
SECRETS = {"users": frozenset({"password"}), "applications": frozenset({"secret"})}
_SECRET = {"$secret": True}

_INSERT = Direct(
    insert(changes)
    .values(
        instance=bindparam("instance"),
        entity=bindparam("entity"),
        row_id=bindparam("row_id"),
        action=bindparam("action"),
        actor=bindparam("actor"),
        face=bindparam("face"),
        time=bindparam("time"),
        fields=bindparam("fields", type_=changes.c.fields.type),
    )
    .returning(changes.c.ID)
)


@dataclass(frozen=True)
class Actor:
    """Who writes, and through which face."""

    instance: str  # the instance name (tenant)
    user_id: int | None  # the core user ID of the caller (None for system work)
    face: str  # "records" | "projects" | "jobs" | "cli"


def instance_of(conn: Connection) -> str:
    """The instance a store connection belongs to (empty when it was opened elsewhere)."""
    return str(conn.get_execution_options().get(INSTANCE_OPTION) or "")


def actor_for(conn: Connection, user_id: int | None, face: str) -> Actor:
    """An :class:`Actor` for work on ``conn``, whose store knows its instance name."""
    return Actor(instance_of(conn), user_id, face)


def log_create(
    conn: Connection, actor: Actor, entity: str, row_id: int | str, values: Mapping[str, Any]
) -> None:
    """Record a new row with the values it was stored with."""
    fields = {k: [None, plain(v)] for k, v in values.items() if k not in _UNLOGGED}
    _append(conn, actor, entity, row_id, "create", _masked(entity, fields))


def log_update(
    conn: Connection,
    actor: Actor,
    entity: str,
    row_id: int | str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
) -> None:
    """Record the fields of ``new`` whose value differs from ``old``; nothing when none does.

    ``old`` may be the whole stored row: only the keys of ``new`` are compared (a key
    missing from ``old`` counts as null).
    """
    fields: dict[str, list[Any]] = {}
    for key, value in new.items():
        if key in _UNLOGGED:
            continue
        before = old.get(key)
        if before != value:
            fields[key] = [plain(before), plain(value)]
    if fields:
        _append(conn, actor, entity, row_id, "update", _masked(entity, fields))


def log_delete(
    conn: Connection, actor: Actor, entity: str, row_id: int | str, old: Mapping[str, Any]
) -> None:
    """Record a deleted row with the values it held."""
    fields = {k: [plain(v), None] for k, v in old.items() if k not in _UNLOGGED}
    _append(conn, actor, entity, row_id, "delete", _masked(entity, fields))


def _masked(entity: str, fields: dict[str, list[Any]]) -> dict[str, list[Any]]:
    for name in SECRETS.get(entity, ()):
        pair = fields.get(name)
        if pair is not None:
            fields[name] = [None if v is None else _SECRET for v in pair]
    return fields


def _append(
    conn: Connection,
    actor: Actor,
    entity: str,
    row_id: int | str,
    action: str,
    fields: dict[str, list[Any]],
) -> None:
    _INSERT.first(
        conn,
        {
            "instance": actor.instance,
            "entity": entity,
            "row_id": str(row_id),
            "action": action,
            "actor": actor.user_id,
            "face": actor.face,
            "time": now(),
            "fields": fields,
        },
    )


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: binary content becomes a marker with its size only
    (the log must not copy files), times become ISO strings, decimals exact strings."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": len(bytes(value))}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


__all__ = [
    "INSTANCE_OPTION",
    "Actor",
    "actor_for",
    "instance_of",
    "log_create",
    "log_delete",
    "log_update",
    "plain",
]
