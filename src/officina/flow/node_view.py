"""Nodes as Flow clients see them: one statement for any number of nodes of one type.

Derived properties are computed on read, never stored copies: inherited responsibles come from
the nearest defining ancestor, ``flowCustomer`` from the project's current customer,
``dueDate`` from the planning dates below. Keys are emitted in the order of the vendor's
response samples.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection, Row

from officina.core.sqljson import decode, json_rows
from officina.flow import enums
from officina.flow.customer_ids import customer_uuid
from officina.flow.tables import (
    ancestry,
    customers,
    node_labels,
    node_responsibles,
    nodes,
    planning_dates,
)
from officina.flow.values import from_cents

WITH_RESPONSIBLE = frozenset(
    {enums.PROJECT, enums.GROUP, enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE, enums.TASK}
)
WITH_PLANNING = frozenset({enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE, enums.TASK})
WITH_DUE_DATE = frozenset({enums.PROJECT, enums.GROUP})
WITH_CUSTOMER = frozenset({enums.PROJECT, enums.GROUP, enums.WORK_PACKAGE})


def of_type(node_type: str, by_type_index: bool = True) -> Any:
    """Nodes of ``node_type``; with ``by_type_index`` false, written so that SQLite does not
    walk the type's index (a search limited to a small subtree starts from the subtree)."""
    column: Any = nodes.c.node_type if by_type_index else nodes.c.node_type.concat("")
    return column == node_type


def node_select(dialect: str, node_type: str, by_type_index: bool = True) -> Select[Any]:
    """Every column a node of ``node_type`` needs for its JSON, from ``flow_nodes``."""
    cols: list[Any] = [
        nodes,
        json_rows(
            dialect,
            [node_labels.c.position, node_labels.c.label_id],
            node_labels.c.node_id == nodes.c.id,
        ).label("labels_json"),
    ]
    source: Any = nodes
    if node_type in WITH_RESPONSIBLE:
        a2 = ancestry.alias("resp_anc")
        n2 = nodes.alias("resp_node")
        definer = (
            select(a2.c.ancestor_id)
            .join(n2, n2.c.id == a2.c.ancestor_id)
            .where(a2.c.descendant_id == nodes.c.id, n2.c.defines_own_responsible.is_(True))
            .order_by(a2.c.depth)
            .limit(1)
            .correlate(nodes)
            .scalar_subquery()
        )
        r = node_responsibles
        cols.append(
            json_rows(
                dialect, [r.c.kind, r.c.position, r.c.principal_uuid], r.c.node_id == definer
            ).label("responsible_json")
        )
    if node_type in WITH_PLANNING:
        pd = planning_dates
        cols.append(
            json_rows(
                dialect,
                [pd.c.planned_start, pd.c.id, pd.c.name, pd.c.planned_end],
                pd.c.node_id == nodes.c.id,
            ).label("planning_json")
        )
    if node_type in WITH_DUE_DATE:
        a3 = ancestry.alias("due_anc")
        cols.append(
            select(func.max(planning_dates.c.planned_end))
            .join(a3, a3.c.descendant_id == planning_dates.c.node_id)
            .where(a3.c.ancestor_id == nodes.c.id, a3.c.depth > 0)
            .correlate(nodes)
            .scalar_subquery()
            .label("due_date")
        )
    if node_type in WITH_CUSTOMER:
        project = nodes.alias("proj")
        source = source.outerjoin(project, project.c.id == nodes.c.project_id).outerjoin(
            customers, customers.c.account_id == project.c.customer_account
        )
        cols += [
            project.c.customer_account.label("cust_account"),
            customers.c.uuid.label("cust_uuid"),
        ]
    return select(*cols).select_from(source).where(of_type(node_type, by_type_index))


def fetch(
    conn: Connection, node_type: str, where: Any, order_by: list[Any]
) -> list[dict[str, Any]]:
    stmt = node_select(conn.dialect.name, node_type).where(where).order_by(*order_by)
    return [serialize(node_type, row) for row in conn.execute(stmt)]


