"""Creating and patching nodes of all six types, in one transaction each.

Order of checks (the face's rule): body shape (done by the models) → references (400, all
reported together) → state (409) → write. Deprecated properties are applied only when they
differ from what the node currently shows and no current property in the same request says
otherwise, so sending a GET body back changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Row

from officina.core.auth import Principal
from officina.core.changes import Actor
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_row, insert_rows, update_where
from officina.flow import customer_access, enums, responsible, tree
from officina.flow.body import Body
from officina.flow.customer_ids import accounts
from officina.flow.errors import conflict, invalid, invalid_many
from officina.flow.node_view import project_status, work_package_status
from officina.flow.refs import Errors, check_labels, check_price_category
from officina.flow.tables import node_labels, nodes, time_records
from officina.flow.values import (
    KV_MAX_PROPERTIES,
    check_time_control,
    merge_top_level,
)

# Wire property → column, for properties stored as given.
COLUMNS = {
    "color": "color",
    "description": "description",
    "isLocked": "is_locked",
    "isClosed": "is_closed",
    "isTemplate": "is_template",
    "maxEffort": "max_effort_c",
    "enforceMaxEffort": "enforce_max_effort",
    "showMaxEffortInDays": "show_max_effort_in_days",
    "maxPrice": "max_price_c",
    "groupType": "group_type",
    "billingType": "billing_type",
    "effortFrom": "effort_from_c",
    "effortTo": "effort_to_c",
    "fixedPrice": "fixed_price_c",
    "freeOfChargeReason": "free_of_charge_reason",
    "isCompleted": "is_completed",
    "isApprovedForBilling": "is_approved_for_billing",
    "isOffer": "is_offer",
    "timeTrackingReferenceNodeType": "time_tracking_reference_node_type",
    "usePriceCategoryPerTimeTracking": "use_price_category_per_time_tracking",
    "plannedTime": "planned_time_c",
    "sortOrder": "sort_order",
    "priceCategory": "price_category_id",
    "defaultPriceCategory": "default_price_category_id",
}

CREATE_DEFAULTS: dict[str, dict[str, Any]] = {
    enums.GROUP: {"group_type": "group"},
    enums.WORK_PACKAGE: {
        "billing_type": "effort",
        "free_of_charge_reason": "service",
        "time_tracking_reference_node_type": "any",
    },
    enums.TASK: {"task_status": "open"},
}

SORTABLE = frozenset(tree.SIBLING_SETS)
WITH_RESPONSIBLE = frozenset(
    {enums.PROJECT, enums.GROUP, enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE, enums.TASK}
)

# Deprecated work package status → (isOffer, isApprovedForBilling, isLocked).
WP_STATUS_FLAGS = {
    "offer": (True, False, False),
    "notYetOpen": (False, False, True),
    "open": (False, False, False),
    "locked": (False, False, True),
    "closed": (False, True, True),
}


class Current:
    """Attribute access over a node's column values (stored, or about to be stored)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def _columns(body: Body) -> dict[str, Any]:
    return {COLUMNS[k]: v for k, v in body.sent().items() if k in COLUMNS}


def _reference_errors(conn: Connection, body: Body, row: Row[Any] | None) -> Errors:
    errors: Errors = []
    if body.given("labels"):
        errors += check_labels(conn, list(getattr(body, "labels", None) or []))
    for prop, column in (
        ("priceCategory", "price_category_id"),
        ("defaultPriceCategory", "default_price_category_id"),
    ):
        if body.given(prop):
            current = getattr(row, column) if row is not None else None
            errors += check_price_category(conn, getattr(body, prop), prop, current)
    return errors


def _customer(conn: Connection, body: Body, errors: Errors, principal: Principal) -> int | None:
    """The account behind ``flowCustomer`` (or None after recording a 400); a customer the
    caller may not see is unknown to them."""
    customer_id = getattr(body, "flowCustomer", None)
    if customer_id is None:
        return None
    account = customer_access.visible_account(conn, customer_id, principal)
    if account is None:
        errors.append(("flowCustomer", f"unknown customer {customer_id}"))
    return account


