"""Billings: the creation transaction, cancellation, and how billings are shown.

Creating a billing attaches the given work packages below the project and marks their
finished, not yet billed time records as billed — within the interval when one is given.
A record is billed at most once; billed records are immutable until the billing is cancelled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection, Row

from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, insert_rows, update_where
from officina.flow import enums, tree
from officina.flow import settings as flow_settings
from officina.flow.billing_sums import billed_by, sums_for
from officina.flow.customer_ids import customer_uuid
from officina.flow.errors import conflict, invalid_many
from officina.flow.models import BillingCreate, BillingPatch
from officina.flow.refs import Errors
from officina.flow.tables import billing_work_packages, billings, customers, nodes, time_records
from officina.flow.values import dedupe, from_cents, parse_date, to_cents

DAY = 86400


def _day_start(value: str) -> int:
    day = dt.date.fromisoformat(value)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _interval(body: BillingCreate, errors: Errors) -> str | None:
    start, end = body.intervalFrom, body.intervalTo
    if (start is None) != (end is None):
        missing = "intervalTo" if end is None else "intervalFrom"
        errors.append((missing, "intervalFrom and intervalTo must be given together"))
        return body.interval
    if start is None:
        if body.interval is not None:
            errors.append(("interval", "requires intervalFrom and intervalTo"))
        return None
    assert end is not None
    first, last = parse_date(start), parse_date(end)
    if first is not None and last is not None and first > last:
        errors.append(("intervalTo", "must not be before intervalFrom"))
    return body.interval or "custom"


def create(
    conn: Connection, body: BillingCreate, billing_id: str, user: str, ts: int, actor: Actor
) -> None:
    errors: Errors = []
    project = tree.load(conn, body.projectId, enums.PROJECT)
    if project is None:
        errors.append(("projectId", f"unknown project {body.projectId}"))
    interval = _interval(body, errors)
    if errors:
        raise invalid_many(errors)
    assert project is not None
    if conn.execute(select(billings.c.id).where(billings.c.id == billing_id)).first():
        raise conflict("id_exists", f"a billing with id {billing_id} already exists")
    settings = flow_settings.read(conn)
    customer = None
    if project.customer_account is not None:
        customer = conn.execute(
            select(customers.c.uuid, customers.c.journey_billing_mode).where(
                customers.c.account_id == project.customer_account
            )
        ).first()
    mode = (customer.journey_billing_mode if customer is not None else None) or settings[
        flow_settings.JOURNEY_MODE
    ]
    insert_row(
        conn,
        actor,
        billings,
        dict(
            id=billing_id,
            created_on=ts,
            created_by=user,
            project_id=project.id,
            customer_id=customer_uuid(
                project.customer_account, customer.uuid if customer is not None else None
            ),
            journey_billing_mode=mode,
            flat_rate_journey_price_c=to_cents(settings[flow_settings.JOURNEY_PRICE]),
            interval=interval,
            interval_from=body.intervalFrom,
            interval_to=body.intervalTo,
            internal_comment=body.internalComment or "",
            public_note=body.publicNote or "",
        ),
    )
    wanted = dedupe(body.workPackageIds)
    below = (
        {
            r[0]
            for r in conn.execute(
                select(nodes.c.id).where(
                    nodes.c.id.in_(wanted),
                    nodes.c.node_type == enums.WORK_PACKAGE,
                    nodes.c.project_id == project.id,
                )
            )
        }
        if wanted
        else set()
    )
    attached = [w for w in wanted if w in below]
    if attached:
        billed_before = {
            r[0]
            for r in conn.execute(
                select(billing_work_packages.c.work_package_id).where(
                    billing_work_packages.c.work_package_id.in_(attached),
                    billing_work_packages.c.charges_fixed_price.is_(True),
                )
            )
        }
        insert_rows(
            conn,
            actor,
            billing_work_packages,
            [
                {
                    "billing_id": billing_id,
                    "work_package_id": w,
                    "position": i,
                    "charges_fixed_price": w not in billed_before,
                }
                for i, w in enumerate(attached)
            ],
        )
    candidates = [
        time_records.c.work_package_id.in_(attached),
        time_records.c.billed_on.is_(None),
        or_(time_records.c.work_time_end.is_not(None), time_records.c.billing_end.is_not(None)),
    ]
    if body.intervalFrom is not None and body.intervalTo is not None:
        candidates += [
            time_records.c.record_time >= _day_start(body.intervalFrom),
            time_records.c.record_time < _day_start(body.intervalTo) + DAY,
        ]
    if attached:
        update_where(
            conn,
            actor,
            time_records,
            and_(*candidates),
            {"billing_id": billing_id, "billed_on": ts},
        )


def patch(conn: Connection, row: Row[Any], body: BillingPatch, actor: Actor) -> None:
    columns = {
        "internalComment": "internal_comment",
        "publicNote": "public_note",
        "erpStatus": "erp_status",
        "erpReference": "erp_reference",
        "erpMessage": "erp_message",
    }
    values = {columns[k]: v for k, v in body.sent().items() if k in columns}
    if values:
        update_where(conn, actor, billings, billings.c.id == row.id, values)


def cancel(conn: Connection, row: Row[Any], actor: Actor) -> None:
    """Detach everything and delete the billing; its records become editable again."""
    if row.erp_status == "transferred":
        raise conflict("in_use", "the billing was transferred to the ERP and cannot be cancelled")
    update_where(
        conn, actor, time_records, billed_by([row.id]), {"billing_id": None, "billed_on": None}
    )
    charged = [
        r[0]
        for r in conn.execute(
            select(billing_work_packages.c.work_package_id).where(
                billing_work_packages.c.billing_id == row.id,
                billing_work_packages.c.charges_fixed_price.is_(True),
            )
        )
    ]
    delete_where(conn, actor, billings, billings.c.id == row.id)
    for package in charged:
        _pass_fixed_price_on(conn, package, actor)


def _pass_fixed_price_on(conn: Connection, package: str, actor: Actor) -> None:
    """The package's fixed price moves to its earliest remaining billing, if any."""
    link = conn.execute(
        select(billing_work_packages.c.billing_id)
        .join(billings, billings.c.id == billing_work_packages.c.billing_id)
        .where(billing_work_packages.c.work_package_id == package)
        .order_by(billings.c.created_on, billings.c.id)
        .limit(1)
    ).first()
    if link is not None:
        update_where(
            conn,
            actor,
            billing_work_packages,
            and_(
                billing_work_packages.c.billing_id == link.billing_id,
                billing_work_packages.c.work_package_id == package,
            ),
            {"charges_fixed_price": True},
        )


