"""Flow customers, which are the records face's accounts seen through Flow's eyes.

Name, customer number and lock live on the ``accounts`` row (``lastname``/``customernum``/
``locked``), so both faces always agree on them; the Flow-only properties live in
``flow_customers`` beside it. Writing an account bumps its ``_rev`` and ``lastmodified`` so
the records face's ETags and sync stay correct.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError
from sqlalchemy import Select, and_, exc, func, insert, select
from sqlalchemy.engine import Connection, Row

from officina.core.changes import Actor
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_row, update_where
from officina.core.people import read_settings
from officina.core.schema import metadata
from officina.core.sqlfuncs import byte_order, lowered
from officina.core.sqljson import decode, json_rows
from officina.core.writes import InUse, declare_use, uses
from officina.flow import settings as flow_settings
from officina.flow.customer_ids import (
    account_of,
    accounts,
    customer_uuid,
    derived_id,
    is_customer,
    is_reserved,
    with_ids,
)
from officina.flow.customer_locations import apply_locations, check_new_locations
from officina.flow.errors import conflict, invalid_many
from officina.flow.models import CustomerPatch
from officina.flow.refs import Errors
from officina.flow.search_idents import customer_name
from officina.flow.tables import (
    billings,
    customer_locations,
    customers,
    nodes,
    price_categories,
    price_surcharges,
)
from officina.flow.values import KV_MAX_VALUE_BYTES, is_uuid, json_size, to_cents

ACCOUNT_CUSTOMER_TYPE = 1

# Flow property → flow_customers column, for properties stored as given.
FLOW_COLUMNS = {
    "defaultBillingType": "default_billing_type",
    "journeyBillingMode": "journey_billing_mode",
    "fileExportLanguage": "file_export_language",
    "isInternal": "is_internal",
    "requiresInternalCharge": "requires_internal_charge",
    "priceCategoryOverrides": "price_category_overrides",
    "priceSurchargeOverrides": "price_surcharge_overrides",
    "showSignatureFieldInPdfTimeSheets": "show_signature_field",
}


# -- reading -----------------------------------------------------------------------------------


def customer_select(dialect: str) -> Select[Any]:
    acc = accounts()
    loc = customer_locations
    return (
        select(
            acc.c.ID.label("account_id"),
            customer_name().label("flow_name"),
            acc.c.customernum,
            acc.c.locked,
            customers,
            json_rows(
                dialect,
                [
                    loc.c.number,
                    loc.c.id,
                    loc.c.name,
                    loc.c.street,
                    loc.c.zip,
                    loc.c.city,
                    loc.c.country,
                ],
                loc.c.account_id == acc.c.ID,
            ).label("locations_json"),
        )
        .select_from(acc.outerjoin(customers, customers.c.account_id == acc.c.ID))
        .where(is_customer())
    )


def order_by(dialect: str) -> list[Any]:
    return [byte_order(lowered(customer_name()), dialect), accounts().c.ID]


def serialize(row: Row[Any], settings: dict[str, Any]) -> dict[str, Any]:
    locations = sorted(decode(row.locations_json), key=lambda x: (x[0], x[1]))
    signature = row.show_signature_field
    return {
        "id": customer_uuid(row.account_id, row.uuid),
        "customerNumber": row.customernum,
        "defaultBillingType": row.default_billing_type,
        "journeyBillingMode": row.journey_billing_mode,
        "fileExportLanguage": row.file_export_language or settings[flow_settings.LANGUAGE],
        "isLocked": bool(row.locked),
        "isInternal": bool(row.is_internal),
        "locations": [
            {
                "id": x[1],
                "number": x[0],
                "name": x[2],
                "street": x[3],
                "zip": x[4],
                "city": x[5],
                "country": x[6],
            }
            for x in locations
        ],
        "name": row.flow_name,
        "requiresInternalCharge": bool(row.requires_internal_charge),
        "priceCategoryOverrides": row.price_category_overrides or {},
        "priceSurchargeOverrides": row.price_surcharge_overrides or {},
        "showSignatureFieldInPdfTimeSheets": bool(
            settings[flow_settings.SIGNATURE] if signature is None else signature
        ),
    }


def fetch(conn: Connection, where: Any = None) -> list[dict[str, Any]]:
    dialect = conn.dialect.name
    stmt = customer_select(dialect).order_by(*order_by(dialect))
    if where is not None:
        stmt = stmt.where(where)
    settings = flow_settings.read(conn)
    return [serialize(row, settings) for row in conn.execute(stmt)]


def fetch_one(conn: Connection, account_id: int) -> dict[str, Any] | None:
    found = fetch(conn, accounts().c.ID == account_id)
    return found[0] if found else None


def fetch_ids(conn: Connection, ids: list[str], visible: Any = None) -> list[dict[str, Any]]:
    """GET by ids: in the order of ``ids``; unknown ids (and, given ``visible``, customers
    outside it) are left out."""
    if not ids:
        return []
    where = with_ids(ids) if visible is None else and_(with_ids(ids), visible)
    found = {c["id"]: c for c in fetch(conn, where)}
    return [found[i] for i in ids if i in found]


# -- validation --------------------------------------------------------------------------------


def _overrides(
    conn: Connection, raw: dict[str, Any], field: str, table: Any, what: str, number_key: str
) -> Errors:
    errors: Errors = []
    keys = [k for k in raw if is_uuid(k)]
    known = (
        {r[0] for r in conn.execute(select(table.c.id).where(table.c.id.in_(keys)))}
        if keys
        else set()
    )
    for key, value in raw.items():
        path = f"{field}.{key}"
        if not is_uuid(key):
            errors.append((path, f"keys must be {what} ids (32 upper-case hex characters)"))
        elif key not in known:
            errors.append((path, f"unknown {what}"))
        elif not isinstance(value, dict):
            errors.append((path, "must be an object"))
        elif json_size(value) > KV_MAX_VALUE_BYTES:
            errors.append((path, f"exceeds {KV_MAX_VALUE_BYTES} bytes"))
        elif number_key in value:
            try:
                to_cents(value[number_key])
            except PydanticCustomError as err:
                errors.append((f"{path}.{number_key}", err.message()))
    return errors


def _body_errors(conn: Connection, body: CustomerPatch) -> Errors:
    errors: Errors = []
    if body.priceCategoryOverrides is not None:
        errors += _overrides(
            conn,
            body.priceCategoryOverrides,
            "priceCategoryOverrides",
            price_categories,
            "price category",
            "hourlyRate",
        )
    if body.priceSurchargeOverrides is not None:
        errors += _overrides(
            conn,
            body.priceSurchargeOverrides,
            "priceSurchargeOverrides",
            price_surcharges,
            "price surcharge",
            "percentage",
        )
    return errors


def _flow_values(body: CustomerPatch) -> dict[str, Any]:
    return {FLOW_COLUMNS[k]: v for k, v in body.sent().items() if k in FLOW_COLUMNS}


# -- writing -----------------------------------------------------------------------------------


def _bump_account(
    conn: Connection, account_id: int, values: dict[str, Any], ts: int, actor: Actor
) -> None:
    acc = accounts()
    update_where(
        conn,
        actor,
        acc,
        acc.c.ID == account_id,
        {**values, "lastmodified": ts, "_rev": acc.c._rev + 1},
    )


def create(
    conn: Connection,
    body: CustomerPatch,
    user_id: int,
    ts: int,
    actor: Actor,
    customer_id: str | None = None,
) -> str:
    errors = _body_errors(conn, body)
    errors += check_new_locations(conn, body.locations or [])
    if customer_id is not None and is_reserved(customer_id):
        errors.append(("customerId", "ids starting with 16 zeros are reserved"))
    if errors:
        raise invalid_many(errors)
    if customer_id is not None and account_of(conn, customer_id) is not None:
        raise conflict("id_exists", f"a customer with id {customer_id} already exists")
    new_id = customer_id or new_uuid()
    settings = flow_settings.read(conn)
    acc = accounts()
    account_id = int(
        insert_row(
            conn,
            actor,
            acc,
            {
                "creator": user_id,
                "creationdate": ts,
                "lastmodified": ts,
                "lastname": str(body.name),
                "firstname": "",
                "type": ACCOUNT_CUSTOMER_TYPE,
                "customernum": body.customerNumber or "",
                "locked": int(bool(body.isLocked)),
                "currency": str(read_settings(conn).get("currency") or "EUR")[:3],
            },
        )
    )
    values = {
        "price_category_overrides": {},
        "price_surcharge_overrides": {},
        "file_export_language": settings[flow_settings.LANGUAGE],
        **_flow_values(body),
    }
    insert_row(conn, actor, customers, {"account_id": account_id, "uuid": new_id, **values})
    apply_locations(conn, account_id, body.locations or [], actor, creating=True)
    return new_id


def _ensure_flow_row(
    conn: Connection, account_id: int, settings: dict[str, Any], actor: Actor
) -> None:
    """An account first touched by Flow gets its Flow row, keeping its derived id."""
    found = conn.execute(
        select(customers.c.account_id).where(customers.c.account_id == account_id)
    ).first()
    if found is None:
        insert_row(
            conn,
            actor,
            customers,
            {
                "account_id": account_id,
                "uuid": derived_id(account_id),
                "price_category_overrides": {},
                "price_surcharge_overrides": {},
                "file_export_language": settings[flow_settings.LANGUAGE],
            },
        )


def patch(conn: Connection, account_id: int, body: CustomerPatch, ts: int, actor: Actor) -> None:
    errors = _body_errors(conn, body)
    if body.given("locations") and body.locations is None:
        errors.append(("locations", "must not be null"))
    if errors:
        raise invalid_many(errors)
    _ensure_flow_row(conn, account_id, flow_settings.read(conn), actor)
    account_values: dict[str, Any] = {}
    if body.given("name"):
        account_values.update(lastname=body.name, firstname="")
    if body.given("customerNumber"):
        account_values["customernum"] = body.customerNumber
    if body.given("isLocked"):
        account_values["locked"] = int(bool(body.isLocked))
    flow_values = _flow_values(body)
    if flow_values:
        condition = customers.c.account_id == account_id
        update_where(conn, actor, customers, condition, flow_values)
    if body.locations is not None:
        apply_locations(conn, account_id, body.locations, actor, creating=False)
    # Every Flow write to the customer is a new version of the account for the records face.
    _bump_account(conn, account_id, account_values, ts, actor)


def _billed(conn: Connection, account_ids: list[Any]) -> int:
    """Billings name their customer by Flow id, not by a key: a use core cannot see itself."""
    stored = dict(
        conn.execute(
            select(customers.c.account_id, customers.c.uuid).where(
                customers.c.account_id.in_(account_ids)
            )
        ).all()
    )
    ids = [customer_uuid(a, stored.get(a)) for a in account_ids]
    return int(
        conn.execute(select(func.count()).where(billings.c.customer_id.in_(ids))).scalar_one()
    )


# Whichever face deletes an account asks the same rule (core.writes.uses).
declare_use("accounts", billings.name, _billed)


def delete_customer(
    conn: Connection, account_id: int, customer_id: str, ts: int, actor: Actor
) -> None:
    held = uses(conn, "accounts", [account_id])
    projects, billed = held.pop(nodes.name, 0), held.pop(billings.name, 0)
    if projects or billed:
        raise conflict(
            "in_use",
            f"cannot delete: {projects} projects and {billed} billings refer to this customer",
        )
    acc = accounts()
    try:
        with conn.begin_nested():
            delete_where(conn, actor, acc, acc.c.ID == account_id)
    except (exc.IntegrityError, InUse) as err:
        raise conflict("in_use", "cannot delete: other records refer to this account") from err
    forget_account(conn, account_id, ts, actor)


# Rows of the shared store that point at an account by (entity name, ID) rather than by a
# foreign key; deleting an account through Flow clears them as a records-face delete does.
_POLYMORPHIC = (
    ("extdata", "entity", "index"),
    ("tagrels", "entity", "index"),
    ("associations", "entity1", "index1"),
    ("associations", "entity2", "index2"),
    ("entities2channels", "entity", "index"),
    ("follows", "entity", "index"),
    ("events", "entity", "index"),
)


def forget_account(conn: Connection, account_id: int, ts: int, actor: Actor) -> None:
    for name, entity_col, index_col in _POLYMORPHIC:
        table = metadata.tables.get(name)
        if table is not None and entity_col in table.c and index_col in table.c:
            linked = and_(table.c[entity_col] == "accounts", table.c[index_col] == account_id)
            delete_where(conn, actor, table, linked)
    tombstones = metadata.tables.get("tombstones")
    if tombstones is not None:
        conn.execute(insert(tombstones).values(entity="accounts", ID=account_id, deleted=ts))