def _ensure_unlocked(conn: Connection, account: int) -> None:
    acc = accounts()
    locked = conn.execute(select(acc.c.locked).where(acc.c.ID == account)).scalar()
    if locked:
        raise conflict("customer_locked", "flowCustomer: the customer is locked for new projects")


def _merged_rules(node_type: str, merged: Current) -> Errors:
    """Cross-field rules on the node as it would be after the write."""
    errors: Errors = []
    if node_type == enums.WORK_PACKAGE:
        low, high = merged.effort_from_c, merged.effort_to_c
        if low is not None and high is not None and low > high:
            errors.append(("effortFrom", "must not be greater than effortTo"))
        if merged.use_price_category_per_time_tracking and (
            merged.billing_type not in enums.HOURLY_BILLABLE
        ):
            errors.append(
                (
                    "usePriceCategoryPerTimeTracking",
                    "is only allowed for hourly billable billing types",
                )
            )
    return errors


def _time_control(body: Body, stored: dict[str, Any] | None, errors: Errors) -> Any:
    raw = getattr(body, "timeControl", None)
    if raw is None:
        return None
    merged = merge_top_level(stored, raw)
    if len(merged) > KV_MAX_PROPERTIES:
        errors.append(("timeControl", f"at most {KV_MAX_PROPERTIES} properties"))
    problem = check_time_control(merged)
    if problem:
        errors.append((f"timeControl.{problem.split(':')[0]}", problem.split(": ", 1)[1]))
    return merged


def _key_values(body: Body, stored: dict[str, Any] | None, errors: Errors) -> dict[str, Any]:
    merged = merge_top_level(stored, getattr(body, "keyValueStore", None) or {})
    if len(merged) > KV_MAX_PROPERTIES:
        errors.append(("keyValueStore", f"at most {KV_MAX_PROPERTIES} properties"))
    return merged


def _apply_project_status(body: Body, values: dict[str, Any], now_state: Current) -> bool | None:
    """Deprecated project ``status``; returns the archive state it asks for (None: keep)."""
    status = getattr(body, "status", None)
    if status is None or status == project_status(now_state):
        return None
    if status == "archived":
        return True
    if not body.given("isLocked"):
        values["is_locked"] = status == "locked"
    if not body.given("isTemplate"):
        values["is_template"] = status == "template"
    return False


def _apply_work_package_status(body: Body, values: dict[str, Any], now_state: Current) -> None:
    status = getattr(body, "status", None)
    if status is None or status == work_package_status(now_state):
        return
    offer, approved, locked = WP_STATUS_FLAGS[status]
    for prop, column, value in (
        ("isOffer", "is_offer", offer),
        ("isApprovedForBilling", "is_approved_for_billing", approved),
        ("isLocked", "is_locked", locked),
    ):
        if not body.given(prop):
            values[column] = value


def _completion(node_type: str, values: dict[str, Any], before: Any, user: str, ts: int) -> None:
    if node_type == enums.TASK:
        done_now = values.get("task_status", getattr(before, "task_status", None)) == "complete"
        done_before = getattr(before, "task_status", None) == "complete"
    elif node_type in (enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE):
        done_now = bool(values.get("is_completed", getattr(before, "is_completed", False)))
        done_before = bool(getattr(before, "is_completed", False))
    else:
        return
    if done_now and not done_before:
        values["completed_by"], values["completed_on"] = user, ts
    elif done_before and not done_now:
        values["completed_by"], values["completed_on"] = None, None


def _write_labels(conn: Connection, node_id: str, ids: list[str], actor: Actor) -> None:
    delete_where(conn, actor, node_labels, node_labels.c.node_id == node_id)
    insert_rows(
        conn,
        actor,
        node_labels,
        [{"node_id": node_id, "label_id": lid, "position": i} for i, lid in enumerate(ids)],
    )