def fetch_one(conn: Connection, node_type: str, node_id: str) -> dict[str, Any] | None:
    found = fetch(conn, node_type, nodes.c.id == node_id, [])
    return found[0] if found else None


def fetch_ids(conn: Connection, node_type: str, ids: list[str]) -> list[dict[str, Any]]:
    """GET by ids: in the order of ``ids``; unknown ids and other types are left out."""
    if not ids:
        return []
    found = {o["id"]: o for o in fetch(conn, node_type, nodes.c.id.in_(ids), [])}
    return [found[i] for i in ids if i in found]


# -- serialisation -----------------------------------------------------------------------------


def _responsible(row: Row[Any]) -> tuple[list[str], list[str]]:
    items = sorted(decode(row.responsible_json), key=lambda x: (x[0], x[1]))
    users = [x[2] for x in items if x[0] == "user"]
    groups = [x[2] for x in items if x[0] == "group"]
    return users, groups


def _planning(row: Row[Any]) -> list[dict[str, Any]]:
    items = sorted(decode(row.planning_json), key=lambda x: (x[0], x[1]))
    return [
        {"id": x[1], "nodeId": row.id, "name": x[2], "plannedStart": x[0], "plannedEnd": x[3]}
        for x in items
    ]


def _labels(row: Row[Any]) -> list[str]:
    return [x[1] for x in sorted(decode(row.labels_json), key=lambda x: x[0])]


def _basics(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "isArchived": bool(row.is_archived),
        "createdOn": row.created_on,
        "lastChanged": row.last_changed,
        "lastChangedBy": row.last_changed_by,
        "lastChangedOn": row.last_changed_on,
        "parentNodeId": row.parent_id,
    }


def _common_tail(row: Row[Any]) -> dict[str, Any]:
    return {
        "color": row.color,
        "labels": _labels(row),
        "keyValueStore": row.key_value_store or {},
        "referenceNumber": row.reference_number,
    }


def project_status(row: Any) -> str:
    if row.is_archived:
        return "archived"
    if row.is_template:
        return "template"
    if row.is_locked:
        return "locked"
    return "open"


def work_package_status(row: Any) -> str:
    if row.is_offer:
        return "offer"
    if row.is_approved_for_billing:
        return "closed"
    if row.is_locked:
        return "locked"
    return "open"


def _folder(row: Row[Any]) -> dict[str, Any]:
    return {**_basics(row), "nodeType": enums.FOLDER, **_common_tail(row), "name": row.name}


def _responsible_fields(row: Row[Any]) -> dict[str, Any]:
    users, groups = _responsible(row)
    return {
        "definesOwnResponsible": bool(row.defines_own_responsible),
        "responsibleGroups": groups,
        "responsibleUsers": users,
    }


def _customer(row: Row[Any]) -> str | None:
    return customer_uuid(row.cust_account, row.cust_uuid)


def _project(row: Row[Any]) -> dict[str, Any]:
    return {
        **_basics(row),
        "dueDate": row.due_date,
        "nodeType": enums.PROJECT,
        "timeControl": row.time_control,
        **_common_tail(row),
        "description": row.description,
        "name": row.name,
        "flowCustomer": _customer(row),
        "isLocked": bool(row.is_locked),
        "isClosed": bool(row.is_closed),
        "isTemplate": bool(row.is_template),
        "maxEffort": from_cents(row.max_effort_c),
        "enforceMaxEffort": bool(row.enforce_max_effort),
        "showMaxEffortInDays": bool(row.show_max_effort_in_days),
        "maxPrice": from_cents(row.max_price_c),
        "status": project_status(row),
        **_responsible_fields(row),
    }


