"""Entities known only from the older ZeyOS reference (the ``carat_*`` planning module).

They are not in the current vendor contract, so they are described here by hand and served
only where an instance switches the module on (instance setting ``carat`` = true).
"""

from __future__ import annotations

from officina.zeyos.registry.model import ALL_OPS, Default, Entity, Field, Kind, OnDelete, Owner

_PERMS = ("carat",)


def _common() -> tuple[Field, ...]:
    return (
        Field("creator", Kind.INT, nullable=True, default=Default.CALLER, ref="users"),
        Field("creationdate", Kind.BIGINT, default=Default.NOW),
    )


SEED_ENTITIES: dict[str, Entity] = {
    "carat_commissions": Entity(
        name="carat_commissions",
        fields=(
            Field("ID", Kind.INT),
            Field("ownergroup", Kind.INT, nullable=True, ref="groups", on_delete=OnDelete.CASCADE),
            *_common(),
            Field(
                "assigneduser", Kind.INT, nullable=True, ref="users", on_delete=OnDelete.SET_NULL
            ),
            Field("account", Kind.INT, nullable=True, ref="accounts", on_delete=OnDelete.SET_NULL),
            Field("visibility", Kind.SMALLINT, default=0, choices=(0, 1, 2)),
            Field("commissionnum", Kind.TEXT, default="", indexed=True),
            Field("subject", Kind.TEXT, default=""),
            Field("currency", Kind.VARCHAR, max_length=3, pattern="^[A-Z]{3}$", default="EUR"),
            Field("description", Kind.TEXT, default="", multiline=True),
        ),
        ops=ALL_OPS,
        read_perms=_PERMS,
        write_perms=_PERMS,
        owner=Owner.GROUP,
        searchable=("commissionnum", "subject"),
    ),
    "carat_plannings": Entity(
        name="carat_plannings",
        fields=(
            Field("ID", Kind.INT),
            *_common(),
            Field(
                "commission",
                Kind.INT,
                required=True,
                ref="carat_commissions",
                on_delete=OnDelete.CASCADE,
            ),
            Field(
                "transaction",
                Kind.INT,
                nullable=True,
                ref="transactions",
                on_delete=OnDelete.SET_NULL,
            ),
            Field("item", Kind.INT, nullable=True, ref="items", on_delete=OnDelete.SET_NULL),
            Field("planningnum", Kind.TEXT, default="", indexed=True),
            Field("subject", Kind.TEXT, default=""),
            Field("calculation", Kind.TEXT, default=""),
            Field("catalog", Kind.TEXT, default=""),
            Field("productmodel", Kind.TEXT, default=""),
            Field("productset", Kind.TEXT, default=""),
            Field("grossamount", Kind.FLOAT, default=0.0),
            Field("setoverflow", Kind.FLOAT, default=0.0),
            Field("status", Kind.SMALLINT, default=0, minimum=0, maximum=32767),
            Field("description", Kind.TEXT, default="", multiline=True),
        ),
        ops=ALL_OPS,
        pk_kind=Kind.INT,
        read_perms=_PERMS,
        write_perms=_PERMS,
        depends_on=("commission",),
        searchable=("planningnum", "subject"),
    ),
    "carat_files": Entity(
        name="carat_files",
        fields=(
            Field("ID", Kind.BIGINT),
            *_common(),
            Field(
                "planning",
                Kind.INT,
                required=True,
                ref="carat_plannings",
                on_delete=OnDelete.CASCADE,
            ),
            Field("type", Kind.SMALLINT, default=1, minimum=1, maximum=300),
            Field("filename", Kind.TEXT, required=True),
            Field(
                "mimetype",
                Kind.TEXT,
                default="application/octet-stream",
                pattern="^[a-z]+/[^ \\t\\v\\r\\n]+$",
            ),
            Field("size", Kind.INT, default=0, minimum=0),
            # The file body, stored as a binfile (write {"content": base64}).
            Field("binfile", Kind.BINFILE, nullable=True, ref="binfiles", readonly=True),
        ),
        ops=ALL_OPS,
        pk_kind=Kind.BIGINT,
        read_perms=_PERMS,
        write_perms=_PERMS,
        depends_on=("planning",),
        searchable=("filename",),
    ),
}
