"""Decisions officina takes on top of the generated catalogue.

``catalog.py`` holds what the vendor references say; this module holds what the records-face
guide (``../shared/spec/zeyos.md``) decides where they are silent or disagree: access rules,
dependencies, cross-field groups, hidden columns, required fields and a few enums. Each table
below names the guide section it implements. ``apply`` checks that every column it touches
exists, so a regenerated catalogue that drifts away from these decisions fails at import time
instead of silently losing one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from officina.zeyos.registry.model import Default, Entity, Field, Kind, Op

# -- §3.5 hidden columns ---------------------------------------------------------------------
# Never exposed, never filterable (the generator only emits API columns; this is the guard).
HIDDEN: dict[str, frozenset[str]] = {
    "applications": frozenset(
        {"secret", "settings", "defaultsettings", "settingscodebinfile", "usersettingscodebinfile"}
    ),
    "components": frozenset({"order"}),
    "customfields": frozenset({"pattern"}),
    "davservers": frozenset({"password"}),
    "feedservers": frozenset({"password"}),
    "forks": frozenset({"description", "settings"}),
    "groups": frozenset({"description"}),
    "links": frozenset({"password_encrypted", "otpsecret"}),
    "mailservers": frozenset({"passwordin", "passwordout"}),
    "messages": frozenset({"messageid"}),
    "resources": frozenset({"binfile"}),
    "services": frozenset({"binfile", "url", "accesskey"}),
    "users": frozenset(
        {
            "password",
            "resetlogintoken",
            "persistentlogintoken",
            "signature",
            "description",
            "otpsecret",
            "settings",
        }
    ),
    "weblets": frozenset({"binfile", "url"}),
}

# Open question 16: the message ID header is useful for threading, so it is shown read-only
# (after the API columns; it is not part of the vendor's column order).
EXPOSED_HIDDEN: dict[str, tuple[Field, ...]] = {
    "messages": (Field("messageid", Kind.TEXT, default="", readonly=True, indexed=True),),
}

# -- §3.1 access -----------------------------------------------------------------------------
# entity -> (read permissions, write permissions); any one identifier suffices, () = any
# authenticated user. Read-only entities ("—" in the guide) keep () for writes: their missing
# write operations are what forbids writing. Every write needs the permission to be writable,
# including devices and documents (note ³, open question 14).
ACCESS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (("accounts",), ("accounts",)),
    "actionsteps": (("actionsteps",), ("actionsteps",)),
    "addresses": (("accounts",), ("accounts",)),
    "applicationassets": (("dev",), ()),
    "applications": (("dev",), ()),
    "appointments": (("calendar",), ("calendar",)),
    "associations": ((), ()),
    "binfiles": ((), ()),
    "campaigns": (("campaigns",), ("campaigns",)),
    "categories": ((), ()),
    "channels": ((), ()),
    "comments": ((), ()),
    "components": (("inventory",), ("inventory",)),
    "contacts": (("contacts",), ("contacts",)),
    "contacts2contacts": (("contacts",), ("contacts",)),
    "contracts": (("contracts",), ("contracts",)),
    "couponcodes": (("pricelists",), ("pricelists",)),
    "coupons": (("pricelists",), ("pricelists",)),
    "customfields": ((), ()),
    "davservers": ((), ()),
    "devices": (("inventory",), ("inventory",)),
    "documents": (("documents",), ("documents",)),
    "dunning": (("collection",), ("collection",)),
    "dunning2transactions": (("collection",), ("collection",)),
    "entities2channels": ((), ()),
    "events": ((), ()),
    "feedservers": ((), ()),
    "files": ((), ()),
    "follows": ((), ()),
    "forks": ((), ()),
    "groups": ((), ()),
    "groups2users": (("admin",), ()),
    "invitations": (("calendar",), ("calendar",)),
    "items": (("inventory",), ("inventory",)),
    "ledgers": (("payments",), ("payments",)),
    "likes": ((), ()),
    "links": (("links",), ("links",)),
    "mailinglists": (("mailinglists",), ("mailinglists",)),
    "mailingrecipients": (("messages",), ("messages",)),
    "mailservers": ((), ()),
    "messagereads": (("messages",), ("messages",)),
    "messages": (("messages",), ("messages",)),
    "notes": (("notes",), ("notes",)),
    "objects": ((), ()),
    "opportunities": (("opportunities",), ("opportunities",)),
    "participants": (("mailinglists", "campaigns"), ("mailinglists", "campaigns")),
    "payments": (("payments",), ("payments",)),
    "permissions": (("admin",), ()),
    "pricelists": (("pricelists",), ("pricelists",)),
    "pricelists2accounts": (("pricelists", "accounts"), ("pricelists", "accounts")),
    "prices": (("inventory", "pricelists"), ("inventory", "pricelists")),
    "projects": (("projects",), ("projects",)),
    "records": ((), ()),
    "relateditems": (("inventory",), ("inventory",)),
    "resources": (("dev",), ()),
    "services": (("dev",), ()),
    "stocktransactions": (("inventory",), ("inventory",)),
    "storages": (("inventory",), ("inventory",)),
    "suppliers": (("inventory", "accounts"), ("inventory", "accounts")),
    "tasks": (("tasks",), ("tasks",)),
    "tickets": (("tickets",), ("tickets",)),
    "transactions": (
        ("billing", "procurement", "production"),
        ("billing", "procurement", "production"),
    ),
    "users": ((), ()),
    "weblets": (("dev",), ()),
}

# §6.5: which transaction types each permission governs (read filter and write check).
TRANSACTION_TYPE_PERMS: dict[str, tuple[int, ...]] = {
    "billing": (0, 1, 2, 3, 4),
    "procurement": (5, 6, 7, 8, 9),
    "production": (10, 11),
}

# §3.1 "depends on" / §6.4: parent references whose visibility a row inherits.
DEPENDS: dict[str, tuple[tuple[str, ...], str]] = {
    "addresses": (("account",), "and"),
    "applicationassets": (("application",), "and"),
    "comments": (("record",), "and"),
    "components": (("item",), "and"),
    "contacts2contacts": (("contact1", "contact2"), "and"),
    "couponcodes": (("coupon",), "and"),
    "dunning2transactions": (("dunning", "transaction"), "and"),
    "entities2channels": (("channel",), "and"),
    "files": (("record", "comment"), "or"),
    "groups2users": (("group", "user"), "or"),
    "invitations": (("appointment",), "and"),
    "likes": (("record",), "and"),
    "mailingrecipients": (("message",), "and"),
    "messagereads": (("message",), "and"),
    "participants": (("mailinglist", "campaign"), "or"),
    "permissions": (("group",), "and"),
    "pricelists2accounts": (("pricelist", "account"), "and"),
    "prices": (("item", "pricelist"), "and"),
    "relateditems": (("item",), "and"),
    "stocktransactions": (("item",), "and"),
    "suppliers": (("item", "account"), "and"),
}

# §6.6: writes require the caller to be the row's creator.
CREATOR_BOUND = frozenset({"comments", "follows", "likes", "messagereads", "records"})

# -- §3.6 cross-field groups -----------------------------------------------------------------
EXCLUSIVE: dict[str, tuple[tuple[str, ...], ...]] = {
    "actionsteps": (("task", "ticket", "account"),),
    "messages": (("ticket", "opportunity"),),
    "payments": (("transaction", "account"),),
    "tasks": (("ticket", "project"),),
    "tickets": (("account", "project"),),
    # The vendor database also keeps the synchronisation recipient to one user or one group.
    "davservers": (("recipientuser", "recipientgroup"),),
    "feedservers": (("recipientuser", "recipientgroup"),),
    "mailservers": (("recipientuser", "recipientgroup"),),
}
EXACTLY_ONE: dict[str, tuple[tuple[str, ...], ...]] = {
    "devices": (("serialnum", "chargenum"),),
    "files": (("record", "comment"),),
    "participants": (("mailinglist", "campaign"),),
    "permissions": (("fork", "application", "identifier"),),
}

# §3.6: columns a create must supply, for every entity that can be created.
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("currency",),
    "actionsteps": ("name",),
    "addresses": ("account", "contact"),
    "appointments": ("name", "datefrom", "dateto"),
    "associations": ("entity1", "entity2", "index1", "index2"),
    "campaigns": ("name",),
    "categories": ("entity", "name"),
    "channels": ("name",),
    "comments": ("record",),
    "components": ("item", "component"),
    "contacts": (),
    "contacts2contacts": ("contact1", "contact2"),
    "contracts": ("name", "currency"),
    "couponcodes": ("coupon", "code"),
    "coupons": ("name",),
    "davservers": ("name", "url"),
    "devices": ("item",),
    "documents": ("name",),
    "dunning": ("dunningnum",),
    "dunning2transactions": ("dunning", "transaction"),
    "entities2channels": ("entity", "index", "channel"),
    "events": ("entity", "index", "name", "datefrom", "dateto"),
    "feedservers": ("name", "url"),
    "files": (),
    "follows": ("entity", "index"),
    "invitations": ("appointment", "name"),
    "items": ("name",),
    "ledgers": ("name",),
    "likes": ("record",),
    "links": ("name",),
    "mailinglists": ("name",),
    "mailingrecipients": ("message", "email"),
    "mailservers": ("name",),
    "messagereads": ("message",),
    "messages": (),
    "notes": ("name",),
    "objects": ("name", "entity"),
    "opportunities": ("name",),
    "participants": ("name",),
    "payments": ("amount",),
    "pricelists": ("name", "currency"),
    "pricelists2accounts": ("pricelist", "account"),
    "prices": ("item", "pricelist"),
    "projects": ("name",),
    "records": (),
    "relateditems": ("item", "relateditem"),
    "stocktransactions": ("item", "amount"),
    "storages": ("name",),
    "suppliers": ("item", "account"),
    "tasks": ("name",),
    "tickets": ("name",),
    "transactions": ("transactionnum", "currency"),
}

# §3.6: the database makes the campaign start NOT NULL while the API calls it optional; it
# defaults to the time of the write instead of being required.
DEFAULTS: dict[tuple[str, str], Any] = {
    ("campaigns", "datefrom"): Default.NOW,
}

# -- §3.3 / §3.4 enums -----------------------------------------------------------------------


def _upto(last: int) -> tuple[int, ...]:
    return tuple(range(last + 1))


FLAG = _upto(1)
STATE = _upto(2)  # visibility and activity: 0..2 wherever the column exists

ENUMS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("accounts", "type"): _upto(5),
    ("actionsteps", "status"): _upto(3),
    ("addresses", "type"): _upto(6),
    ("addresses", "default"): FLAG,
    ("appointments", "recurrence"): _upto(4),
    ("campaigns", "status"): _upto(9),
    ("contacts", "type"): FLAG,
    ("contracts", "status"): _upto(8),
    ("contracts", "calculation"): _upto(4),
    ("tickets", "calculation"): _upto(4),
    ("transactions", "calculation"): _upto(4),
    ("couponcodes", "flag"): _upto(2),
    ("stocktransactions", "flag"): _upto(2),
    ("coupons", "type"): FLAG,
    ("customfields", "source"): _upto(2),
    ("customfields", "type"): (
        "",
        "checked",
        "count",
        "country",
        "currency",
        "date",
        "datepretty",
        "datetime",
        "datetimepretty",
        "duration",
        "email",
        "entity",
        "filetype",
        "isset",
        "list",
        "money",
        "num",
        "password",
        "percent",
        "price",
        "pricebilling",
        "priceprocurement",
        "priceproduction",
        "priority",
        "progress",
        "rate",
        "size",
        "tel",
        "text",
        "timing",
        "unit",
        "url",
        "weight",
    ),
    ("davservers", "type"): _upto(2),
    ("documents", "status"): _upto(5),
    ("notes", "status"): _upto(5),
    ("dunning", "type"): _upto(2),
    ("dunning", "status"): _upto(3),
    ("forks", "module"): (
        "accounts",
        "actionsteps",
        "billing",
        "calendar",
        "campaigns",
        "collection",
        "contacts",
        "contracts",
        "coupons",
        "devices",
        "documents",
        "inventory",
        "links",
        "mailinglists",
        "messages",
        "notes",
        "opportunities",
        "payments",
        "pricelists",
        "procurement",
        "production",
        "projects",
        "tasks",
        "tickets",
    ),
    ("invitations", "flag"): _upto(2),
    ("items", "type"): _upto(7),
    ("items", "forcestock"): FLAG,
    ("items", "applicability"): _upto(3),
    ("messages", "mailbox"): _upto(7),
    ("opportunities", "status"): _upto(6),
    ("opportunities", "priority"): _upto(4),
    ("tasks", "priority"): _upto(4),
    ("tickets", "priority"): _upto(4),
    ("payments", "status"): _upto(3),
    ("pricelists", "type"): _upto(5),
    ("projects", "status"): _upto(11),
    ("records", "flag"): _upto(4),
    ("services", "type"): _upto(7),
    ("tasks", "status"): _upto(11),
    ("tickets", "status"): _upto(11),
    ("transactions", "type"): _upto(11),
    ("transactions", "status"): _upto(23),
    ("weblets", "type"): _upto(7),
    # 0/1 flags
    ("accounts", "locked"): FLAG,
    ("accounts", "excludetax"): FLAG,
    ("applications", "restricted"): FLAG,
    ("components", "fixed"): FLAG,
    ("coupons", "neutral"): FLAG,
    ("customfields", "indexed"): FLAG,
    ("documents", "public"): FLAG,
    ("feedservers", "notify"): FLAG,
    ("groups2users", "writable"): FLAG,
    ("messages", "verified"): FLAG,
    ("payments", "autoadvance"): FLAG,
    ("permissions", "writable"): FLAG,
    ("pricelists", "applytoall"): FLAG,
    ("resources", "public"): FLAG,
    ("users", "nopublic"): FLAG,
    ("users", "apionly"): FLAG,
}

# §3.5: contracts and tickets carry a calculation method the database reference lacks.
CALCULATION = Field("calculation", Kind.SMALLINT, default=0, choices=_upto(4))
CALCULATION_ENTITIES = ("contracts", "tickets")

# -- §3.2 / §4.7 search ----------------------------------------------------------------------
# Added after the vendor's trigram-indexed columns: stocktransactions.serials has a plain GIN
# index (§3.2), the rest are the guide's choices for entities without a vendor search index.
EXTRA_SEARCH: dict[str, tuple[str, ...]] = {
    "stocktransactions": ("serials",),
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

# §8.2: served by officina core's own tables (shared by every face).
CORE_TABLES = ("users", "groups", "groups2users", "permissions", "applications")


# -- applying --------------------------------------------------------------------------------


def _rebuild(entity: Entity, **changes: Any) -> Entity:
    """``replace`` that never carries the column-lookup cache over to the new entity."""
    extra = {k: v for k, v in entity.extra.items() if not k.startswith("_")}
    extra.update(changes.pop("extra", {}))
    return replace(entity, extra=extra, **changes)


def _columns(entity: Entity, names: tuple[str, ...]) -> tuple[str, ...]:
    missing = [n for n in names if entity.field(n) is None]
    if missing:
        raise LookupError(f"overrides: {entity.name} has no column {', '.join(missing)}")
    return names


def _set_field(entity: Entity, name: str, **changes: Any) -> Entity:
    _columns(entity, (name,))
    fields = tuple(replace(f, **changes) if f.name == name else f for f in entity.fields)
    return _rebuild(entity, fields=fields)


def _hide_and_expose(entity: Entity) -> Entity:
    hidden = HIDDEN.get(entity.name, frozenset())
    exposed = EXPOSED_HIDDEN.get(entity.name, ())
    fields = tuple(f for f in entity.fields if f.name not in hidden)
    fields += tuple(f for f in exposed if f.name not in {g.name for g in fields})
    return _rebuild(entity, fields=fields)


def _with_calculation(entity: Entity) -> Entity:
    if entity.field(CALCULATION.name) is None:
        return _rebuild(entity, fields=(*entity.fields, CALCULATION))
    return _set_field(
        entity,
        CALCULATION.name,
        kind=CALCULATION.kind,
        nullable=False,
        default=CALCULATION.default,
        required=False,
        choices=CALCULATION.choices,
    )


def _required(entity: Entity) -> Entity:
    names = set(_columns(entity, REQUIRED[entity.name]))
    fields = tuple(
        f if f.required == (f.name in names) else replace(f, required=f.name in names)
        for f in entity.fields
    )
    return _rebuild(entity, fields=fields)


def _search(entity: Entity) -> Entity:
    extra = tuple(
        c for c in _columns(entity, EXTRA_SEARCH[entity.name]) if c not in entity.searchable
    )
    fields = tuple(replace(f, indexed=True) if f.name in extra else f for f in entity.fields)
    return _rebuild(entity, fields=fields, searchable=entity.searchable + extra)


def apply(catalog: dict[str, Entity]) -> dict[str, Entity]:
    """The catalogue with every decision of this module applied (the input is not changed)."""
    named = {*DEPENDS, *EXCLUSIVE, *EXACTLY_ONE, *EXTRA_SEARCH, *REQUIRED, *HIDDEN}
    named |= {*CREATOR_BOUND, *CORE_TABLES, *CALCULATION_ENTITIES, *(e for e, _ in ENUMS)}
    unknown = (named - set(catalog)) | (set(ACCESS) ^ set(catalog))
    if unknown:
        raise LookupError(f"overrides: entities out of step with the catalogue: {unknown}")
    out: dict[str, Entity] = {}
    for name, entity in catalog.items():
        entity = _hide_and_expose(entity)
        if name in CALCULATION_ENTITIES:
            entity = _with_calculation(entity)
        for (owner, column), choices in ENUMS.items():
            if owner == name:
                entity = _set_field(entity, column, choices=choices)
        for column in ("visibility", "activity"):
            if entity.field(column) is not None:
                entity = _set_field(entity, column, choices=STATE)
        for (owner, column), default in DEFAULTS.items():
            if owner == name:
                entity = _set_field(entity, column, default=default, required=False)
        if Op.CREATE in entity.ops:
            if name not in REQUIRED:
                raise LookupError(f"overrides: no required-field decision for {name}")
            entity = _required(entity)
        read, write = ACCESS[name]
        changes: dict[str, Any] = {
            "read_perms": read,
            "write_perms": write,
            "write_needs_writable": True,
            "creator_bound": name in CREATOR_BOUND,
            "core_table": name in CORE_TABLES,
        }
        if name in DEPENDS:
            parents, mode = DEPENDS[name]
            changes["depends_on"] = _columns(entity, parents)
            changes["depends_mode"] = mode
        if name in EXCLUSIVE:
            changes["exclusive"] = tuple(_columns(entity, g) for g in EXCLUSIVE[name])
        if name in EXACTLY_ONE:
            changes["exactly_one"] = tuple(_columns(entity, g) for g in EXACTLY_ONE[name])
        if name == "transactions":
            changes["extra"] = {"type_perms": TRANSACTION_TYPE_PERMS}
        entity = _rebuild(entity, **changes)
        if name in EXTRA_SEARCH:
            entity = _search(entity)
        out[name] = entity
    return out