def load(conn: Connection, billing_id: str) -> Row[Any] | None:
    return conn.execute(select(billings).where(billings.c.id == billing_id)).first()


# -- reading -----------------------------------------------------------------------------------


def _lists(conn: Connection, ids: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    records: dict[str, list[str]] = {i: [] for i in ids}
    for r in conn.execute(
        select(time_records.c.billing_id, time_records.c.id)
        .where(billed_by(ids))
        .order_by(time_records.c.record_time.asc().nulls_last(), time_records.c.id)
    ):
        records[r.billing_id].append(r.id)
    packages: dict[str, list[str]] = {i: [] for i in ids}
    for r in conn.execute(
        select(billing_work_packages.c.billing_id, billing_work_packages.c.work_package_id)
        .where(billing_work_packages.c.billing_id.in_(ids))
        .order_by(billing_work_packages.c.position)
    ):
        packages[r.billing_id].append(r.work_package_id)
    return records, packages


def serialize(
    conn: Connection,
    rows: list[Row[Any]],
    with_sums: bool,
    with_records: bool,
    with_packages: bool,
) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    records, packages = _lists(conn, ids) if (with_records or with_packages) else ({}, {})
    sums = sums_for(conn, rows) if with_sums else {}
    out = []
    for row in rows:
        item: dict[str, Any] = {
            "id": row.id,
            "createdOn": row.created_on,
            "createdBy": row.created_by,
            "projectId": row.project_id,
            "customerId": row.customer_id,
            "journeyBillingMode": row.journey_billing_mode,
            "flatRateJourneyPrice": from_cents(row.flat_rate_journey_price_c),
        }
        if with_sums:
            item["sums"] = sums[row.id]
        if with_records:
            item["timeRecordIds"] = records[row.id]
        if with_packages:
            item["workPackageIds"] = packages[row.id]
        item.update(
            {
                "interval": row.interval,
                "intervalFrom": row.interval_from,
                "intervalTo": row.interval_to,
                "internalComment": row.internal_comment,
                "publicNote": row.public_note,
                "erpStatus": row.erp_status,
                "erpReference": row.erp_reference,
                "erpMessage": row.erp_message,
            }
        )
        out.append(item)
    return out


def fetch(conn: Connection, where: Any) -> list[Row[Any]]:
    return list(
        conn.execute(select(billings).where(where).order_by(billings.c.created_on, billings.c.id))
    )
