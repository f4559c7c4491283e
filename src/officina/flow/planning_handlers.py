"""Planning dates (PD1 and officina's write routes), responsible users (RU1), role assignments.

Planning dates belong to work packages, sub work packages and tasks; writing one moves the
``lastChanged`` of its node and of every ancestor (their ``dueDate`` may change).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from sqlalchemy import select
from starlette.responses import Response

from officina.core.changes import Actor
from officina.core.clock import now
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_row, insert_rows, update_where
from officina.flow import changelog, enums, responsible, tree
from officina.flow.errors import conflict, invalid, invalid_many, not_found
from officina.flow.http import (
    check_if_match,
    check_path_id,
    created,
    etag_of,
    flag,
    ids_param,
    lock_row,
    no_content,
    ok,
)
from officina.flow.models import PlanningDateCreate, PlanningDatePatch, RoleAssignment
from officina.flow.params import Flag, IdsQuery, NodeId, Reader, Table, Writer
from officina.flow.refs import Errors, check_groups, check_users, role_exists
from officina.flow.tables import ancestry, nodes, planning_dates, role_assignments
from officina.flow.values import UUID_PATTERN, is_uuid, parse_date

PLANNED = frozenset({enums.WORK_PACKAGE, enums.SUB_WORK_PACKAGE, enums.TASK})
PlanningDateId = Annotated[str, Path(pattern=UUID_PATTERN, description="UUID of the planning date")]


def _serialize(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "nodeId": row.node_id,
        "name": row.name,
        "plannedStart": row.planned_start,
        "plannedEnd": row.planned_end,
    }


def get_planning_dates(ctx: Reader, request: Request, ids: IdsQuery = None) -> Response:
    wanted = ids_param(request, required=True) or []
    position = {node: i for i, node in enumerate(wanted)}
    with ctx.store.read() as conn:
        rows = conn.execute(
            select(planning_dates)
            .join(nodes, nodes.c.id == planning_dates.c.node_id)
            .where(planning_dates.c.node_id.in_(wanted), nodes.c.node_type.in_(sorted(PLANNED)))
        ).all()
    rows = sorted(rows, key=lambda r: (position[r.node_id], r.planned_start, r.id))
    return ok([_serialize(r) for r in rows])


def _touch(conn: Any, node_id: str, ts: int, actor: Actor) -> None:
    above = select(ancestry.c.ancestor_id).where(ancestry.c.descendant_id == node_id)
    update_where(conn, actor, nodes, nodes.c.id.in_(above), {"last_changed": ts})


def _check(conn: Any, values: dict[str, Any]) -> None:
    errors: Errors = []
    node = tree.load(conn, values["node_id"])
    if node is None or node.node_type not in PLANNED:
        errors.append(("nodeId", "must be a work package, sub work package or task"))
    start, end = parse_date(values["planned_start"]), parse_date(values["planned_end"])
    if start is not None and end is not None and end < start:
        errors.append(("plannedEnd", "must not be before plannedStart"))
    if errors:
        raise invalid_many(errors)


def _create(ctx: Any, item_id: str, body: PlanningDateCreate) -> Response:
    values = {
        "node_id": body.nodeId,
        "name": body.name or "",
        "planned_start": body.plannedStart,
        "planned_end": body.plannedEnd,
    }
    ts = now()
    with ctx.store.write() as conn:
        _check(conn, values)
        exists = conn.execute(select(planning_dates.c.id).where(planning_dates.c.id == item_id))
        if exists.first() is not None:
            raise conflict("id_exists", f"a planning date with id {item_id} already exists")
        actor = changelog.actor(ctx)
        insert_row(conn, actor, planning_dates, {"id": item_id, **values})
        _touch(conn, body.nodeId, ts, actor)
    return created(item_id, f"/{ctx.instance}/flow/api/v1/planningDates/{item_id}")


def post_planning_date(ctx: Writer, body: PlanningDateCreate) -> Response:
    return _create(ctx, new_uuid(), body)


def put_planning_date(
    ctx: Writer,
    planningDateId: PlanningDateId,
    body: PlanningDateCreate,
) -> Response:
    return _create(ctx, check_path_id(planningDateId, "planningDateId"), body)


def _load(conn: Any, item_id: str) -> Any:
    return conn.execute(select(planning_dates).where(planning_dates.c.id == item_id)).first()


def get_planning_date(ctx: Reader, planningDateId: PlanningDateId) -> Response:
    with ctx.store.read() as conn:
        row = _load(conn, check_path_id(planningDateId, "planningDateId"))
    if row is None:
        raise not_found("planning date")
    found = _serialize(row)
    return ok(found, headers={"ETag": etag_of(found)})


def _stored(conn: Any, request: Request, item_id: str) -> Any:
    conditional = request.headers.get("if-match") is not None
    if conditional:  # racing writers with one ETag: the second one reads the first's result
        lock_row(conn, planning_dates.c.id, item_id)
    row = _load(conn, item_id)
    if row is None:
        raise not_found("planning date")
    if conditional:
        check_if_match(request, _serialize(row))
    return row


def patch_planning_date(
    ctx: Writer,
    request: Request,
    planningDateId: PlanningDateId,
    body: PlanningDatePatch,
) -> Response:
    item_id = check_path_id(planningDateId, "planningDateId")
    with ctx.store.write() as conn:
        row = _stored(conn, request, item_id)
        if body.given("nodeId") and body.nodeId != row.node_id:
            raise invalid("nodeId", "cannot be changed")
        changes = {
            column: getattr(body, prop)
            for prop, column in (
                ("name", "name"),
                ("plannedStart", "planned_start"),
                ("plannedEnd", "planned_end"),
            )
            if body.given(prop)
        }
        merged = {**dict(row._mapping), **changes}
        _check(conn, merged)
        actor = changelog.actor(ctx)
        if changes:
            update_where(conn, actor, planning_dates, planning_dates.c.id == item_id, changes)
        _touch(conn, row.node_id, now(), actor)
    return no_content()


def delete_planning_date(
    ctx: Writer,
    request: Request,
    planningDateId: PlanningDateId,
) -> Response:
    item_id = check_path_id(planningDateId, "planningDateId")
    with ctx.store.write() as conn:
        row = _stored(conn, request, item_id)
        actor = changelog.actor(ctx)
        delete_where(conn, actor, planning_dates, planning_dates.c.id == item_id)
        _touch(conn, row.node_id, now(), actor)
    return no_content()


# -- responsible users (RU1) -----------------------------------------------------------------

FILTERS = ("responsible", "projectManager", "anyProjectRole", "roleId", "roleType")
ROLE_TYPES = {
    "executing": "responsible",
    "projectManager": "projectManager",
    "supporting": "anyProjectRole",
}


def get_responsible_users(
    ctx: Reader,
    request: Request,
    ids: IdsQuery = None,
    responsible_: Annotated[str | None, Query(alias="responsible")] = None,
    projectManager: Flag = None,
    anyProjectRole: Flag = None,
    roleId: Annotated[str | None, Query(description="UUID of a project role")] = None,
    roleType: Annotated[str | None, Query(description="Deprecated")] = None,
) -> Response:
    wanted = ids_param(request, required=True) or []
    q = request.query_params
    on = {name: flag(request, name) for name in ("responsible", "projectManager", "anyProjectRole")}
    role_id = q.get("roleId")
    if role_id is not None and not is_uuid(role_id):
        raise invalid("roleId", "must be 32 upper-case hexadecimal characters")
    role_type = q.get("roleType")
    if role_type is not None:
        if role_type not in ROLE_TYPES:
            raise invalid("roleType", "must be one of projectManager, executing, supporting")
        on[ROLE_TYPES[role_type]] = True
    if not any(name in q for name in FILTERS):
        on["responsible"] = on["anyProjectRole"] = True
    filters = responsible.Filters(
        on["responsible"], on["projectManager"], on["anyProjectRole"], role_id
    )
    with ctx.store.read() as conn:
        return ok(responsible.resolve(conn, wanted, filters))


# -- role assignments (X) --------------------------------------------------------------------


def _assignments(conn: Any, node_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(role_assignments)
        .where(role_assignments.c.node_id == node_id)
        .order_by(role_assignments.c.position)
    )
    return [
        {"roleId": r.role_id, "userId": r.principal_uuid}
        if r.principal_kind == "user"
        else {"roleId": r.role_id, "groupId": r.principal_uuid}
        for r in rows
    ]


def get_role_assignments(ctx: Reader, nodeId: NodeId) -> Response:
    with ctx.store.read() as conn:
        if tree.load(conn, check_path_id(nodeId, "nodeId")) is None:
            raise not_found("node")
        return ok(_assignments(conn, nodeId))


def put_role_assignments(
    ctx: Writer,
    nodeId: NodeId,
    body: list[RoleAssignment],
) -> Response:
    node_id = check_path_id(nodeId, "nodeId")
    errors: Errors = []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    with ctx.store.write() as conn:
        if tree.load(conn, node_id) is None:
            raise not_found("node")
        for i, item in enumerate(body):
            if (item.userId is None) == (item.groupId is None):
                errors.append((f"[{i}]", "needs exactly one of userId, groupId"))
                continue
            if not role_exists(conn, item.roleId):
                errors.append((f"[{i}].roleId", f"unknown project role {item.roleId}"))
            kind, who = ("user", item.userId) if item.userId else ("group", item.groupId)
            assert who is not None
            check = check_users if kind == "user" else check_groups
            errors += [(f"[{i}].{kind}Id", m) for _, m in check(conn, [who], "x")]
            key = (item.roleId, kind, who)
            if key not in seen:
                seen.add(key)
                rows.append(
                    {
                        "node_id": node_id,
                        "role_id": item.roleId,
                        "principal_kind": kind,
                        "principal_uuid": who,
                        "position": len(rows),
                    }
                )
        if errors:
            raise invalid_many(errors)
        actor = changelog.actor(ctx)
        delete_where(conn, actor, role_assignments, role_assignments.c.node_id == node_id)
        insert_rows(conn, actor, role_assignments, rows)
    return no_content()


def routes(t: Table) -> None:
    tag = "Planning dates"
    t.add("GET", "/planningDates", get_planning_dates, "Get planning dates by their node ids", tag)
    t.add("POST", "/planningDates", post_planning_date, "Create a planning date (X)", tag, 201)
    item = "/planningDates/{planningDateId}"
    t.add("GET", item, get_planning_date, "Get a planning date (X)", tag)
    t.add("PUT", item, put_planning_date, "Create a planning date with id (X)", tag, 201)
    t.add("PATCH", item, patch_planning_date, "Patch a planning date (X)", tag, 204)
    t.add("DELETE", item, delete_planning_date, "Delete a planning date (X)", tag, 204)
    t.add(
        "GET",
        "/responsibleUsers",
        get_responsible_users,
        "Get responsible users for multiple nodes",
        "Responsible users",
    )
    t.add(
        "GET",
        "/nodes/{nodeId}/roleAssignments",
        get_role_assignments,
        "Role assignments of a node (X)",
        "Project roles (X)",
    )
    t.add(
        "PUT",
        "/nodes/{nodeId}/roleAssignments",
        put_role_assignments,
        "Replace the role assignments of a node (X)",
        "Project roles (X)",
        204,
    )
