"""The shapes the records-face entity registry is written in.

The registry is data, not code: routes, validation, SQL tables, the query compiler and the
served OpenAPI all read these objects, so a field is described once and every consumer agrees
on it. The catalogue itself lives in ``catalog.py`` (generated) and ``overrides.py`` (decisions
taken by hand).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.Enum):
    """Storage and wire kind of a column; decides SQL type, coercion and JSON encoding."""

    INT = "int"  # int32
    BIGINT = "bigint"  # int64
    SMALLINT = "smallint"  # enums and 0/1 flags; always a JSON number, never a boolean
    FLOAT = "float"  # double precision
    TEXT = "text"  # unbounded text
    VARCHAR = "varchar"  # bounded text (Field.max_length)
    JSON = "json"  # JSON document; unexpanded output is its JSON text
    TEXT_ARRAY = "text[]"  # unexpanded output is a PostgreSQL array literal
    BIGINT_ARRAY = "bigint[]"
    BINFILE = "binfile"  # integer reference to a binfile; expanded as {"content": base64}
    HASH = "hash"  # binfiles.hash: MD5 bytes, shown as "\\x" + 32 hex
    ENTITY = "entity"  # name of a canonical entity (polymorphic reference part)


INTEGER_KINDS = frozenset({Kind.INT, Kind.BIGINT, Kind.SMALLINT, Kind.BINFILE})
TEXT_KINDS = frozenset({Kind.TEXT, Kind.VARCHAR, Kind.ENTITY})
STRUCTURED_KINDS = frozenset({Kind.JSON, Kind.TEXT_ARRAY, Kind.BIGINT_ARRAY})
EXPANDABLE_KINDS = STRUCTURED_KINDS | {Kind.BINFILE}


class Op(enum.Enum):
    LIST = "list"  # POST /{entity}
    CREATE = "create"  # PUT /{entity}
    GET = "get"  # GET /{entity}/{ID}
    HEAD = "head"  # HEAD /{entity}/{ID}
    UPDATE = "update"  # PATCH /{entity}/{ID}
    DELETE = "delete"  # DELETE /{entity}/{ID}


ALL_OPS = frozenset(Op)
READ_ONLY_OPS = frozenset({Op.LIST, Op.GET, Op.HEAD})
LIST_ONLY_OPS = frozenset({Op.LIST})


class OnDelete(enum.Enum):
    CASCADE = "CASCADE"
    SET_NULL = "SET NULL"
    NONE = "NONE"  # no action: binfiles are collected separately, polymorphic refs have no FK


class Default(enum.Enum):
    """Defaults that are computed at write time rather than stored literally."""

    NOW = "now"  # Unix seconds of the write
    CALLER = "caller"  # ID of the authenticated user


class Owner(enum.Enum):
    """Which ownership columns decide row visibility."""

    NONE = "none"  # no owner columns (dependent or global entity)
    GROUP = "group"  # ownergroup only; null = public
    USER_GROUP = "user_group"  # owneruser or ownergroup (never both); both null = public


@dataclass(frozen=True)
class Field:
    """One API column of an entity."""

    name: str
    kind: Kind
    nullable: bool = False
    # Literal default (already a Python value of the right type), a Default, or None.
    default: Any = None
    # Must be supplied on create (NOT NULL without default).
    required: bool = False
    max_length: int | None = None
    # Allowed values for enums (ints for smallint enums, strings for string enums).
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    # Regex (Python syntax) a text value must match in full.
    pattern: str | None = None
    # Target entity of a reference column (joinable as "<name>.<column>").
    ref: str | None = None
    on_delete: OnDelete = OnDelete.NONE
    # Text: may hold line breaks. Single-line text rejects them.
    multiline: bool = False
    # Not writable through PUT/PATCH (except echoing the stored value back).
    readonly: bool = False
    # Worth an index (reference columns, dates used for windows, searchable text).
    indexed: bool = False


@dataclass(frozen=True)
class Entity:
    """One REST resource and its table."""

    name: str
    fields: tuple[Field, ...]
    ops: frozenset[Op] = ALL_OPS
    pk_kind: Kind = Kind.INT
    # Permission identifiers; any one of them grants access. Empty = any authenticated user.
    read_perms: tuple[str, ...] = ()
    write_perms: tuple[str, ...] = ()
    # Write access additionally needs the permission to be writable.
    write_needs_writable: bool = True
    owner: Owner = Owner.NONE
    # Parent reference columns whose visibility this entity inherits.
    depends_on: tuple[str, ...] = ()
    # "and": every parent must be visible; "or": whichever parent reference is set.
    depends_mode: str = "and"
    # Caller must be the row's creator to create/update/delete.
    creator_bound: bool = False
    extdata: bool = False  # extension values are stored for this entity
    tags: bool = False  # tags are stored for this entity
    # Columns searched by the list parameter "query".
    searchable: tuple[str, ...] = ()
    # Columns that must not be both set, or of which exactly one must be set.
    exclusive: tuple[tuple[str, ...], ...] = ()
    exactly_one: tuple[tuple[str, ...], ...] = ()
    # Served by core tables (users, groups, ...) rather than a records-face table.
    core_table: bool = False
    # (operation, operationId) pairs of the vendor contract, for the served OpenAPI.
    operation_ids: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> Field | None:
        return self._by_name().get(name)

    def _by_name(self) -> dict[str, Field]:
        cache = self.extra.get("_by_name")
        if cache is None:
            cache = {f.name: f for f in self.fields}
            self.extra["_by_name"] = cache
        return cache

    @property
    def has_lastmodified(self) -> bool:
        return "lastmodified" in self._by_name()

    @property
    def expandable(self) -> tuple[str, ...]:
        # Asked on every single-row read; the fields never change once registered.
        cache = self.extra.get("_expandable")
        if cache is None:
            cache = tuple(f.name for f in self.fields if f.kind in EXPANDABLE_KINDS)
            self.extra["_expandable"] = cache
        return cache

    @property
    def references(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.ref is not None)
