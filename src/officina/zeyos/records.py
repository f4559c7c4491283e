"""The six record operations, generic over every entity of the registry.

Each function runs inside one connection handed in by the HTTP layer: reads in a read
connection, writes in one transaction, so a failing write changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar

import orjson
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from officina.core import writes
from officina.core.auth import Principal
from officina.core.changes import Actor, actor_for, log_create
from officina.core.clock import now
from officina.core.direct import Direct
from officina.core.errors import (
    HttpError,
    bad_request,
    conflict,
    forbidden,
    gone,
    not_found,
    precondition_failed,
    short,
)
from officina.core.sqlfuncs import RegexTooCostly, StatementExpired, cut_by, statement_deadline
from officina.zeyos import access, extension, list_statements, rules
from officina.zeyos.limits import LIMITS
from officina.zeyos.query import ListQuery, build_select, compile_list
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import (
    INTEGER_KINDS,
    TEXT_KINDS,
    Default,
    Entity,
    Kind,
)
from officina.zeyos.tables import table, tombstones
from officina.zeyos.values import as_int, coerce_write, encode_out, invalid_value

PSEUDO_WRITE = ("extdata", "tags", "+tags", "-tags")
# The vendor contract offers these flags on GET although nothing is stored: answer empty.
ADVERTISED_EMPTY = {"applicationassets": ("extdata", "tags"), "records": ("tags",)}
# Columns only the server writes (the ID of a create is taken apart before): a value in a
# body is ignored rather than refused, since clients send back the records they read.
SERVER_SET = frozenset({"ID", "creator", "creationdate", "lastmodified"})
_DATA_URI = re.compile(r"^data:([a-z]+/[^;,\s]+)?(;[^,]*)?;base64,(.*)$", re.S)


@dataclass
class Record:
    """One row as the API shows it, plus what the HTTP layer needs for its headers."""

    data: dict[str, Any]
    rev: int
    lastmodified: int | None


# -- reading -----------------------------------------------------------------------------------


def run_list(
    conn: Connection,
    entity: Entity,
    params: dict[str, Any],
    principal: Principal,
    budget: float | None = None,
) -> Any:
    """The page (or count) a list request asks for; ``budget``: see :func:`time_limit`."""
    statement, values = list_statements.prepare(entity, params, principal, conn.dialect.name)
    q = statement.query
    if budget is not None and (q.binfile_outputs or statement.seconds >= budget):
        # File contents may be large: never read and encode them on the loop. A shape whose
        # last run overran the budget would most likely overrun it again, and each overrun
        # costs the budget before the list starts over on a thread.
        raise OverBudget
    # The thread's own CPU time: on a worker thread, time spent waiting for the interpreter
    # lock while the loop serves others is not the statement's.
    started = time.thread_time()
    overran = False
    try:
        with time_limit(conn, LIMITS.statement_seconds, budget):
            if q.count:
                return {"count": int(conn.execute(statement.stmt, values).scalar_one())}
            rows = conn.execute(statement.stmt, values).all()
    except OverBudget:
        overran = True
        raise
    finally:
        statement.seconds = math.inf if overran else time.thread_time() - started
    if statement.plan is None:
        statement.plan = _plan(q)
    return render(conn, q, rows, statement.plan)


def run_export(
    conn: Connection,
    entity: Entity,
    params: dict[str, Any],
    principal: Principal,
    budget: float | None = None,
) -> str:
    """The list as CSV (delimiter ``;``): every matching row unless a limit is given.

    ``expand`` has no effect here; structured values appear as their text form.
    """
    if not principal.is_admin:
        raise forbidden()
    given_limit = params.get("limit")
    plain = {k: v for k, v in params.items() if k not in ("expand", "count", "limit")}
    comp, q = compile_list(entity, plain, principal, conn.dialect.name)
    if given_limit not in (None, ""):
        q.limit = _export_limit(given_limit)
    else:
        q.limit = None  # type: ignore[assignment]
    stmt = build_select(comp, q)
    with time_limit(conn, LIMITS.statement_seconds, budget):
        rows = render(conn, q, conn.execute(stmt).all())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([o.key for o in q.outputs])
    for row in rows:
        writer.writerow([_csv_cell(row[o.key]) for o in q.outputs])
    return out.getvalue()


def _export_limit(value: Any) -> int:
    number = as_int(value) if not isinstance(value, bool) else None
    if number is None or number < 1:
        raise bad_request("Invalid limit")
    return number


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode("utf-8")
    return value


class OverBudget(Exception):
    """A statement ran longer than the time it was lent (see :func:`time_limit`); nothing
    was written, so the caller may run the same work again where waiting is harmless."""


@contextmanager
def time_limit(conn: Connection, seconds: float, budget: float | None = None) -> Iterator[None]:
    """Cancel the statements of this block after ``seconds``: 503, the client may retry.

    PostgreSQL enforces it itself (statement_timeout, local to the transaction); SQLite is
    interrupted by a progress handler that checks the clock every thousand steps.

    ``budget`` (SQLite only): a shorter limit after which the block raises
    :class:`OverBudget` instead. The HTTP layer runs a list on the event loop under a budget
    of a few milliseconds, and only a list that overruns it moves to a worker thread.
    """
    busy = HttpError(503, "Service Unavailable: query took too long", {"Retry-After": "5"})
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
        try:
            yield
        except OperationalError as err:
            if "statement timeout" in str(err.orig):
                raise busy from None
            raise
        return
    raw: Any = conn.connection.dbapi_connection
    lent = seconds if budget is None else min(seconds, budget)
    deadline = time.monotonic() + lent
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
    try:
        with statement_deadline(lent):
            yield
    except OperationalError as err:
        cut = cut_by()
        if cut is RegexTooCostly:
            raise bad_request(
                "Invalid filter: a regular expression took too long to evaluate on one value"
            ) from None
        if "interrupted" not in str(err.orig) and cut is not StatementExpired:
            raise
        if budget is not None and budget < seconds:
            raise OverBudget from None
        raise busy from None
    finally:
        raw.set_progress_handler(None, 0)


# Kinds whose stored value is already its JSON value: no conversion per cell.
_AS_STORED = INTEGER_KINDS | TEXT_KINDS


def _converter(o: Any) -> Callable[[Any], Any] | None:
    resolved = o.resolved
    if resolved.pseudo == "extdata":
        return lambda value: _json_value(value) or {}
    if resolved.pseudo == "tags":
        return lambda value: extension.sort_tags(_json_value(value) or [])
    if resolved.kind in _AS_STORED:
        return None
    kind, expanded = resolved.kind, o.expanded
    return lambda value: encode_out(kind, value, expanded)


@dataclass(frozen=True)
class Plan:
    """How the rows of one statement become API objects, decided once per statement: a
    page of 100 rows with 20 columns was spending most of its time deciding per cell."""

    keys: tuple[str, ...]
    # (key, conversion) of the columns whose stored value is not already the JSON value.
    converted: tuple[tuple[str, Callable[[Any], Any]], ...]


def _plan(q: ListQuery) -> Plan:
    converters = [(o.key, _converter(o)) for o in q.outputs]
    return Plan(
        tuple(o.key for o in q.outputs),
        tuple((key, convert) for key, convert in converters if convert is not None),
    )


def render(
    conn: Connection, q: ListQuery, rows: Sequence[Any], plan: Plan | None = None
) -> list[dict[str, Any]]:
    plan = plan or _plan(q)
    keys, converted = plan.keys, plan.converted
    # zip stops at the last output: a single read's row carries its revision after them.
    out = [dict(zip(keys, row, strict=False)) for row in rows]
    if converted:
        for item in out:
            for key, convert in converted:
                item[key] = convert(item[key])
    if q.binfile_outputs:
        _expand_binfiles(conn, out, q.binfile_outputs)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return orjson.loads(value)
    return value


def _expand_binfiles(conn: Connection, rows: list[dict[str, Any]], keys: list[str]) -> None:
    ids = {r[k] for r in rows for k in keys if isinstance(r.get(k), int)}
    contents: dict[int, str] = {}
    if ids:
        binfiles = table("binfiles")
        for row in conn.execute(
            select(binfiles.c.ID, binfiles.c.content).where(binfiles.c.ID.in_(list(ids)))
        ):
            contents[row.ID] = base64.b64encode(bytes(row.content or b"")).decode("ascii")
    for r in rows:
        for k in keys:
            if isinstance(r.get(k), int):
                r[k] = {"content": contents.get(r[k], "")}


@dataclass(frozen=True)
class _ReadPlan:
    stmt: Direct
    query: ListQuery
    plan: Plan


# Statements of single reads, by entity, expanded fields, dialect and what the caller may
# see. Building one cost more than running it. Only the statement's shape is kept, no data:
# a caller whose grants change gets another entry, and every worker builds its own.
_READ_PLANS: dict[tuple[Any, ...], _ReadPlan] = {}
_READ_PLANS_MAX = 1024


K = TypeVar("K")
V = TypeVar("V")


def _kept(cache: dict[K, V], limit: int, key: K, build: Callable[[], V]) -> V:
    """``cache[key]``, built the first time it is asked for. The keys are statement shapes,
    never data, so a cache that reaches ``limit`` entries starts over rather than grow."""
    found = cache.get(key)
    if found is None:
        found = build()
        if len(cache) >= limit:
            cache.clear()
        cache[key] = found
    return found


def _read_plan(conn: Connection, entity: Entity, expand: list[str], p: Principal) -> _ReadPlan:
    dialect = conn.dialect.name

    def build() -> _ReadPlan:
        comp, q = compile_list(entity, {"expand": expand}, p, dialect)
        stmt = (
            select(
                *[o.resolved.expr.label(f"c{i}") for i, o in enumerate(q.outputs)],
                *_version_columns(entity, comp.base),
            )
            .select_from(comp.from_clause())
            .where(comp.base.c.ID == bindparam("row_id"), *q.where)
        )
        return _ReadPlan(Direct(stmt), q, _plan(q))

    key = (entity.name, tuple(expand), dialect, access.visibility_key(p))
    return _kept(_READ_PLANS, _READ_PLANS_MAX, key, build)


def _version_columns(entity: Entity, t: Any) -> list[Any]:
    """The columns after a single row's outputs that its ETag and Last-Modified come from."""
    extras = [t.c._rev.label("rev")]
    if entity.has_lastmodified:
        extras.append(t.c.lastmodified.label("lm"))
    return extras


