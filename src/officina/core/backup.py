"""Backup and restore of one instance, in one format for both stores.

A backup is a gzip-compressed JSON-lines file: a header line (format version, officina
version, schema revisions, table list), then one line per row as ``[table, {column: value}]``.
Bytes travel as ``{"$b64": "..."}``; everything else is plain JSON. Because nothing in it is
specific to SQLite or PostgreSQL, a backup taken on one store restores on the other — which
is how an instance moves from the embedded store to a PostgreSQL server.

The backup reads every table inside one transaction (a snapshot on both stores), so it is
consistent while the server keeps running.
"""

from __future__ import annotations

import base64
import gzip
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Connection

from officina import __version__
from officina.core.schema import metadata
from officina.core.store import Instances, Store, sqlalchemy_url

FORMAT = "officina-backup"
FORMAT_VERSION = 1
BATCH = 500

Progress = Callable[[str, int], None]


class BackupError(ValueError):
    """A backup file that cannot be restored here; the message says why."""


@dataclass(frozen=True)
class Summary:
    instance: str
    tables: int
    rows: int


def _tables() -> list[Table]:
    """Every instance table in dependency order (parents before children).

    Faces register their tables on core's MetaData when imported; callers import them all
    (``officina.migrations.models``) before backing up or restoring.
    """
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$b64"}:
        return base64.b64decode(value["$b64"])
    return value


def _snapshot(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    key = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True).execute(select(table).order_by(*key))
    for row in result.mappings():
        yield {str(k): _encode(v) for k, v in row.items()}


def backup(
    store: Store, path: Path, revisions: str | None, progress: Progress | None = None
) -> Summary:
    """Write ``store`` to ``path``; returns what was written."""
    tables = _tables()
    total = 0
    tmp = path.with_name(path.name + ".partial")
    with store.read() as conn, gzip.open(tmp, "wb") as out:
        _snapshot(conn)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "officina": __version__,
            "instance": store.name,
            "revisions": revisions,
            "tables": [t.name for t in tables],
        }
        out.write(orjson.dumps(header) + b"\n")
        for table in tables:
            count = 0
            for row in _rows(conn, table):
                out.write(orjson.dumps([table.name, row]) + b"\n")
                count += 1
            total += count
            if progress:
                progress(table.name, count)
    tmp.replace(path)
    return Summary(store.name, len(tables), total)


def read_header(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rb") as src:
            header = orjson.loads(src.readline())
    except (OSError, orjson.JSONDecodeError, EOFError) as err:
        raise BackupError(f"{path} is not an officina backup ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not an officina backup")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(f"backup format {header.get('version')} is not supported here")
    return header


def _fix_sequences(conn: Connection, store: Store) -> None:
    """PostgreSQL hands out IDs from sequences; move each past the restored rows."""
    if conn.dialect.name != "postgresql":
        return
    prep = conn.dialect.identifier_preparer
    for table in _tables():
        if list(table.primary_key.columns.keys()) != ["ID"]:
            continue
        schema = prep.quote_identifier(str(store.schema))
        qualified = f"{schema}.{prep.quote_identifier(table.name)}"
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'ID')"), {"t": qualified}
        ).scalar()
        if seq is None:
            continue
        highest = conn.execute(select(func.max(table.c.ID))).scalar()
        if highest is not None:
            conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": int(highest)})


def _check_tables(header: dict[str, Any]) -> dict[str, Table]:
    known = {t.name: t for t in _tables()}
    unknown = [t for t in header["tables"] if t not in known]
    if unknown:
        raise BackupError(f"backup holds tables this officina does not know: {unknown}")
    return known


def _load(store: Store, path: Path, known: dict[str, Table]) -> dict[str, int]:
    """Write the backup's rows into an empty store in one transaction; rows per table."""
    counts: dict[str, int] = {}
    with store.write() as conn, gzip.open(path, "rb") as src:
        src.readline()
        # The new store starts with nothing but an empty schema.
        for table in reversed(_tables()):
            conn.execute(table.delete())
        # Rows arrive grouped by table, parents first: a table's last rows are written
        # before the next table starts, so references always find their targets.
        current: str | None = None
        batch: list[dict[str, Any]] = []
        for line in src:
            table_name, row = orjson.loads(line)
            if table_name != current:
                if current is not None:
                    _flush(conn, known[current], batch, counts)
                current = table_name
            batch.append({k: _decode(v) for k, v in row.items()})
            if len(batch) >= BATCH:
                _flush(conn, known[table_name], batch, counts)
        if current is not None:
            _flush(conn, known[current], batch, counts)
        _fix_sequences(conn, store)
    return counts


def _summary(name: str, counts: dict[str, int], progress: Progress | None) -> Summary:
    for table_name, count in counts.items():
        if progress:
            progress(table_name, count)
    return Summary(name, len(counts), sum(counts.values()))


def restore(
    instances: Instances, path: Path, name: str | None = None, progress: Progress | None = None
) -> Summary:
    """Create instance ``name`` (default: the backed-up name) from the backup at ``path``."""
    header = read_header(path)
    target = name or str(header["instance"])
    known = _check_tables(header)
    store = instances.create(target)
    try:
        counts = _load(store, path, known)
    except Exception:
        instances.drop(target)
        raise
    return _summary(target, counts, progress)


def move(
    instances: Instances,
    name: str,
    database_url: str,
    grace: float | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Move an instance into a PostgreSQL database of its own while the servers run.

    The instance is marked read-only in the routing table (writes answer 503 with
    Retry-After), the copy is taken once every worker has noticed, the routing entry is
    switched to the new database, and the old copy is deleted once workers have followed.
    ``grace`` is how long to wait for workers (default: their routing refresh time).
    """
    if not database_url.startswith(("postgresql", "postgres:")):
        raise BackupError("an instance's own database must be a postgresql:// URL")
    if not instances.exists(name):
        raise BackupError(f"no instance {name!r}")
    if instances.state(name) != "active":
        raise BackupError(f"instance {name!r} is already being moved")
    old = instances.get(name)
    here = old.database_url or (
        instances.settings.database_url if instances.settings.is_postgres else None
    )
    if here is not None and sqlalchemy_url(here) == sqlalchemy_url(database_url):
        raise BackupError(f"instance {name!r} already lives in that database")
    wait = instances.ROUTE_TTL + 0.5 if grace is None else grace
    instances.set_route(name, state="moving")
    new: Store | None = None
    try:
        time.sleep(wait)
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "move.backup.gz"
            backup(old, copy, None)
            known = _check_tables(read_header(copy))
            new = instances.open_at(name, database_url)
            counts = _load(new, copy, known)
        instances.set_route(name, state="active", database_url=database_url, keep_url=False)
    except Exception:
        instances.set_route(name, state="active")
        if new is not None:
            instances.destroy(new)
        raise
    time.sleep(wait)
    instances.destroy(old)
    return _summary(name, counts, progress)


def _flush(
    conn: Connection, table: Table, batch: list[dict[str, Any]], counts: dict[str, int]
) -> None:
    if batch:
        conn.execute(insert(table), batch)
        counts[table.name] = counts.get(table.name, 0) + len(batch)
        batch.clear()
