"""One write path for rows of every face: updates, deletes and the cascade behind a delete.

What a delete reaches is read from the foreign keys declared in the shared metadata, so one
rule holds whichever face deletes and whichever face's tables hold the dependants:

* a key with ``ON DELETE CASCADE`` takes its rows along (and theirs, recursively);
* a key with ``ON DELETE SET NULL`` from a table of the same face detaches its rows;
* any other reference keeps the row alive: a key without a delete action (the store would
  refuse anyway), a ``SET NULL`` key from another face's table (a Flow project does not lose
  its customer because the records face deleted an account), and the references a face
  declares without a key (:func:`declare_use`). Such a delete is refused with 409.

Before anything is written, every row the cascade would delete or change is shown to the
face's rights check, which refuses the whole write if one of them is not the caller's to
write. Then every touched row gets what a direct write gives it: ``_rev + 1`` and
``lastmodified`` for changed rows, a tombstone (where the face keeps them) for deleted rows,
and one change entry each (:mod:`officina.core.changes`), all in the caller's transaction.

Tables of the projects and jobs faces carry their face's prefix (``flow_``, ``goana_``); the
tables of the records face and of core carry none, which is how core tells faces apart here
without importing one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from officina.core.changes import Actor, log_delete, log_update
from officina.core.clock import now
from officina.core.errors import HttpError
from officina.core.schema import metadata

Row = Mapping[str, Any]
FACE_PREFIXES = ("flow_", "goana_")
# Rows per IN list: well below SQLite's limit on parameters of one statement.
CHUNK = 500

# A face's rights check for rows a write would touch besides the one it was asked for:
# raises (the face's own 403) to refuse the whole write.
RightsCheck = Callable[[Connection, Table, Sequence[Row]], None]
# Rows that depend on deleted rows without a foreign key (polymorphic links): for a table and
# the keys of its deleted rows, the (table, condition) pairs that select them.
Links = Callable[[Table, list[Any]], list[tuple[Table, ColumnElement[bool]]]]
# Data without rows of its own to log (extension values, tags) to drop with deleted rows.
Forget = Callable[[Connection, Table, list[Any]], None]
# How many rows of one holder refer to the given keys of a table, for references without key.
UseCount = Callable[[Connection, list[Any]], int]

_DECLARED_USES: dict[str, list[tuple[str, UseCount]]] = {}


class InUse(HttpError):
    """The row is still referred to by rows the write may not change; nothing was written."""

    def __init__(self, holders: dict[str, int]) -> None:
        listed = ", ".join(f"{name}: {count}" for name, count in sorted(holders.items()))
        super().__init__(409, f"Conflict: Record in use ({listed})")
        self.holders = holders


@dataclass(frozen=True)
class Rules:
    """What a face adds to the generic cascade."""

    actor: Actor
    check: RightsCheck | None = None
    links: Links | None = None
    forget: Forget | None = None
    # Tables whose deleted rows leave a tombstone (their IDs are never handed out again).
    tombstoned: Callable[[str], bool] = field(default=lambda _name: False)


def family(table_name: str) -> str:
    """The face prefix a table's name starts with ('' for the records face and core)."""
    for prefix in FACE_PREFIXES:
        if table_name.startswith(prefix):
            return prefix
    return ""


def declare_use(target: str, holder: str, count: UseCount) -> None:
    """Let rows of ``holder`` keep rows of ``target`` alive through a reference that no
    foreign key declares (a stored id of another form, say); ``count`` tells how many do."""
    _DECLARED_USES.setdefault(target, []).append((holder, count))


def key_of(table: Table, row: Row) -> Any:
    """The primary key of ``row``: its value, or a tuple for a composite key."""
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return row[columns[0].name]
    return tuple(row[c.name] for c in columns)


def _by_keys(table: Table, keys: Sequence[Any]) -> ColumnElement[bool]:
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return columns[0].in_(list(keys))
    return or_(*(and_(*(c == v for c, v in zip(columns, k, strict=True))) for k in keys))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# Foreign keys by the table they refer to, with the number of tables the metadata held when
# they were gathered: gathered again (into a new map, so readers on other threads never see
# a half-filled one) if a face registers tables later.
_INCOMING: tuple[int, dict[str, list[Any]]] = (0, {})


def _incoming(target: Table) -> list[Any]:
    """Every foreign key of the metadata that refers to ``target``."""
    global _INCOMING
    size, by_target = _INCOMING
    if size != len(metadata.tables):
        by_target = {}
        for t in list(metadata.tables.values()):
            for fk in t.foreign_keys:
                by_target.setdefault(fk.column.table.name, []).append(fk)
        _INCOMING = (len(metadata.tables), by_target)
    return by_target.get(target.name, [])