def _record(conn: Connection, entity: Entity, read: _ReadPlan, row: Any) -> Record:
    """A row of a single-read shape (outputs, then the version columns) as a Record."""
    data = render(conn, read.query, [row], read.plan)[0]
    return Record(data, int(row.rev), int(row.lm) if entity.has_lastmodified else None)


def fetch(
    conn: Connection,
    entity: Entity,
    row_id: int,
    principal: Principal,
    *,
    expand: set[str] | None = None,
    with_extdata: bool = False,
    with_tags: bool = False,
) -> Record | None:
    """A visible row by ID, all API columns, or None (invisible rows do not exist)."""
    read = _read_plan(conn, entity, sorted(expand or ()), principal)
    row = read.stmt.first(conn, {"row_id": row_id})
    if row is None:
        return None
    record = _record(conn, entity, read, row)
    data = record.data
    if with_extdata and (entity.extdata or "extdata" in ADVERTISED_EMPTY.get(entity.name, ())):
        data["extdata"] = (
            extension.read_extdata(conn, entity.name, row_id) if entity.extdata else {}
        )
    if with_tags and (entity.tags or "tags" in ADVERTISED_EMPTY.get(entity.name, ())):
        data["tags"] = extension.read_tags(conn, entity.name, row_id) if entity.tags else []
    return record