def _siblings_given(body: Body) -> list[str] | None:
    return getattr(body, "sortedSiblingIds", None) if body.given("sortedSiblingIds") else None


def create(
    conn: Connection,
    node_type: str,
    body: Body,
    user: str,
    ts: int,
    node_id: str | None = None,
    *,
    principal: Principal,
    actor: Actor,
) -> str:
    errors: Errors = []
    if node_type in (enums.FOLDER, enums.PROJECT) and getattr(body, "parentNodeId", None) is None:
        parent_id = tree.ensure_root(conn, ts, actor)
    else:
        parent_id = str(getattr(body, "parentNodeId", ""))
    allowed, words = tree.PARENTS[node_type]
    parent = tree.load(conn, parent_id)
    if parent is None or parent.node_type not in allowed:
        errors.append(("parentNodeId", words))
    errors += _reference_errors(conn, body, None)
    account = _customer(conn, body, errors, principal) if node_type == enums.PROJECT else None
    change, resp_errors = responsible.requested(body, True, None)
    errors += resp_errors + responsible.check(conn, change)
    given_order = _siblings_given(body)
    if given_order is not None and parent is not None and not errors:
        errors += tree.check_sorted_siblings(conn, node_type, parent_id, node_id, given_order)
    values: dict[str, Any] = {
        "is_locked": False,
        "is_template": False,
        "is_offer": False,
        "is_approved_for_billing": False,
        "is_completed": False,
        "enforce_max_effort": True,
        "effort_from_c": None,
        "effort_to_c": None,
        "use_price_category_per_time_tracking": False,
        "task_status": None,
        "billing_type": None,
    }
    values.update(CREATE_DEFAULTS.get(node_type, {}))
    values.update(_columns(body))
    values["key_value_store"] = _key_values(body, None, errors)
    values["time_control"] = _time_control(body, None, errors)
    errors += _merged_rules(node_type, Current(values))
    if errors:
        raise invalid_many(errors)
    assert parent is not None
    new_id = node_id or new_uuid()
    if node_id is not None and tree.exists_any_node(conn, node_id):
        raise conflict("id_exists", f"a node with id {node_id} already exists")
    if account is not None:
        _ensure_unlocked(conn, account)

    archived = bool(parent.is_archived)
    if node_type == enums.PROJECT:
        wants = _apply_project_status(body, values, Current({**values, "is_archived": archived}))
        archived = archived if wants is None else wants
    elif node_type == enums.TASK and body.given("status"):
        values["task_status"] = getattr(body, "status", None)
    elif node_type == enums.WORK_PACKAGE:
        _apply_work_package_status(body, values, Current(values))
    _completion(node_type, values, None, user, ts)
    if node_type in SORTABLE and "sort_order" not in values:
        values["sort_order"] = tree.next_sort_order(conn, node_type, parent_id)
    name = str(getattr(body, "name", ""))
    ref = str(getattr(body, "referenceNumber", None) or "")
    insert_row(
        conn,
        actor,
        nodes,
        dict(
            id=new_id,
            node_type=node_type,
            parent_id=parent_id,
            project_id=new_id if node_type == enums.PROJECT else parent.project_id,
            name=name,
            name_cf=name.casefold(),
            reference_number=ref,
            reference_number_cf=ref.casefold(),
            customer_account=account,
            is_archived=archived,
            defines_own_responsible=bool(change and change.defines),
            created_on=ts,
            last_changed=ts,
            last_changed_on=ts,
            last_changed_by=user,
            **values,
        ),
    )
    tree.add_ancestry(conn, new_id, parent_id, actor)
    _write_labels(conn, new_id, list(getattr(body, "labels", None) or []), actor)
    if change is not None and change.defines:
        responsible.write(conn, new_id, change, actor)
    if given_order is not None:
        sort_order = getattr(body, "sortOrder", None)
        tree.apply_sorted_siblings(
            conn, node_type, parent_id, new_id, given_order, sort_order, ts, actor
        )
    return new_id


