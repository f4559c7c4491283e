"""SQL tables of the jobs face, added to core's shared MetaData.

People and teams are core rows (``users``, ``groups``, ``groups2users``): a Goana user is the
same person the records and projects faces know, and a team is a core group. What only this
face knows about a person lives in ``goana_user_profile``. Translated names (template titles,
parameter and option labels, status names) live in core's ``translations`` table.

Times are UTC epoch seconds; durations are seconds. Every table name starts with ``goana_``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from officina.core.schema import metadata

FALSE = text("false")
TRUE = text("true")


def _times() -> list[Column[int]]:
    return [
        Column("created", BigInteger, nullable=False),
        Column("modified", BigInteger, nullable=False),
        # Row version: the strong ETag of the object.
        Column("rev", Integer, nullable=False, server_default=text("1")),
    ]


status = Table(
    "goana_status",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=False),
    # Stable code of the status; its names (English first) are translations.
    Column("code", String(40), nullable=False, unique=True),
    Column("position", Integer, nullable=False),
    Column("initial", Boolean, nullable=False, server_default=FALSE),
    Column("final", Boolean, nullable=False, server_default=FALSE),
)

template = Table(
    "goana_job_template",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("color", String(7), nullable=False, server_default=text("'#015167'")),
    Column("can_create_on_mobile", Boolean, nullable=False, server_default=FALSE),
    Column("can_edit_on_mobile", Boolean, nullable=False, server_default=FALSE),
    *_times(),
)

parameter_def = Table(
    "goana_parameter_def",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column(
        "template",
        Integer,
        ForeignKey("goana_job_template.ID", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("name_ci", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("default_value", Text, nullable=True),
    Column("min_occ", Integer, nullable=False, server_default=text("0")),
    Column("max_occ", Integer, nullable=False, server_default=text("1")),
    Column("position", Integer, nullable=False, server_default=text("0")),
    Column("use_as_job_title", Boolean, nullable=False, server_default=FALSE),
    # Removed from the template while jobs still hold values for it.
    Column("retired", Boolean, nullable=False, server_default=FALSE),
    UniqueConstraint("template", "name_ci"),
)

dc_value = Table(
    "goana_dc_value",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column(
        "definition",
        Integer,
        ForeignKey("goana_parameter_def.ID", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(100), nullable=False),
    Column("parent_key", String(100), nullable=True),
    Column("value", String(200), nullable=True),
    Column("position", Integer, nullable=False, server_default=text("0")),
    # Dropped from the collection while jobs still use it.
    Column("inactive", Boolean, nullable=False, server_default=FALSE),
    UniqueConstraint("definition", "key"),
)

location = Table(
    "goana_location",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("street", String(200), nullable=True),
    Column("street_number", String(50), nullable=True),
    Column("street_supplement", String(200), nullable=True),
    Column("zip", String(200), nullable=False),
    Column("city", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
)

contact = Table(
    "goana_contact",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(200), nullable=False, unique=True),
    Column("lang", String(2), nullable=True),
    Column("team", Integer, ForeignKey("groups.ID"), nullable=True),
    Column("salutation", String(10), nullable=True),
    Column("company_name", String(200), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("name", String(200), nullable=True),
    Column("role", String(200), nullable=True),
    # Set only when the client overrides the computed display name.
    Column("display_name", String(500), nullable=True),
    Column("display_sort", String(500), nullable=False, server_default=text("''")),
    Column("remarks", Text, nullable=True),
    Column("location", Integer, ForeignKey("goana_location.ID"), nullable=True),
    *_times(),
    Index("ix_goana_contact_team", "team"),
    Index("ix_goana_contact_display_sort", "display_sort"),
)

contact_detail = Table(
    "goana_contact_detail",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column(
        "contact",
        Integer,
        ForeignKey("goana_contact.ID", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("name", String(100), nullable=True),
    Column("type", String(10), nullable=False),
    Column("value", String(200), nullable=False),
    Column("is_preferred", Boolean, nullable=False, server_default=FALSE),
    Index("ix_goana_contact_detail_contact", "contact"),
)

user_profile = Table(
    "goana_user_profile",
    metadata,
    Column(
        "user",
        Integer,
        ForeignKey("users.ID", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("display_name", String(100), nullable=True),
    Column("phone", String(100), nullable=True),
    Column("is_billing_contact", Boolean, nullable=False, server_default=FALSE),
    Column("work_assignable", Boolean, nullable=False, server_default=TRUE),
    Column("avatar", LargeBinary, nullable=True),
)

job = Table(
    "goana_job",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("template", Integer, ForeignKey("goana_job_template.ID"), nullable=False),
    Column("status", Integer, ForeignKey("goana_status.ID"), nullable=False),
    Column("user", Integer, ForeignKey("users.ID"), nullable=True),
    Column("team", Integer, ForeignKey("groups.ID"), nullable=True),
    Column("planned", BigInteger, nullable=False),
    Column("duration", Integer, nullable=False),
    *_times(),
    Index("ix_goana_job_template", "template"),
    Index("ix_goana_job_status", "status"),
    Index("ix_goana_job_user", "user"),
    Index("ix_goana_job_team", "team"),
    Index("ix_goana_job_planned", "planned"),
    Index("ix_goana_job_modified", "modified"),
)

job_parameter = Table(
    "goana_job_parameter",
    metadata,
    Column("ID", Integer, primary_key=True, autoincrement=True),
    Column("job", Integer, ForeignKey("goana_job.ID", ondelete="CASCADE"), nullable=False),
    Column("definition", Integer, ForeignKey("goana_parameter_def.ID"), nullable=False),
    Column("variant", Integer, nullable=False),
    Column("value", Text, nullable=True),
    Column("key", Text, nullable=True),
    Column("contact", Integer, ForeignKey("goana_contact.ID"), nullable=True),
    Column("location", Integer, ForeignKey("goana_location.ID"), nullable=True),
    # Image and signature bytes; left out of lists unless asked for.
    Column("data", LargeBinary, nullable=True),
    UniqueConstraint("job", "definition", "variant"),
    Index("ix_goana_job_parameter_definition", "definition"),
    Index("ix_goana_job_parameter_contact", "contact"),
    Index("ix_goana_job_parameter_location", "location"),
)