# -- writing -----------------------------------------------------------------------------------


@dataclass
class SideWrites:
    extdata: dict[str, str | None] | None = None
    tags: list[str] | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None

    def any(self) -> bool:
        return any(
            v is not None for v in (self.extdata, self.tags, self.add_tags, self.remove_tags)
        )


def _split(entity: Entity, body: dict[str, Any]) -> tuple[dict[str, Any], SideWrites]:
    """Separate column values from extension values and tags; unknown keys are a 400."""
    columns: dict[str, Any] = {}
    side = SideWrites()
    for key, value in body.items():
        if key == "extdata" and entity.extdata:
            side.extdata = extension.validate_extdata(value)
        elif key == "tags" and entity.tags:
            side.tags = extension.validate_tags(key, value)
        elif key == "+tags" and entity.tags:
            side.add_tags = extension.validate_tags(key, value)
        elif key == "-tags" and entity.tags:
            side.remove_tags = extension.validate_tags(key, value)
        elif entity.field(key) is not None:
            columns[key] = value
        else:
            raise bad_request(f"Invalid field '{short(key)}'", field=str(key))
    return columns, side


def _store_binfile(conn: Connection, name: str, value: dict[str, Any]) -> int:
    if len(value) != 1 or not ({"content"} >= value.keys() or {"uri"} >= value.keys()):
        raise invalid_value(name)
    raw_b64: Any = value.get("content")
    if "uri" in value:
        match = _DATA_URI.match(str(value["uri"]))
        if not match:
            raise invalid_value(name)
        raw_b64 = match.group(3)
    if not isinstance(raw_b64, str):
        raise invalid_value(name)
    try:
        content = base64.b64decode(raw_b64, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_value(name) from None
    if not content:
        raise invalid_value(name)
    if len(content) > LIMITS.binfile_bytes:
        raise HttpError(413, f"Payload Too Large: file in '{name}' exceeds the size limit")
    digest = hashlib.md5(content).digest()  # content addressing, not security
    binfiles = table("binfiles")
    existing = conn.execute(select(binfiles.c.ID).where(binfiles.c.hash == digest)).first()
    if existing is not None:
        return int(existing.ID)
    return int(
        conn.execute(
            insert(binfiles)
            .values(size=len(content), hash=digest, content=content)
            .returning(binfiles.c.ID)
        ).scalar_one()
    )


def _coerce_columns(
    conn: Connection,
    entity: Entity,
    columns: dict[str, Any],
    stored: dict[str, Any] | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in columns.items():
        f = entity.field(name)
        assert f is not None
        if name in SERVER_SET:
            continue
        if f.kind == Kind.BINFILE:
            if isinstance(raw, dict):
                values[name] = _store_binfile(conn, name, raw)
            elif raw is None or raw == "":
                values[name] = None
            elif stored is not None and as_int(raw) == stored.get(name):
                continue  # echoed back unchanged
            else:
                raise bad_request(f"Invalid value for field '{name}': read-only", field=name)
            continue
        if f.readonly:
            if stored is not None and raw == stored.get(name):
                continue
            raise bad_request(f"Invalid value for field '{name}': read-only", field=name)
        values[name] = coerce_write(f, raw)
    return values


def _check_references(
    conn: Connection,
    entity: Entity,
    values: dict[str, Any],
    principal: Principal,
    row: dict[str, Any] | None = None,
) -> None:
    """A reference must point at a row the caller may read, else 410 Gone: a row of a module
    the caller may not read, or one its owners hide, is answered like a missing one, so a
    write cannot tell whether such a row exists. ``values`` are the columns written, ``row``
    the whole row after the write (the pair of a polymorphic reference may be half in it)."""
    for name, value in values.items():
        f = entity.field(name)
        if f is None or f.ref is None or value is None or f.kind == Kind.BINFILE:
            continue
        if f.name == "creator":
            continue
        target = ENTITIES.get(f.ref)
        if target is not None and not _reaches(conn, target, value, principal):
            raise gone(name)
    whole = values if row is None else row
    for kind_col, index_col in _polymorphic_refs(entity):
        if kind_col not in values and index_col not in values:
            continue
        target = ENTITIES.get(whole.get(kind_col) or "")
        index = whole.get(index_col)
        if target is None or index is None:
            continue
        if not _reaches(conn, target, index, principal):
            raise gone(index_col)


def _reaches(conn: Connection, target: Entity, row_id: Any, principal: Principal) -> bool:
    t = table(target.name)
    stmt = select(t.c.ID).where(t.c.ID == row_id)
    clause = access.reachable(target, t, principal)
    if clause is not None:
        stmt = stmt.where(clause)
    return conn.execute(stmt).first() is not None


def _polymorphic_refs(entity: Entity) -> list[tuple[str, str]]:
    """References by (entity name, ID) pairs, which no foreign key checks: the name column
    (``entity``, ``entity1``) and the ID column beside it (``index``, ``index1``)."""
    pairs = []
    for f in entity.fields:
        if f.kind == Kind.ENTITY:
            index = f.name.replace("entity", "index", 1)
            if entity.field(index) is not None:
                pairs.append((f.name, index))
    return pairs


def _defaults(entity: Entity, values: dict[str, Any], principal: Principal, ts: int) -> None:
    for f in entity.fields:
        if f.name in values or f.name == "ID":
            continue
        if f.name == "lastmodified":
            continue
        if f.default == Default.NOW:
            values[f.name] = ts
        elif f.default == Default.CALLER or f.name == "creator":
            values[f.name] = principal.user_id
        elif f.default is not None:
            values[f.name] = f.default
        elif f.required:
            raise bad_request(f"Missing field '{f.name}'", field=f.name)
        elif f.nullable:
            values[f.name] = None
        elif f.kind in (Kind.TEXT, Kind.VARCHAR):
            values[f.name] = ""
        else:
            raise bad_request(f"Missing field '{f.name}'", field=f.name)
    if entity.has_lastmodified:
        values["lastmodified"] = ts


def _apply_side(
    conn: Connection, entity: Entity, row_id: int, side: SideWrites
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write extension values and tags; what changed, as (before, after) by pseudo-field.

    Both are part of the row as a client sees it, so the change log shows them with the
    row's columns: ``extdata`` holds the names that changed, ``tags`` the whole list.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if side.extdata:
        values = extension.write_extdata(conn, entity.name, row_id, side.extdata)
        if values:
            before["extdata"] = {name: old for name, (old, _new) in values.items()}
            after["extdata"] = {name: new for name, (_old, new) in values.items()}
    if side.tags is not None or side.add_tags or side.remove_tags:
        tags = extension.write_tags(
            conn, entity.name, row_id, side.tags, side.add_tags or [], side.remove_tags or []
        )
        if tags is not None:
            before["tags"], after["tags"] = tags
    return before, after


def _new_id(conn: Connection, entity: Entity, raw: Any) -> int:
    row_id = as_int(raw)
    limit = 2**63 - 1 if entity.pk_kind == Kind.BIGINT else 2**31 - 1
    if row_id is None or not 1 <= row_id <= limit or isinstance(raw, bool):
        raise invalid_value("ID")
    t = table(entity.name)
    if conn.execute(select(t.c.ID).where(t.c.ID == row_id)).first() is not None:
        raise conflict("ID present")
    buried = conn.execute(
        select(tombstones.c.ID).where(tombstones.c.entity == entity.name, tombstones.c.ID == row_id)
    ).first()
    if buried is not None:
        raise conflict("ID present")
    return row_id


def _advance_sequence(conn: Connection, entity: Entity, row_id: int) -> None:
    """After an explicit ID, make PostgreSQL's sequence skip past it (SQLite does this)."""
    if conn.dialect.name != "postgresql":
        return
    t = table(entity.name)
    qualified = conn.dialect.identifier_preparer.format_table(t)
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    if schema:
        prep = conn.dialect.identifier_preparer
        qualified = f"{prep.quote_identifier(schema)}.{prep.quote_identifier(t.name)}"
    conn.execute(
        text(
            "SELECT setval(pg_get_serial_sequence(:tbl, 'ID'), "
            'GREATEST(:id, (SELECT COALESCE(MAX("ID"), 1) FROM ' + qualified + ")))"
        ),
        {"tbl": qualified, "id": row_id},
    )


def create(conn: Connection, entity: Entity, body: dict[str, Any], principal: Principal) -> Record:
    access.require_write(entity, principal)
    columns, side = _split(entity, body)
    ts = now()
    explicit_id = _new_id(conn, entity, columns["ID"]) if columns.get("ID") is not None else None
    creator = columns.get("creator")
    if entity.creator_bound and creator is not None and as_int(creator) != principal.user_id:
        raise forbidden()
    values = _coerce_columns(conn, entity, columns, None)
    _defaults(entity, values, principal, ts)
    rules.check(entity, values)
    access.check_row_permission(entity, values, principal)
    access.check_new_owner(entity, values, principal)
    _check_fork(values)
    _check_references(conn, entity, values, principal)
    if explicit_id is not None:
        values["ID"] = explicit_id
    params = {_PARAM + name: value for name, value in values.items()}
    if _sees_what_it_creates(entity, principal):
        read = _read_plan(conn, entity, [], principal)
        returning, id_at = _insert_returning(entity, read, values)
        stored = returning.first(conn, params)
        row_id = int(stored[id_at])
    else:
        stored = None
        row_id = int(_insert_id(entity, values).first(conn, params)[0])
    if explicit_id is not None:
        _advance_sequence(conn, entity, explicit_id)
    _, side_values = _apply_side(conn, entity, row_id, side)
    log_create(
        conn, _actor(conn, principal), entity.name, row_id, {"ID": row_id, **values, **side_values}
    )
    if stored is not None:
        return _record(conn, entity, read, stored)
    record = fetch(conn, entity, row_id, principal)
    if record is None:  # created a row the caller cannot see (e.g. owned by another group)
        raise forbidden()
    return record


def _sees_what_it_creates(entity: Entity, principal: Principal) -> bool:
    """Whether a new row is certainly visible to its creator, so the answer can come from
    the INSERT itself (RETURNING) instead of a read after it. An administrator sees every
    row but module forks, which cannot be created; a row that depends on a parent is
    visible only with its parent, so it is read back like every row of other callers."""
    return principal.is_admin and not entity.depends_on


# Inserts by entity and the columns given (after defaults, nearly always every column), run
# straight on the driver like the single reads: through SQLAlchemy's execution an insert
# cost several times SQLite's own work for it. Values are parameters, never part of the
# statement, so one statement serves every row of a shape.
_INSERTS: dict[tuple[Any, ...], tuple[Direct, int]] = {}
_INSERTS_MAX = 1024
# Parameter names are the column names behind this prefix (SQLAlchemy keeps the bare column
# names for the parameters it would make itself).
_PARAM = "v_"


def _insert(entity: Entity, values: dict[str, Any], returning: tuple[Any, ...]) -> Any:
    t = table(entity.name)
    given = {name: bindparam(_PARAM + name, type_=t.c[name].type) for name in values}
    return insert(t).values(given).returning(*returning)


def _insert_returning(
    entity: Entity, read: _ReadPlan, values: dict[str, Any]
) -> tuple[Direct, int]:
    """INSERT ... RETURNING the columns of a single read, and where the ID is among them."""

    def build() -> tuple[Direct, int]:
        t = table(entity.name)
        paths = [o.resolved.path for o in read.query.outputs]
        columns = [t.c[path].label(f"c{i}") for i, path in enumerate(paths)]
        stmt = _insert(entity, values, (*columns, *_version_columns(entity, t)))
        return Direct(stmt), paths.index("ID")

    return _kept(_INSERTS, _INSERTS_MAX, (entity.name, "row", *values), build)


def _insert_id(entity: Entity, values: dict[str, Any]) -> Direct:
    """INSERT ... RETURNING the new row's ID alone."""

    def build() -> tuple[Direct, int]:
        return Direct(_insert(entity, values, (table(entity.name).c.ID,))), 0

    return _kept(_INSERTS, _INSERTS_MAX, (entity.name, "id", *values), build)[0]


def _check_fork(values: dict[str, Any]) -> None:
    if values.get("fork") is not None:
        raise bad_request("Invalid value for field 'fork': module forks are not supported", "fork")


def _stored_row(conn: Connection, entity: Entity, row_id: int, principal: Principal) -> Any:
    t = table(entity.name)
    stmt = select(t).where(t.c.ID == row_id, access.where_visible(entity, t, principal))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise not_found()
    return row


def update_row(
    conn: Connection,
    entity: Entity,
    row_id: int,
    body: dict[str, Any],
    principal: Principal,
    precondition: Any,
) -> Record:
    """PATCH: partial update; ``precondition(row)`` raises 412 when the caller's copy is stale."""
    access.require_write(entity, principal)
    row = _stored_row(conn, entity, row_id, principal)
    if not access.may_write_row(entity, row, principal):
        raise forbidden()
    access.check_row_permission(entity, dict(row._mapping), principal)
    precondition(row)
    columns, side = _split(entity, body)
    if "ID" in columns and as_int(columns["ID"]) != row_id:
        raise conflict("Non-matching ID")
    stored = dict(row._mapping)
    if (
        entity.creator_bound
        and "creator" in columns
        and as_int(columns["creator"]) != principal.user_id
    ):
        raise forbidden()
    values = _coerce_columns(conn, entity, columns, stored)
    changed = {k: v for k, v in values.items() if stored.get(k) != v}
    merged = {**stored, **values}
    rules.check(entity, merged)
    access.check_row_permission(entity, merged, principal)
    if "ownergroup" in changed or "owneruser" in changed:
        access.check_new_owner(entity, changed, principal)
    _check_fork(merged)
    _check_references(conn, entity, changed, principal, merged)
    side_before, side_after = _apply_side(conn, entity, row_id, side)
    if changed or side_after:
        written = writes.update_row(
            conn,
            _actor(conn, principal),
            table(entity.name),
            {**stored, **side_before},
            changed,
            side_after,
        )
        _still_as_read(1 if written else 0)
    record = fetch(conn, entity, row_id, principal)
    if record is None:
        raise forbidden()
    return record


# Rows that point at any entity by (entity name, ID) pairs; no foreign key can clean them up.
# Activity history (``records``) is kept on purpose.
POLYMORPHIC_LINKS = (
    ("associations", "entity1", "index1"),
    ("associations", "entity2", "index2"),
    ("entities2channels", "entity", "index"),
    ("follows", "entity", "index"),
    ("events", "entity", "index"),
)


def _actor(conn: Connection, principal: Principal) -> Actor:
    return actor_for(conn, principal.user_id, "records")


def _links(t: Any, ids: list[Any]) -> list[tuple[Any, Any]]:
    """Link rows that name deleted rows by (entity name, ID) and go with them."""
    if t.name not in ENTITIES:
        return []
    found = []
    for holder, entity_col, index_col in POLYMORPHIC_LINKS:
        if holder == t.name:
            continue
        h = table(holder)
        found.append((h, (h.c[entity_col] == t.name) & h.c[index_col].in_(ids)))
    return found


def _forget(conn: Connection, t: Any, ids: list[Any]) -> None:
    if t.name in ENTITIES:
        extension.forget(conn, t.name, ids)


def _rights(principal: Principal) -> writes.RightsCheck:
    """The cascade's check of each row it would delete or change besides the one asked for:
    the caller must be able to write it as if asked for it directly (module permission,
    visibility, owner rule), or the whole delete is refused. Rows only their creator changes
    (a comment on a post, the mark that someone read a message) are about the row they go
    with, and rows of tables the records face does not show (another face's extension of an
    account, a user's credentials) belong to the row whose key cascades to them: neither
    stops a delete."""

    def check(conn: Connection, t: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        entity = ENTITIES.get(t.name)
        if entity is None or principal.is_admin:
            return
        access.require_write(entity, principal)
        clause = access.visibility(entity, t, principal)
        if clause is not None:
            wanted = {r["ID"] for r in rows}
            seen: set[Any] = set()
            ordered = sorted(wanted)
            for start in range(0, len(ordered), writes.CHUNK):
                chunk = ordered[start : start + writes.CHUNK]
                seen.update(
                    r.ID for r in conn.execute(select(t.c.ID).where(t.c.ID.in_(chunk), clause))
                )
            if seen != wanted:
                raise forbidden()
        for row in rows:
            judged = {**row, "creator": principal.user_id} if entity.creator_bound else row
            if not access.may_write_row(entity, SimpleNamespace(**judged), principal):
                raise forbidden()
            access.check_row_permission(entity, dict(row), principal)

    return check


def delete_row(
    conn: Connection, entity: Entity, row_id: int, principal: Principal, precondition: Any
) -> None:
    access.require_write(entity, principal)
    row = _stored_row(conn, entity, row_id, principal)
    if not access.may_write_row(entity, row, principal):
        raise forbidden()
    access.check_row_permission(entity, dict(row._mapping), principal)
    precondition(row)
    t = table(entity.name)
    # Claims the version judged above before the cascade (which may touch the row itself).
    claimed = update(t).where(t.c.ID == row_id, t.c._rev == row._rev).values(_rev=t.c._rev)
    _still_as_read(conn.execute(claimed).rowcount)
    rules = writes.Rules(
        actor=_actor(conn, principal),
        check=_rights(principal),
        links=_links,
        forget=_forget,
        tombstoned=ENTITIES.__contains__,
    )
    writes.delete_rows(conn, t, [dict(row._mapping)], rules)


def _still_as_read(rowcount: int) -> None:
    """The write names the version it judged (and the caller's If-Match matched), so a
    concurrent change in between can never be overwritten, whatever locking the store
    offers; the transaction is rolled back and the caller gets 412."""
    if rowcount != 1:
        raise precondition_failed()