def _keeps_alive(fk: Any, target: Table) -> bool:
    action = (fk.ondelete or "").upper()
    if action == "CASCADE":
        return False
    if action == "SET NULL":
        return family(fk.parent.table.name) != family(target.name)
    return True


def uses(conn: Connection, table_name: str, keys: Sequence[Any]) -> dict[str, int]:
    """Rows that keep the rows ``keys`` of ``table_name`` alive, counted per holding table
    (empty when they may go). The one "in use" rule of every face."""
    target = metadata.tables[table_name]
    found: dict[str, int] = {}
    if not keys:
        return found
    for fk in _incoming(target):
        if not _keeps_alive(fk, target):
            continue
        holder = fk.parent.table
        values = list(keys)
        if fk.column.name not in {c.name for c in target.primary_key.columns}:
            values = _referred_values(conn, target, keys, fk.column.name)
        count = 0
        for chunk in _chunks(values):
            stmt = select(func.count()).select_from(holder).where(fk.parent.in_(list(chunk)))
            if holder is target:  # a row referring to itself does not keep itself alive
                stmt = stmt.where(~_by_keys(holder, list(chunk)))
            count += int(conn.execute(stmt).scalar_one())
        if count:
            found[holder.name] = found.get(holder.name, 0) + count
    for holder_name, counter in _DECLARED_USES.get(table_name, []):
        count = counter(conn, list(keys))
        if count:
            found[holder_name] = found.get(holder_name, 0) + count
    return found


def _referred_values(
    conn: Connection, target: Table, keys: Sequence[Any], column: str
) -> list[Any]:
    values: list[Any] = []
    for chunk in _chunks(list(keys)):
        values.extend(
            r[0] for r in conn.execute(select(target.c[column]).where(_by_keys(target, chunk)))
        )
    return [v for v in values if v is not None]


@dataclass
class Plan:
    """Every row a delete reaches, read before anything is written."""

    # Batches of deleted rows in the order they were found (parents before children).
    deleted: list[tuple[Table, list[Row]]] = field(default_factory=list)
    # Rows to detach: table name -> key -> (row, columns to clear).
    detached: dict[str, dict[Any, tuple[Row, set[str]]]] = field(default_factory=dict)
    # Rows reached through a face's links: removed with the row they describe, not checked.
    linked: set[tuple[str, Any]] = field(default_factory=set)
    _seen: set[tuple[str, Any]] = field(default_factory=set)

    def deleting(self, table: Table, key: Any) -> bool:
        return (table.name, key) in self._seen

    def add_deleted(self, table: Table, rows: Iterable[Row], linked: bool = False) -> list[Row]:
        new = []
        for row in rows:
            mark = (table.name, key_of(table, row))
            if mark not in self._seen:
                self._seen.add(mark)
                new.append(row)
                if linked:
                    self.linked.add(mark)
        if new:
            self.deleted.append((table, new))
        return new


def plan_delete(conn: Connection, table: Table, rows: Sequence[Row], rules: Rules) -> Plan:
    """Read every row deleting ``rows`` would delete or detach, following the metadata's
    foreign keys and the face's links until nothing new is reached."""
    plan = Plan()
    frontier = [(table, plan.add_deleted(table, rows))]
    while frontier:
        reached: list[tuple[Table, list[Row]]] = []
        for parent, parent_rows in frontier:
            for fk in _incoming(parent):
                action = (fk.ondelete or "").upper()
                if action not in ("CASCADE", "SET NULL") or _keeps_alive(fk, parent):
                    continue
                child = fk.parent.table
                referred = [r[fk.column.name] for r in parent_rows if r[fk.column.name] is not None]
                for chunk in _chunks(referred):
                    stmt = select(child).where(fk.parent.in_(list(chunk)))
                    if conn.dialect.name == "postgresql":
                        # What was read is what gets written and logged (SQLite's write
                        # transaction already excludes other writers).
                        stmt = stmt.with_for_update()
                    found = conn.execute(stmt)
                    child_rows = [dict(r) for r in found.mappings()]
                    if action == "CASCADE":
                        new = plan.add_deleted(child, child_rows)
                        if new:
                            reached.append((child, new))
                    else:
                        slot = plan.detached.setdefault(child.name, {})
                        for row in child_rows:
                            key = key_of(child, row)
                            slot.setdefault(key, (row, set()))[1].add(fk.parent.name)
            if rules.links is not None:
                keys = [key_of(parent, r) for r in parent_rows]
                for holder, condition in rules.links(parent, keys):
                    found_rows = [
                        dict(r) for r in conn.execute(select(holder).where(condition)).mappings()
                    ]
                    new = plan.add_deleted(holder, found_rows, linked=True)
                    if new:
                        reached.append((holder, new))
        frontier = reached
    # A row both detached and deleted is deleted.
    for name, slot in plan.detached.items():
        for key in [k for k in slot if (name, k) in plan._seen]:
            del slot[key]
    return plan


