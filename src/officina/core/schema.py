"""Tables every face shares: people, groups, grants, applications, credentials, sessions.

All faces add their own tables to the same :data:`metadata`, so one Alembic history covers an
instance's whole store. Columns the records face exposes carry the ZeyOS names; the rest
(password hashes, uuids, revision counters) are never shown by it.

Rows that a face shows get an integer ``ID`` (records face) and a 32-hex ``uuid`` (projects
face), so one person is one row whichever dialect asks.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# Constraint names follow one convention so migrations are stable on both stores.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def _rev() -> Column[int]:
    """Hidden revision counter: bumped by every write, source of the ETag."""
    return Column("_rev", Integer, nullable=False, server_default=text("1"))


def _stamps() -> list[Column[int]]:
    return [
        Column("creator", Integer, nullable=True),
        Column("creationdate", BigInteger, nullable=False),
        Column("lastmodified", BigInteger, nullable=False),
    ]


users = Table(
    "users",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    *_stamps(),
    # Logical reference to the records face's contacts table (no FK: core does not own it).
    Column("contact", Integer, nullable=True),
    Column("activity", SmallInteger, nullable=False, server_default=text("0")),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("nopublic", SmallInteger, nullable=False, server_default=text("0")),
    Column("apionly", SmallInteger, nullable=False, server_default=text("0")),
    Column("expdate", BigInteger, nullable=True),
    # Hidden from every face.
    Column("uuid", String(32), nullable=False, unique=True),
    Column("password", Text, nullable=False, server_default=text("''")),
    Column("lang", String(8), nullable=False, server_default=text("'en'")),
    Column("timezone", String(64), nullable=False, server_default=text("'Europe/Berlin'")),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("settings", JSON, nullable=True),
    _rev(),
    # Case-insensitive uniqueness is enforced by the lower-cased shadow columns.
    Column("name_ci", Text, nullable=False, unique=True),
    Column("email_ci", Text, nullable=False, unique=True),
)

groups = Table(
    "groups",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    *_stamps(),
    Column("leader", Integer, ForeignKey("users.ID", ondelete="SET NULL"), nullable=True),
    Column("activity", SmallInteger, nullable=False, server_default=text("0")),
    Column("name", Text, nullable=False),
    Column("uuid", String(32), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=text("''")),
    _rev(),
    Column("name_ci", Text, nullable=False, unique=True),
)

groups2users = Table(
    "groups2users",
    metadata,
    Column("ID", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    *_stamps(),
    Column("group", Integer, ForeignKey("groups.ID", ondelete="CASCADE"), nullable=False),
    Column("user", Integer, ForeignKey("users.ID", ondelete="CASCADE"), nullable=False),
    Column("writable", SmallInteger, nullable=False, server_default=text("0")),
    _rev(),
    UniqueConstraint("group", "user"),
    Index("ix_groups2users_user", "user"),
)

applications = Table(
    "applications",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    *_stamps(),
    Column("activity", SmallInteger, nullable=False, server_default=text("0")),
    Column("readmebinfile", Integer, nullable=True),
    Column("name", Text, nullable=False),
    Column("identifier", String(200), nullable=False, unique=True),
    Column("vendor", Text, nullable=False, server_default=text("''")),
    Column("restricted", SmallInteger, nullable=False, server_default=text("0")),
    Column("callbackurls", JSON, nullable=True),
    # Hidden: hash of the client secret, application settings served by /settings.
    Column("secret", Text, nullable=True),
    Column("defaultsettings", JSON, nullable=True),
    Column("settings", JSON, nullable=True),
    _rev(),
)

permissions = Table(
    "permissions",
    metadata,
    Column("ID", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    *_stamps(),
    Column("group", Integer, ForeignKey("groups.ID", ondelete="CASCADE"), nullable=False),
    Column("fork", Integer, nullable=True),
    Column(
        "application",
        Integer,
        ForeignKey("applications.ID", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("identifier", String(200), nullable=True),
    Column("writable", SmallInteger, nullable=False, server_default=text("0")),
    _rev(),
    Index("ix_permissions_group", "group"),
)

# Every bearer secret (login tokens, OAuth tokens and codes, API keys) lives here, keyed by
# its SHA-256 so a leaked table leaks no usable credential.
tokens = Table(
    "tokens",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("hash", LargeBinary(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("user", Integer, ForeignKey("users.ID", ondelete="CASCADE"), nullable=False),
    Column(
        "application",
        Integer,
        ForeignKey("applications.ID", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("created", BigInteger, nullable=False),
    Column("expdate", BigInteger, nullable=True),
    Column("revoked", BigInteger, nullable=True),
    # The legacy login's device identifier, or an API key's label.
    Column("hint", Text, nullable=False, server_default=text("''")),
    # OAuth bookkeeping: PKCE challenge, redirect URI, the grant a token pair belongs to.
    Column("challenge", Text, nullable=True),
    Column("redirect_uri", Text, nullable=True),
    Column("grant", String(32), nullable=True),
    Column("lastused", BigInteger, nullable=True),
    # Seconds of disuse after which a login token ends (null: only ``expdate`` ends it).
    Column("idle", Integer, nullable=True),
    Index("ix_tokens_user_kind", "user", "kind"),
    Index("ix_tokens_grant", "grant"),
)

# Cookie sessions (ZEYOSID) and the login audit trail.
sessions = Table(
    "sessions",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("hash", LargeBinary(32), nullable=False, unique=True),
    Column("user", Integer, ForeignKey("users.ID", ondelete="CASCADE"), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("lastseen", BigInteger, nullable=False),
    Column("ended", BigInteger, nullable=True),
    Column("ip", String(64), nullable=False, server_default=text("''")),
    # Absolute end, and seconds of disuse after which the session ends (null: no limit).
    Column("expires", BigInteger, nullable=True),
    Column("idle", Integer, nullable=True),
    Index("ix_sessions_user", "user"),
)

# Per-instance configuration (currency, locale, timezone, ...), one JSON value per key.
instance_settings = Table(
    "instance_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=True),
)

# One entry per written row, appended in the same transaction as the write (see
# ``officina.core.changes``). ``ID`` only grows, so it can serve as a cursor for readers that
# follow the log; ``actor`` keeps no foreign key, the history outlives the people in it.
changes = Table(
    "changes",
    metadata,
    Column("ID", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("instance", String(100), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("row_id", Text, nullable=False),
    Column("action", String(8), nullable=False),
    Column("actor", Integer, nullable=True),
    Column("face", String(16), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("fields", JSON, nullable=False),
    Index("ix_changes_entity_row_id_ID", "entity", "row_id", "ID"),
    Index("ix_changes_time", "time"),
    sqlite_autoincrement=True,
)
