"""SQL tables of the records face, built from the entity registry.

Entities served by core tables (users, groups, ...) are not built here; their columns are
defined by core and checked against the registry by the tests. Besides the entity tables
this module defines the side tables every entity shares: extension values, tags, tombstones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeEngine

from officina.core import schema as core_schema
from officina.core.schema import metadata
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import Entity, Field, Kind, OnDelete

# SQLite only auto-assigns a 64-bit rowid to a column declared exactly INTEGER.
_BIGINT_KEY: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")


def sql_type(f: Field) -> TypeEngine[Any]:
    kind = f.kind
    if kind in (Kind.INT, Kind.BINFILE):
        return Integer()
    if kind == Kind.BIGINT:
        return BigInteger()
    if kind == Kind.SMALLINT:
        return SmallInteger()
    if kind == Kind.FLOAT:
        return Double()
    if kind == Kind.VARCHAR:
        return String(f.max_length)
    if kind == Kind.ENTITY:
        return String(32)
    if kind in (Kind.JSON, Kind.TEXT_ARRAY, Kind.BIGINT_ARRAY):
        return JSON()
    if kind == Kind.HASH:
        return LargeBinary(16)
    return Text()


def _server_default(f: Field) -> Any:
    value = f.default
    if isinstance(value, bool):
        return text("1" if value else "0")
    if isinstance(value, int | float):
        return text(str(value))
    if isinstance(value, str):
        return text("'" + value.replace("'", "''") + "'")
    return None


def _column(entity: Entity, f: Field) -> Column[Any]:
    if f.name == "ID":
        typ: TypeEngine[Any] = _BIGINT_KEY if entity.pk_kind == Kind.BIGINT else Integer()
        return Column("ID", typ, primary_key=True, autoincrement=True)
    args: list[Any] = []
    if f.ref is not None and f.on_delete in (OnDelete.CASCADE, OnDelete.SET_NULL):
        args.append(ForeignKey(f"{f.ref}.ID", ondelete=f.on_delete.value))
    return Column(
        f.name,
        sql_type(f),
        *args,
        nullable=f.nullable,
        server_default=_server_default(f),
    )


def _build(entity: Entity) -> Table:
    columns = [_column(entity, f) for f in entity.fields]
    columns.append(Column("_rev", Integer, nullable=False, server_default=text("1")))
    if entity.name == "binfiles":
        # The file body itself; never selected by lists.
        columns.append(Column("content", LargeBinary, nullable=True))
    indexes = [
        Index(f"ix_{entity.name}_{f.name}", f.name)
        for f in entity.fields
        if f.name != "ID"
        and (f.indexed or f.ref is not None)
        and f.kind not in (Kind.JSON, Kind.TEXT_ARRAY, Kind.BIGINT_ARRAY)
        # Free-form text can outgrow PostgreSQL's btree entry limit (about 2.7 KB).
        and not (f.kind == Kind.TEXT and f.multiline)
    ]
    return Table(entity.name, metadata, *columns, *indexes, sqlite_autoincrement=True)


def _core_table(name: str) -> Table:
    return core_schema.metadata.tables[name]


TABLES: dict[str, Table] = {}
for _entity in ENTITIES.values():
    if _entity.core_table:
        TABLES[_entity.name] = _core_table(_entity.name)
    else:
        TABLES[_entity.name] = _build(_entity)


# Extension values of any entity row: one text value per name, plus a numeric copy when the
# text is a finite number so numeric filters compare numbers, not strings.
extdata = Table(
    "extdata",
    metadata,
    Column("entity", String(32), nullable=False),
    Column("index", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("number", Double, nullable=True),
    PrimaryKeyConstraint("entity", "index", "name"),
    Index("ix_extdata_entity_name_value", "entity", "name", "value"),
    Index("ix_extdata_entity_name_number", "entity", "name", "number"),
)

tagnames = Table(
    "tagnames",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(32), nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("entity", "name"),
)

tagrels = Table(
    "tagrels",
    metadata,
    Column("entity", String(32), nullable=False),
    Column("tag", Integer, ForeignKey("tagnames.ID", ondelete="CASCADE"), nullable=False),
    Column("index", BigInteger, nullable=False),
    PrimaryKeyConstraint("entity", "index", "tag"),
    Index("ix_tagrels_tag", "tag"),
)

# Every deleted row leaves a tombstone, so its ID is never handed out again.
tombstones = Table(
    "tombstones",
    metadata,
    Column("entity", String(32), nullable=False),
    Column("ID", BigInteger, nullable=False),
    Column("deleted", BigInteger, nullable=False),
    PrimaryKeyConstraint("entity", "ID"),
)


def table(name: str) -> Table:
    return TABLES[name]