def _group(row: Row[Any]) -> dict[str, Any]:
    return {
        **_basics(row),
        "flowCustomer": _customer(row),
        "dueDate": row.due_date,
        "nodeType": enums.GROUP,
        "projectId": row.project_id,
        "timeControl": row.time_control,
        **_common_tail(row),
        "description": row.description,
        "name": row.name,
        "enforceMaxEffort": bool(row.enforce_max_effort),
        "groupType": row.group_type,
        "isLocked": bool(row.is_locked),
        "isClosed": bool(row.is_closed),
        "maxEffort": from_cents(row.max_effort_c),
        "maxPrice": from_cents(row.max_price_c),
        "showMaxEffortInDays": bool(row.show_max_effort_in_days),
        "sortOrder": row.sort_order,
        **_responsible_fields(row),
    }


def _work_package(row: Row[Any]) -> dict[str, Any]:
    return {
        **_basics(row),
        "completedBy": row.completed_by,
        "completedOn": row.completed_on,
        "flowCustomer": _customer(row),
        "nodeType": enums.WORK_PACKAGE,
        "planningDates": _planning(row),
        "projectId": row.project_id,
        "timeControl": row.time_control,
        **_responsible_fields(row),
        **_common_tail(row),
        "description": row.description,
        "name": row.name,
        "billingType": row.billing_type,
        "effortFrom": from_cents(row.effort_from_c),
        "effortTo": from_cents(row.effort_to_c),
        "fixedPrice": from_cents(row.fixed_price_c),
        "freeOfChargeReason": row.free_of_charge_reason,
        "isCompleted": bool(row.is_completed),
        "isApprovedForBilling": bool(row.is_approved_for_billing),
        "isLocked": bool(row.is_locked),
        "isClosed": bool(row.is_closed),
        "isOffer": bool(row.is_offer),
        "maxEffort": from_cents(row.max_effort_c),
        "priceCategory": row.price_category_id,
        "roleMaxEfforts": [],
        "sortOrder": row.sort_order,
        "status": work_package_status(row),
        "timeTrackingReferenceNodeType": row.time_tracking_reference_node_type,
        "usePriceCategoryPerTimeTracking": bool(row.use_price_category_per_time_tracking),
    }


def _sub_work_package(row: Row[Any]) -> dict[str, Any]:
    return {
        **_basics(row),
        "completedBy": row.completed_by,
        "completedOn": row.completed_on,
        "nodeType": enums.SUB_WORK_PACKAGE,
        "planningDates": _planning(row),
        "projectId": row.project_id,
        **_responsible_fields(row),
        **_common_tail(row),
        "name": row.name,
        "description": row.description,
        "isCompleted": bool(row.is_completed),
        "isLocked": bool(row.is_locked),
        "maxEffort": from_cents(row.max_effort_c),
        "defaultPriceCategory": row.default_price_category_id,
        "sortOrder": row.sort_order,
    }


def _task(row: Row[Any]) -> dict[str, Any]:
    users, groups = _responsible(row)
    defines = bool(row.defines_own_responsible)
    units = [{"unitType": "user", "unitId": u} for u in users]
    units += [{"unitType": "group", "unitId": g} for g in groups]
    return {
        **_basics(row),
        "completedBy": row.completed_by,
        "completedOn": row.completed_on,
        "nodeType": enums.TASK,
        "planningDates": _planning(row),
        **_common_tail(row),
        "assignedUnits": units,
        "description": row.description,
        "hasExternalAssignee": defines and not users and not groups,
        "name": row.name,
        "plannedTime": from_cents(row.planned_time_c),
        "sortOrder": row.sort_order,
        "status": row.task_status,
        "definesOwnResponsible": defines,
        "responsibleGroups": groups,
        "responsibleUsers": users,
    }


SERIALIZERS = {
    enums.FOLDER: _folder,
    enums.PROJECT: _project,
    enums.GROUP: _group,
    enums.WORK_PACKAGE: _work_package,
    enums.SUB_WORK_PACKAGE: _sub_work_package,
    enums.TASK: _task,
}


def serialize(node_type: str, row: Row[Any]) -> dict[str, Any]:
    return SERIALIZERS[node_type](row)
