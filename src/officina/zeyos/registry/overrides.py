"""Decisions officina takes on top of the generated catalogue.

The vendor references disagree with each other in places, or say nothing; each change here
is one such decision, applied to the generated entities so regenerating never loses it.
"""

from __future__ import annotations

from dataclasses import replace

from officina.zeyos.registry.model import Default, Entity, Field, Kind

# Served by officina core's own tables (shared by every face), not by records-face tables.
CORE_TABLES = ("users", "groups", "groups2users", "permissions", "applications")

# Rows that hang below two parents are visible only when both parents are.
BOTH_PARENTS = {
    "contacts2contacts": ("contact1", "contact2"),
    "dunning2transactions": ("dunning", "transaction"),
    "pricelists2accounts": ("pricelist", "account"),
    "prices": ("item", "pricelist"),
    "suppliers": ("item", "account"),
}

# Search columns for entities the vendor gives no search index (see docs/records.md).
EXTRA_SEARCH = {
    "applicationassets": ("filename",),
    "associations": ("relation",),
    "relateditems": ("relation",),
    "categories": ("name",),
    "events": ("name",),
    "comments": ("sender", "text"),
    "invitations": ("name", "email"),
    "mailingrecipients": ("email",),
    "permissions": ("identifier",),
}

# Columns of which at most one may be set, and of which exactly one must be set.
EXCLUSIVE = {
    "actionsteps": (("task", "ticket", "account"),),
    "tasks": (("ticket", "project"),),
    "tickets": (("account", "project"),),
    "messages": (("ticket", "opportunity"),),
    "payments": (("transaction", "account"),),
}
EXACTLY_ONE = {
    "participants": (("mailinglist", "campaign"),),
    "files": (("record", "comment"),),
    "permissions": (("fork", "application", "identifier"),),
    "devices": (("serialnum", "chargenum"),),
}

# Transaction types by the permission that governs them.
TRANSACTION_TYPE_PERMS = {
    "billing": (0, 1, 2, 3, 4),
    "procurement": (5, 6, 7, 8, 9),
    "production": (10, 11),
}


def _field(entity: Entity, name: str, **changes: object) -> Entity:
    fields = tuple(replace(f, **changes) if f.name == name else f for f in entity.fields)  # type: ignore[arg-type]
    return replace(entity, fields=fields, extra={})


def apply(catalog: dict[str, Entity]) -> dict[str, Entity]:
    out = dict(catalog)
    for name in CORE_TABLES:
        out[name] = replace(out[name], core_table=True, extra={})
    for name, parents in BOTH_PARENTS.items():
        out[name] = replace(out[name], depends_on=parents, depends_mode="and", extra={})
    # The vendor omits "writable" for these two writes; every other entity says it.
    for name in ("devices", "documents"):
        out[name] = replace(out[name], write_needs_writable=True, extra={})
    for name, columns in EXTRA_SEARCH.items():
        present = tuple(c for c in columns if out[name].field(c) is not None)
        out[name] = replace(out[name], searchable=out[name].searchable + present, extra={})
    for name, groups in EXCLUSIVE.items():
        out[name] = replace(out[name], exclusive=groups, extra={})
    for name, groups in EXACTLY_ONE.items():
        out[name] = replace(out[name], exactly_one=groups, extra={})
    # The database reference allows all five calculation methods; the API enum lists three.
    for name in ("contracts", "tickets", "transactions"):
        out[name] = _field(out[name], "calculation", kind=Kind.SMALLINT, choices=(0, 1, 2, 3, 4))
    # The database requires a start date while the API calls it optional: default it to now.
    out["campaigns"] = _field(out["campaigns"], "datefrom", default=Default.NOW)
    # Useful for threading; shown read-only.
    messages = out["messages"]
    if messages.field("messageid") is None:
        out["messages"] = replace(
            messages,
            fields=(*messages.fields, Field("messageid", Kind.TEXT, default="", readonly=True)),
            extra={},
        )
    out["transactions"] = replace(out["transactions"], extra={"type_perms": TRANSACTION_TYPE_PERMS})
    return out
