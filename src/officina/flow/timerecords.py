"""Time tracking records: derivation, rounding, locks, effort limits, billed immutability.

Work and billing times are wall-clock values encoded as if they were UTC; they are stored and
returned unchanged, and all arithmetic on them (rounding, dates) is plain UTC arithmetic, which
is the user's local wall clock. Every write validates the record as it would be afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection, Row

from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, update_where
from officina.flow import enums, tree
from officina.flow import settings as flow_settings
from officina.flow.errors import conflict, invalid_many
from officina.flow.models import TimeRecordPatch
from officina.flow.refs import Errors, check_price_category, check_price_surcharge, user_exists
from officina.flow.tables import ancestry, nodes, time_records
from officina.flow.values import from_cents

DAY = 86400
FIELDS = {
    "workTimeStart": "work_time_start",
    "workTimeEnd": "work_time_end",
    "billingStart": "billing_start",
    "billingEnd": "billing_end",
    "message": "message",
    "isJourney": "is_journey",
    "referenceNode": "reference_node_id",
    "workPackage": "work_package_id",
    "priceCategory": "price_category_id",
    "priceSurcharge": "price_surcharge_id",
    "user": "user_uuid",
}
DEFAULTS: dict[str, Any] = {
    "work_time_start": None,
    "work_time_end": None,
    "billing_start": None,
    "billing_end": None,
    "message": "",
    "is_journey": False,
    "reference_node_id": None,
    "work_package_id": None,
    "price_category_id": None,
    "price_surcharge_id": None,
}


def round_start(value: int, minutes: int) -> int:
    """Round down to the step, aligned to the wall-clock day."""
    if minutes == 0:
        return value
    step = minutes * 60
    day = value - value % DAY
    return day + (value - day) // step * step


def round_end(value: int, minutes: int) -> int:
    """Round up to the step, aligned to the wall-clock day (may reach the next midnight)."""
    if minutes == 0:
        return value
    step = minutes * 60
    day = value - value % DAY
    return day + -(-(value - day) // step) * step


def serialize(row: Any) -> dict[str, Any]:
    return {
        "billedOn": row.billed_on,
        "id": row.id,
        "user": row.user_uuid,
        "workTimeStart": row.work_time_start,
        "workTimeEnd": row.work_time_end,
        "billingStart": row.billing_start,
        "billingEnd": row.billing_end,
        "message": row.message,
        "isJourney": bool(row.is_journey),
        "referenceNode": row.reference_node_id,
        "workPackage": row.work_package_id,
        "priceCategory": row.price_category_id,
        "priceSurcharge": row.price_surcharge_id,
    }


def order_by() -> list[Any]:
    return [time_records.c.record_time.asc().nulls_last(), time_records.c.id]


def fetch(conn: Connection, where: Any) -> list[dict[str, Any]]:
    rows = conn.execute(select(time_records).where(where).order_by(*order_by()))
    return [serialize(r) for r in rows]


def fetch_ids(conn: Connection, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    found = {r["id"]: r for r in fetch(conn, time_records.c.id.in_(ids))}
    return [found[i] for i in ids if i in found]


def load(conn: Connection, record_id: str) -> Row[Any] | None:
    return conn.execute(select(time_records).where(time_records.c.id == record_id)).first()


# -- the record after a write --------------------------------------------------------------------


def _given(body: TimeRecordPatch, name: str) -> bool:
    """Present in the request and not null."""
    return body.given(name) and getattr(body, name) is not None


def _billing_times(
    body: TimeRecordPatch, values: dict[str, Any], full: bool, rounding: int
) -> None:
    for billing, work, rounder in (
        ("billingStart", "workTimeStart", round_start),
        ("billingEnd", "workTimeEnd", round_end),
    ):
        column = FIELDS[billing]
        if _given(body, billing):
            values[column] = getattr(body, billing)
        elif _given(body, work):
            values[column] = rounder(getattr(body, work), rounding)
        elif body.given(billing) or full:
            values[column] = None


def _reference(
    conn: Connection, body: TimeRecordPatch, values: dict[str, Any], full: bool, errors: Errors
) -> Row[Any] | None:
    """Apply the referenceNode/workPackage rules; returns the work package row (or None)."""
    if _given(body, "referenceNode"):
        ref = tree.load(conn, str(body.referenceNode))
        if ref is None or ref.node_type not in (enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE):
            errors.append(("referenceNode", "must be a work package or sub work package"))
            return None
        wp_id = ref.id if ref.node_type == enums.WORK_PACKAGE else ref.parent_id
        values["reference_node_id"], values["work_package_id"] = ref.id, wp_id
    elif _given(body, "workPackage"):
        ref = tree.load(conn, str(body.workPackage), enums.WORK_PACKAGE)
        if ref is None:
            errors.append(("workPackage", "must be a work package"))
            return None
        values["reference_node_id"] = values["work_package_id"] = ref.id
    elif body.given("referenceNode") or body.given("workPackage") or full:
        values["reference_node_id"] = values["work_package_id"] = None
    wp_id = values.get("work_package_id")
    return tree.load(conn, wp_id) if wp_id else None


def _check_reference_type(values: dict[str, Any], work_package: Row[Any], errors: Errors) -> None:
    rule = work_package.time_tracking_reference_node_type
    on_package = values["reference_node_id"] == work_package.id
    if rule == "workPackages" and not on_package:
        errors.append(
            (
                "referenceNode",
                f'work package "{work_package.name}" only accepts time on the work package itself',
            )
        )
    if rule == "subWorkPackages" and on_package:
        errors.append(
            (
                "referenceNode",
                f'work package "{work_package.name}" only accepts time on sub work packages',
            )
        )


def _price_category(
    conn: Connection,
    body: TimeRecordPatch,
    values: dict[str, Any],
    stored: Row[Any] | None,
    work_package: Row[Any] | None,
    errors: Errors,
) -> None:
    if work_package is None or not work_package.use_price_category_per_time_tracking:
        values["price_category_id"] = None
        return
    category = body.priceCategory if _given(body, "priceCategory") else None
    if category is None and stored is not None and not body.given("priceCategory"):
        same_ref = stored.reference_node_id == values["reference_node_id"]
        category = stored.price_category_id if same_ref else None
    if category is None and values["reference_node_id"] != work_package.id:
        sub = tree.load(conn, values["reference_node_id"])
        category = sub.default_price_category_id if sub is not None else None
    if category is None:
        category = work_package.price_category_id
    if category is None:
        errors.append(("priceCategory", f'required by work package "{work_package.name}"'))
        return
    current = stored.price_category_id if stored is not None else None
    errors += check_price_category(conn, category, "priceCategory", current)
    values["price_category_id"] = category


def _time_order(values: dict[str, Any], errors: Errors) -> None:
    ws, we = values["work_time_start"], values["work_time_end"]
    bs, be = values["billing_start"], values["billing_end"]
    if we is not None and ws is None:
        errors.append(("workTimeEnd", "requires workTimeStart"))
    elif we is not None and we < ws:
        errors.append(("workTimeEnd", "must not be before workTimeStart"))
    if be is not None and bs is None:
        errors.append(("billingEnd", "requires billingStart"))
    elif be is not None and be < bs:
        errors.append(("billingEnd", "must not be before billingStart"))


@dataclass(frozen=True)
class Outcome:
    values: dict[str, Any]
    work_package: Row[Any] | None


def resulting(
    conn: Connection, body: TimeRecordPatch, stored: Row[Any] | None, full: bool
) -> Outcome:
    """The record as the write would leave it (400 for every invalid part)."""
    settings = flow_settings.read(conn)
    values: dict[str, Any] = dict(DEFAULTS) if full else {c: getattr(stored, c) for c in DEFAULTS}
    if stored is not None:
        values["user_uuid"] = stored.user_uuid
    for prop in ("workTimeStart", "workTimeEnd", "message", "isJourney", "user", "priceSurcharge"):
        if body.given(prop):
            values[FIELDS[prop]] = getattr(body, prop)
    errors: Errors = []
    _billing_times(body, values, full, int(settings[flow_settings.ROUNDING]))
    ref_changed = full or body.given("referenceNode") or body.given("workPackage")
    work_package = _reference(conn, body, values, full, errors)
    if ref_changed and work_package is not None:
        _check_reference_type(values, work_package, errors)
    if body.given("user") and not user_exists(conn, values["user_uuid"]):
        errors.append(("user", f"unknown user {values['user_uuid']}"))
    if body.given("priceSurcharge"):
        current = stored.price_surcharge_id if stored is not None else None
        errors += check_price_surcharge(
            conn, values["price_surcharge_id"], "priceSurcharge", current
        )
    _price_category(conn, body, values, stored, work_package, errors)
    _time_order(values, errors)
    if errors:
        raise invalid_many(errors)
    values["record_time"] = (
        values["work_time_start"]
        if values["work_time_start"] is not None
        else values["billing_start"]
    )
    return Outcome(values, work_package)


# -- state rules -----------------------------------------------------------------------------


def check_not_billed(stored: Row[Any] | None) -> None:
    if stored is not None and stored.billed_on is not None:
        raise conflict("record_billed", "the record is billed and can no longer be changed")


def check_unlocked(conn: Connection, *references: str | None) -> None:
    for ref in references:
        if ref is None:
            continue
        locked = tree.locked_ancestor(conn, ref)
        if locked is not None:
            raise conflict(
                "locked_for_time_tracking",
                f'{locked.node_type} "{locked.name}" is locked for time tracking',
            )


def duration(values: Any) -> int:
    """Seconds the record counts towards efforts: billing span, else work span, else 0."""
    bs, be = _get(values, "billing_start"), _get(values, "billing_end")
    if bs is not None and be is not None:
        return int(be - bs)
    ws, we = _get(values, "work_time_start"), _get(values, "work_time_end")
    if ws is not None and we is not None:
        return int(we - ws)
    return 0


def _get(values: Any, key: str) -> Any:
    return values[key] if isinstance(values, dict) else getattr(values, key)


def _duration_sql() -> Any:
    t = time_records.c
    return case(
        (
            and_(t.billing_start.is_not(None), t.billing_end.is_not(None)),
            t.billing_end - t.billing_start,
        ),
        (
            and_(t.work_time_start.is_not(None), t.work_time_end.is_not(None)),
            t.work_time_end - t.work_time_start,
        ),
        else_=0,
    )


def _hours(seconds: int) -> str:
    value = from_cents(round(seconds / 36))
    return f"{value} h"


def check_max_effort(conn: Connection, stored: Row[Any] | None, values: dict[str, Any]) -> None:
    """409 when the write would push an enforced project/group limit further over."""
    new_ref = values.get("reference_node_id")
    if new_ref is None:
        return
    limits = conn.execute(
        select(nodes.c.id, nodes.c.name, nodes.c.node_type, nodes.c.max_effort_c)
        .join(ancestry, ancestry.c.ancestor_id == nodes.c.id)
        .where(
            ancestry.c.descendant_id == new_ref,
            nodes.c.node_type.in_([enums.PROJECT, enums.GROUP]),
            nodes.c.enforce_max_effort.is_(True),
            nodes.c.max_effort_c.is_not(None),
        )
    ).all()
    if not limits:
        return
    if conn.dialect.name == "postgresql":
        project_id = conn.execute(select(nodes.c.project_id).where(nodes.c.id == new_ref)).scalar()
        conn.execute(select(nodes.c.id).where(nodes.c.id == project_id).with_for_update())
    ids = [n.id for n in limits]
    sums = dict(
        conn.execute(
            select(ancestry.c.ancestor_id, func.sum(_duration_sql()))
            .join(time_records, time_records.c.reference_node_id == ancestry.c.descendant_id)
            .where(ancestry.c.ancestor_id.in_(ids))
            .group_by(ancestry.c.ancestor_id)
        ).all()
    )
    old_inside: set[str] = set()
    if stored is not None and stored.reference_node_id is not None:
        old_inside = {
            r[0]
            for r in conn.execute(
                select(ancestry.c.ancestor_id).where(
                    ancestry.c.descendant_id == stored.reference_node_id,
                    ancestry.c.ancestor_id.in_(ids),
                )
            )
        }
    for node in limits:
        before = int(sums.get(node.id) or 0)
        after = before + duration(values)
        if node.id in old_inside and stored is not None:
            after -= duration(stored)
        if after > node.max_effort_c * 36 and after > before:
            raise conflict(
                "max_effort_exceeded",
                f'maxEffort of {node.node_type} "{node.name}" ({from_cents(node.max_effort_c)} h)'
                f" would be exceeded ({_hours(after)})",
            )


# -- writes ------------------------------------------------------------------------------------


def write(
    conn: Connection,
    record_id: str,
    body: TimeRecordPatch,
    stored: Row[Any] | None,
    full: bool,
    user: str,
    ts: int,
    actor: Actor,
) -> None:
    """Create (``stored`` None), replace (``full``) or patch one record."""
    outcome = resulting(conn, body, stored, full)
    check_not_billed(stored)
    check_unlocked(
        conn,
        outcome.values.get("reference_node_id"),
        stored.reference_node_id if stored is not None else None,
    )
    check_max_effort(conn, stored, outcome.values)
    values = {**outcome.values, "last_changed_on": ts, "last_changed_by": user}
    if stored is None:
        insert_row(conn, actor, time_records, {"id": record_id, "created_on": ts, **values})
    else:
        update_where(conn, actor, time_records, time_records.c.id == record_id, values)


def remove(conn: Connection, stored: Row[Any], actor: Actor) -> None:
    check_not_billed(stored)
    check_unlocked(conn, stored.reference_node_id)
    delete_where(conn, actor, time_records, time_records.c.id == stored.id)
