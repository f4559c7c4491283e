"""The search ident catalogues: for each resource, ident → value check → SQL expression.

Values are checked before any SQL is built (400 ``invalid_search`` naming the value) and only
ever reach SQL as bound parameters. Text matching is case-insensitive through casefolded
shadow columns (nodes) or the shared ``lowered()`` function (customers, whose names live in
the records face's table).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from officina.core.sqlfuncs import lowered
from officina.flow import enums
from officina.flow.customer_ids import DERIVED, accounts
from officina.flow.errors import invalid_search
from officina.flow.tables import ancestry, billings, customers, nodes, time_records
from officina.flow.values import UUID_MESSAGE, is_uuid

Build = Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Ident:
    """``kind`` says what value the ident takes: none, text, nonempty, uuid, flag, enum, date,
    daterange. ``build`` receives the checked value (already converted)."""

    kind: str
    build_sql: Build
    values: tuple[str, ...] = ()

    def build(self, value: str | None, field: str) -> ColumnElement[bool]:
        return self.build_sql(self.check(value, field))

    def check(self, value: str | None, field: str) -> Any:
        kind = self.kind
        if kind == "none":
            return None
        if kind == "text":
            if value is not None and len(value) > 191:
                raise invalid_search(field, "must be at most 191 characters")
            return value or ""
        if value is None:
            raise invalid_search(field, "is required for this ident")
        if kind == "nonempty":
            return value
        if kind == "uuid":
            if not is_uuid(value):
                raise invalid_search(field, UUID_MESSAGE)
            return value
        if kind == "flag":
            if value not in ("0", "1"):
                raise invalid_search(field, "must be 0 or 1")
            return value == "1"
        if kind == "enum":
            if value not in self.values:
                raise invalid_search(field, f"must be one of {', '.join(self.values)}")
            return value
        if kind == "date":
            return _day_start(value, field, r"20[0-9]{2}-[0-9]{2}-[0-9]{2}")
        if kind == "daterange":
            match = re.fullmatch(
                r"(20[0-9]{2}-[0-9]{2}-[0-9]{2})-(20[0-9]{2}-[0-9]{2}-[0-9]{2})", value
            )
            if not match:
                raise invalid_search(field, "must be YYYY-MM-DD-YYYY-MM-DD (years 20xx)")
            start = _day_start(match.group(1), field, None)
            end = _day_start(match.group(2), field, None)
            if start > end:
                raise invalid_search(field, "the range ends before it starts")
            return (start, end)
        raise AssertionError(kind)


def _day_start(value: str, field: str, pattern: str | None) -> int:
    """Unix seconds of a day's start on the wall-clock-as-UTC scale of time records."""
    if pattern is not None and not re.fullmatch(pattern, value):
        raise invalid_search(field, "must be a date YYYY-MM-DD (years 20xx)")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise invalid_search(field, "must be a real calendar date") from exc
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def contains(column: Any, needle: str) -> ColumnElement[bool]:
    """Case-insensitive *contains* on a casefolded column; LIKE wildcards escaped."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


# -- nodes -------------------------------------------------------------------------------------


def _ancestors_of(value: str) -> ColumnElement[bool]:
    return nodes.c.id.in_(
        select(ancestry.c.ancestor_id).where(
            ancestry.c.descendant_id == value, ancestry.c.depth > 0
        )
    )


def _descendants_of(value: str) -> ColumnElement[bool]:
    return nodes.c.id.in_(
        select(ancestry.c.descendant_id).where(
            ancestry.c.ancestor_id == value, ancestry.c.depth > 0
        )
    )


def _descendant_of(value: str) -> ColumnElement[bool]:
    """The same rows as ``_descendants_of``, asked row by row: cheaper than collecting a
    large subtree first when the other conditions are checked on every row anyway."""
    return exists().where(
        ancestry.c.ancestor_id == value,
        ancestry.c.descendant_id == nodes.c.id,
        ancestry.c.depth > 0,
    )


def row_by_row(catalogue: dict[str, Ident]) -> dict[str, Ident]:
    """``catalogue`` with ``descendantsOf`` asked row by row (see ``search.run_nodes``)."""
    return {**catalogue, "descendantsOf": Ident("uuid", _descendant_of)}


def customer_accounts(customer_id: str, column: Any) -> ColumnElement[bool]:
    """``column`` (an account ID) belongs to the Flow customer ``customer_id``."""
    cond: ColumnElement[bool] = column.in_(
        select(customers.c.account_id).where(customers.c.uuid == customer_id)
    )
    match = DERIVED.match(customer_id)
    if match:
        account = int(match.group(1), 16)
        cond = or_(
            cond,
            and_(column == account, ~exists().where(customers.c.account_id == account)),
        )
    return cond


def _customer_of_project(value: str) -> ColumnElement[bool]:
    project = nodes.alias("search_proj")
    return nodes.c.project_id.in_(
        select(project.c.id).where(customer_accounts(value, project.c.customer_account))
    )


def _wp_status(value: str) -> ColumnElement[bool]:
    offer, approved, locked = nodes.c.is_offer, nodes.c.is_approved_for_billing, nodes.c.is_locked
    if value == "offer":
        return offer.is_(True)
    if value == "closed":
        return and_(offer.is_(False), approved.is_(True))
    if value in ("locked", "notYetOpen"):
        return and_(offer.is_(False), approved.is_(False), locked.is_(True))
    return and_(offer.is_(False), approved.is_(False), locked.is_(False))


COMMON_NODE_IDENTS: dict[str, Ident] = {
    "ancestorsOf": Ident("uuid", _ancestors_of),
    "childrenOf": Ident("uuid", lambda v: nodes.c.parent_id == v),
    "descendantsOf": Ident("uuid", _descendants_of),
    "isArchived": Ident("none", lambda _: nodes.c.is_archived.is_(True)),
    "referenceNumber": Ident("text", lambda v: nodes.c.reference_number_cf == v.casefold()),
    "name": Ident("nonempty", lambda v: contains(nodes.c.name_cf, v.casefold())),
}


def _flag(column: Any) -> Ident:
    return Ident("none", lambda _: column.is_(True))


NODE_IDENTS: dict[str, dict[str, Ident]] = {
    enums.FOLDER: {
        **COMMON_NODE_IDENTS,
        "isRoot": Ident("none", lambda _: nodes.c.root_key.is_not(None)),
    },
    enums.PROJECT: {**COMMON_NODE_IDENTS, "customerId": Ident("uuid", _customer_of_project)},
    enums.GROUP: {**COMMON_NODE_IDENTS, "customerId": Ident("uuid", _customer_of_project)},
    enums.WORK_PACKAGE: {
        **COMMON_NODE_IDENTS,
        "customerId": Ident("uuid", _customer_of_project),
        "isApprovedForBilling": _flag(nodes.c.is_approved_for_billing),
        "isCompleted": _flag(nodes.c.is_completed),
        "isLocked": _flag(nodes.c.is_locked),
        "isOffer": _flag(nodes.c.is_offer),
        "status": Ident("enum", _wp_status, enums.WORK_PACKAGE_STATES),
    },
    enums.SUB_WORK_PACKAGE: dict(COMMON_NODE_IDENTS),
    enums.TASK: {
        **COMMON_NODE_IDENTS,
        "status": Ident("enum", lambda v: nodes.c.task_status == v, enums.TASK_STATES),
    },
}


# -- customers ---------------------------------------------------------------------------------


def customer_name() -> Any:
    """A customer's Flow name: the account's name (first name first when it has one)."""
    acc = accounts()
    return func.trim(acc.c.firstname + " " + acc.c.lastname)


def _customer_idents() -> dict[str, Ident]:
    acc = accounts()
    internal = func.coalesce(customers.c.is_internal, false())
    charged = func.coalesce(customers.c.requires_internal_charge, false())
    return {
        "customerNumber": Ident("nonempty", lambda v: lowered(acc.c.customernum) == v.lower()),
        "isInternal": Ident("flag", lambda v: internal.is_(true()) if v else internal.is_(false())),
        "isLocked": Ident("flag", lambda v: acc.c.locked != 0 if v else acc.c.locked == 0),
        "name": Ident("nonempty", lambda v: contains(lowered(customer_name()), v.lower())),
        "requiresInternalCharge": Ident(
            "flag",
            lambda v: and_(
                internal.is_(true()), charged.is_(true()) if v else charged.is_(false())
            ),
        ),
    }


def customer_idents() -> dict[str, Ident]:
    return _customer_idents()


# -- time tracking records ---------------------------------------------------------------------

DAY = 86400


def _date(start: int) -> ColumnElement[bool]:
    return and_(time_records.c.record_time >= start, time_records.c.record_time < start + DAY)


def _date_range(bounds: tuple[int, int]) -> ColumnElement[bool]:
    start, end = bounds
    return and_(time_records.c.record_time >= start, time_records.c.record_time < end + DAY)


def _below(value: str) -> ColumnElement[bool]:
    target = func.coalesce(time_records.c.reference_node_id, time_records.c.work_package_id)
    return target.in_(select(ancestry.c.descendant_id).where(ancestry.c.ancestor_id == value))


RECORD_IDENTS: dict[str, Ident] = {
    "date": Ident("date", _date),
    "dateRange": Ident("daterange", _date_range),
    "isBilled": Ident("none", lambda _: time_records.c.billed_on.is_not(None)),
    "isJourney": Ident("none", lambda _: time_records.c.is_journey.is_(True)),
    "isOpen": Ident(
        "none",
        lambda _: and_(
            time_records.c.work_time_end.is_(None), time_records.c.billing_end.is_(None)
        ),
    ),
    "rootNodeId": Ident("uuid", _below),
    "userId": Ident("uuid", lambda v: time_records.c.user_uuid == v),
    "workPackageId": Ident("uuid", lambda v: time_records.c.work_package_id == v),
}


# -- billings (officina extension) -------------------------------------------------------------

BILLING_IDENTS: dict[str, Ident] = {
    "projectId": Ident("uuid", lambda v: billings.c.project_id == v),
    "customerId": Ident("uuid", lambda v: billings.c.customer_id == v),
    "erpStatus": Ident("enum", lambda v: billings.c.erp_status == v, enums.ERP_STATES),
}