def patch(
    conn: Connection,
    node_type: str,
    row: Row[Any],
    body: Body,
    user: str,
    ts: int,
    *,
    principal: Principal,
    actor: Actor,
) -> None:
    if body.given("parentNodeId") and getattr(body, "parentNodeId", None) != row.parent_id:
        raise invalid("parentNodeId", "parentNodeId cannot be changed")
    errors = _reference_errors(conn, body, row)
    account = None
    if node_type == enums.PROJECT and body.given("flowCustomer"):
        account = _customer(conn, body, errors, principal)
    current_resp = responsible.own(conn, row.id, bool(row.defines_own_responsible))
    change, resp_errors = responsible.requested(body, False, current_resp)
    if node_type not in WITH_RESPONSIBLE:
        change = None
    errors += resp_errors + responsible.check(conn, change)
    given_order = _siblings_given(body) if node_type in SORTABLE else None
    if given_order is not None and not errors:
        errors += tree.check_sorted_siblings(conn, node_type, row.parent_id, row.id, given_order)
    values = _columns(body)
    if body.given("keyValueStore"):
        values["key_value_store"] = _key_values(body, row.key_value_store, errors)
    if body.given("timeControl"):
        values["time_control"] = _time_control(body, row.time_control, errors)
    stored = dict(row._mapping)
    errors += _merged_rules(node_type, Current({**stored, **values}))
    if errors:
        raise invalid_many(errors)
    if account is not None and account != row.customer_account:
        _ensure_unlocked(conn, account)

    archive: bool | None = None
    if node_type == enums.PROJECT:
        archive = _apply_project_status(body, values, Current(stored))
    elif node_type == enums.WORK_PACKAGE:
        _apply_work_package_status(body, values, Current(stored))
    if node_type == enums.TASK and body.given("status"):
        values["task_status"] = getattr(body, "status", None)
    _completion(node_type, values, row, user, ts)
    if body.given("name"):
        name = str(getattr(body, "name", ""))
        values["name"], values["name_cf"] = name, name.casefold()
    if body.given("referenceNumber"):
        ref = str(getattr(body, "referenceNumber", ""))
        values["reference_number"], values["reference_number_cf"] = ref, ref.casefold()
    if account is not None:
        values["customer_account"] = account
    if change is not None:
        values["defines_own_responsible"] = change.defines
    update_where(
        conn,
        actor,
        nodes,
        nodes.c.id == row.id,
        {**values, "last_changed": ts, "last_changed_on": ts, "last_changed_by": user},
    )
    if body.given("labels"):
        _write_labels(conn, row.id, list(getattr(body, "labels", None) or []), actor)
    if change is not None:
        responsible.write(conn, row.id, change, actor)
    if change is not None or (account is not None and account != row.customer_account):
        tree.bump_descendants(conn, row.id, ts, actor)
    if archive is not None:
        node = tree.require(tree.load(conn, row.id), "node")
        tree.set_archived(conn, node, archive, user, ts, actor)
    if node_type == enums.WORK_PACKAGE and "use_price_category_per_time_tracking" in values:
        _switch_price_category(conn, row, values, actor)
    if given_order is not None:
        tree.apply_sorted_siblings(
            conn, node_type, row.parent_id, row.id, given_order, values.get("sort_order"), ts, actor
        )


def _switch_price_category(
    conn: Connection, row: Row[Any], values: dict[str, Any], actor: Actor
) -> None:
    """Turning the per-record price category on or off rewrites the unbilled records."""
    now_on = bool(values["use_price_category_per_time_tracking"])
    if now_on == bool(row.use_price_category_per_time_tracking):
        return
    category = values.get("price_category_id", row.price_category_id) if now_on else None
    update_where(
        conn,
        actor,
        time_records,
        and_(time_records.c.work_package_id == row.id, time_records.c.billed_on.is_(None)),
        {"price_category_id": category},
    )