def delete_rows(
    conn: Connection, table: Table, rows: Sequence[Row], rules: Rules, ts: int | None = None
) -> Plan:
    """Delete ``rows`` (already judged by the caller) with everything they take along.

    Refuses before writing anything: the face's rights check raises for a touched row the
    caller may not write, :class:`InUse` (409) when a row that would go is still in use.
    """
    ts = now() if ts is None else ts
    plan = plan_delete(conn, table, rows, rules)
    root = {(table.name, key_of(table, r)) for r in rows}
    if rules.check is not None:
        for t, batch in plan.deleted:
            judged = [
                r
                for r in batch
                if (t.name, key_of(t, r)) not in root and (t.name, key_of(t, r)) not in plan.linked
            ]
            if judged:
                rules.check(conn, t, judged)
        for name, slot in plan.detached.items():
            if slot:
                rules.check(conn, metadata.tables[name], [row for row, _ in slot.values()])
    held: dict[str, int] = {}
    for t, batch in plan.deleted:
        for holder, count in uses(conn, t.name, [key_of(t, r) for r in batch]).items():
            held[holder] = held.get(holder, 0) + count
    if held:
        raise InUse(held)
    _detach(conn, plan, rules.actor, ts)
    _remove(conn, plan, rules, ts)
    return plan


def _detach(conn: Connection, plan: Plan, actor: Actor, ts: int) -> None:
    for name, slot in plan.detached.items():
        t = metadata.tables[name]
        groups: dict[frozenset[str], list[Any]] = {}
        for key, (_row, columns) in slot.items():
            groups.setdefault(frozenset(columns), []).append(key)
        for cleared, keys in groups.items():
            values: dict[str, Any] = dict.fromkeys(cleared)
            if "lastmodified" in t.c:
                values["lastmodified"] = ts
            if "_rev" in t.c:
                values["_rev"] = t.c._rev + 1
            for chunk in _chunks(keys):
                conn.execute(update(t).where(_by_keys(t, chunk)).values(values))
            logged = {k: v for k, v in values.items() if k != "_rev"}
            for key in keys:
                log_update(conn, actor, name, _row_id(key), slot[key][0], logged)


def _remove(conn: Connection, plan: Plan, rules: Rules, ts: int) -> None:
    tombstones = metadata.tables.get("tombstones")
    # Children first, so no row is removed while a row still to be removed refers to it.
    for t, batch in reversed(plan.deleted):
        keys = [key_of(t, r) for r in batch]
        if rules.forget is not None:
            rules.forget(conn, t, keys)
        for chunk in _chunks(keys):
            conn.execute(delete(t).where(_by_keys(t, chunk)))
        if tombstones is not None and rules.tombstoned(t.name):
            conn.execute(
                insert(tombstones), [{"entity": t.name, "ID": k, "deleted": ts} for k in keys]
            )
        for row, key in zip(batch, keys, strict=True):
            log_delete(conn, rules.actor, t.name, _row_id(key), row)


def _row_id(key: Any) -> int | str:
    if isinstance(key, tuple):
        return "/".join(str(k) for k in key)
    return key if isinstance(key, int | str) else str(key)


def update_row(
    conn: Connection,
    actor: Actor,
    table: Table,
    stored: Row,
    values: Mapping[str, Any],
    logged: Mapping[str, Any] | None = None,
    ts: int | None = None,
) -> bool:
    """Write ``values`` into the row as it was read (``stored``, with its ``_rev``): bumps the
    revision and ``lastmodified`` and logs the fields that changed. False when the row
    changed since it was read (nothing written; the caller answers 412).

    ``logged``: extra values the change entry shows as part of the row (side data kept in
    other tables), compared against the same names in ``stored``.
    """
    ts = now() if ts is None else ts
    changed = dict(values)
    if "lastmodified" in table.c:
        changed["lastmodified"] = ts
    key = key_of(table, stored)
    condition = _by_keys(table, [key])
    if "_rev" in table.c:
        condition = and_(condition, table.c._rev == stored["_rev"])
        written = conn.execute(
            update(table).where(condition).values(**changed, _rev=table.c._rev + 1)
        )
    else:
        written = conn.execute(update(table).where(condition).values(**changed))
    if written.rowcount != 1:
        return False
    log_update(conn, actor, table.name, _row_id(key), stored, {**changed, **(logged or {})})
    return True
