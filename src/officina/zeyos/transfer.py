"""Export and import of one records-face entity as CSV or JSON lines.

Import goes through the same create operation as ``PUT /{entity}``: the same coercion,
validation, permissions and defaults. A batch is one transaction — a bad row stops it, nothing
of it is written, and the error names the row's line number in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson
from sqlalchemy.engine import Connection

from officina.core.auth import Principal
from officina.core.errors import HttpError
from officina.zeyos import records
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import Entity, Op

FORMATS = ("csv", "jsonl")
PAGE = 5000

Tick = Callable[[int], None]


class TransferError(ValueError):
    """A file or request that cannot be transferred; the message says where and why."""


@dataclass(frozen=True)
class ImportResult:
    entity: str
    rows: int


def entity_for(name: str, op: Op) -> Entity:
    entity = ENTITIES.get(name)
    if entity is None:
        raise TransferError(f"unknown entity {name!r}")
    if op not in entity.ops:
        raise TransferError(f"entity {name!r} does not allow {op.value}")
    return entity


def _pages(conn: Connection, entity: Entity, principal: Principal) -> Iterator[dict[str, Any]]:
    """Every visible row in ID order, a page at a time (keyset paging, no OFFSET scans)."""
    last = 0
    while True:
        page = records.run_list(
            conn,
            entity,
            {"filters": {"ID": {">": last}}, "sort": ["+ID"], "limit": PAGE},
            principal,
        )
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1]["ID"]


def export(
    conn: Connection,
    name: str,
    fmt: str,
    out: IO[str],
    principal: Principal,
    tick: Tick | None = None,
) -> int:
    """Write every row of ``name`` the principal may see; returns the number of rows."""
    if fmt not in FORMATS:
        raise TransferError(f"unknown format {fmt!r}: use csv or jsonl")
    entity = entity_for(name, Op.LIST)
    columns = [f.name for f in entity.fields]
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    count = 0
    for row in _pages(conn, entity, principal):
        if writer is not None:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        else:
            out.write(orjson.dumps(row).decode("utf-8") + "\n")
        count += 1
        if tick and count % 1000 == 0:
            tick(1000)
    if tick:
        tick(count % 1000)
    return count


def _csv_rows(source: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        return
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TransferError(f"line {line}: {len(row)} values for {len(header)} columns")
        # Empty cells are "not given", so defaults apply as they would through the API.
        yield line, {k: v for k, v in zip(header, row, strict=True) if v != ""}


def _jsonl_rows(source: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, text in enumerate(source, start=1):
        if not text.strip():
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise TransferError(f"line {line}: not valid JSON") from None
        if not isinstance(value, dict):
            raise TransferError(f"line {line}: expected a JSON object")
        yield line, value


def import_rows(
    conn: Connection,
    name: str,
    fmt: str,
    source: IO[str],
    principal: Principal,
    tick: Tick | None = None,
) -> ImportResult:
    """Create one row per line inside the caller's transaction; any bad line aborts it."""
    if fmt not in FORMATS:
        raise TransferError(f"unknown format {fmt!r}: use csv or jsonl")
    entity = entity_for(name, Op.CREATE)
    rows = _csv_rows(source) if fmt == "csv" else _jsonl_rows(source)
    count = 0
    for line, body in rows:
        try:
            records.create(conn, entity, body, principal)
        except HttpError as err:
            raise TransferError(f"line {line}: {err.message}") from None
        count += 1
        if tick:
            tick(1)
    return ImportResult(entity.name, count)


def as_text(data: bytes) -> IO[str]:
    """A text stream over file bytes, tolerating a byte-order mark."""
    return io.StringIO(data.decode("utf-8-sig"), newline="")
