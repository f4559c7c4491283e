"""Responsible users and groups of nodes: the input rules, storage and the RU1 resolution.

Only nodes that define their own lists store them; everybody else inherits from the nearest
defining ancestor at read time, so an inherited copy can never be stale. The seed's input
rules ("best always set all three together") are applied literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from officina.core.changes import Actor
from officina.core.clock import now
from officina.core.logged import delete_where, insert_rows
from officina.core.schema import groups, groups2users, users
from officina.flow.body import Body
from officina.flow.refs import Errors, check_groups, check_users
from officina.flow.tables import ancestry, node_responsibles, nodes, project_roles, role_assignments
from officina.flow.values import dedupe, is_uuid


@dataclass(frozen=True)
class Responsible:
    defines: bool
    users: list[str]
    groups: list[str]


INHERIT = Responsible(False, [], [])


def _units(raw: list[Any]) -> tuple[Responsible | None, Errors]:
    """Deprecated task ``assignedUnits``: ``{"unitType","unitId"}`` (or ``type``/``id``)."""
    errors: Errors = []
    found_users: list[str] = []
    found_groups: list[str] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append((f"assignedUnits[{i}]", "must be an object"))
            continue
        kind = item.get("unitType", item.get("type"))
        unit = item.get("unitId", item.get("id"))
        if kind not in ("user", "group"):
            errors.append((f"assignedUnits[{i}].unitType", "must be one of 'user', 'group'"))
        elif not is_uuid(unit):
            errors.append((f"assignedUnits[{i}].unitId", "must be 32 upper-case hex characters"))
        elif kind == "user":
            found_users.append(str(unit))
        else:
            found_groups.append(str(unit))
    if errors:
        return None, errors
    return Responsible(True, dedupe(found_users), dedupe(found_groups)), []


def requested(
    body: Body, creating: bool, current: Responsible | None
) -> tuple[Responsible | None, Errors]:
    """What the body asks for: new own lists, or None for "leave as is"."""
    d, u, g = (
        body.given(n) for n in ("definesOwnResponsible", "responsibleUsers", "responsibleGroups")
    )
    if d or u or g:
        defines = bool(getattr(body, "definesOwnResponsible", None)) if d else True
        if not defines:
            return INHERIT, []
        return Responsible(
            True,
            list(getattr(body, "responsibleUsers", None) or []) if u else [],
            list(getattr(body, "responsibleGroups", None) or []) if g else [],
        ), []
    if body.given("assignedUnits"):
        return _units(list(getattr(body, "assignedUnits", None) or []))
    if body.given("hasExternalAssignee"):
        if getattr(body, "hasExternalAssignee", None):
            return Responsible(True, [], []), []
        nobody = (
            current is not None and current.defines and not current.users and not (current.groups)
        )
        return (INHERIT, []) if nobody or creating else (None, [])
    return (INHERIT, []) if creating else (None, [])


def check(conn: Connection, change: Responsible | None) -> Errors:
    if change is None or not change.defines:
        return []
    return check_users(conn, change.users, "responsibleUsers") + check_groups(
        conn, change.groups, "responsibleGroups"
    )


def own(conn: Connection, node_id: str, defines: bool) -> Responsible:
    """The node's own stored lists."""
    if not defines:
        return INHERIT
    rows = conn.execute(
        select(node_responsibles.c.kind, node_responsibles.c.principal_uuid)
        .where(node_responsibles.c.node_id == node_id)
        .order_by(node_responsibles.c.kind, node_responsibles.c.position)
    ).all()
    return Responsible(
        True,
        [r.principal_uuid for r in rows if r.kind == "user"],
        [r.principal_uuid for r in rows if r.kind == "group"],
    )


def write(conn: Connection, node_id: str, change: Responsible, actor: Actor) -> None:
    delete_where(conn, actor, node_responsibles, node_responsibles.c.node_id == node_id)
    rows = [
        {"node_id": node_id, "kind": "user", "principal_uuid": u, "position": i}
        for i, u in enumerate(change.users)
    ] + [
        {"node_id": node_id, "kind": "group", "principal_uuid": g, "position": i}
        for i, g in enumerate(change.groups)
    ]
    if change.defines and rows:
        insert_rows(conn, actor, node_responsibles, rows)


# -- RU1: users finally responsible for nodes ---------------------------------------------------


def _active_user_clause(t: Any) -> Any:
    """Users who may still sign in: active flag set and not expired."""
    return and_(t.c.activity == 0, or_(t.c.expdate.is_(None), t.c.expdate > now()))


def _group_members(conn: Connection, group_uuids: set[str]) -> dict[str, set[str]]:
    """Active members (user uuids) of each active group."""
    if not group_uuids:
        return {}
    rows = conn.execute(
        select(groups.c.uuid.label("g"), users.c.uuid.label("u"))
        .join(groups2users, groups2users.c.group == groups.c.ID)
        .join(users, users.c.ID == groups2users.c.user)
        .where(
            groups.c.uuid.in_(sorted(group_uuids)),
            groups.c.activity == 0,
            _active_user_clause(users),
        )
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r.g, set()).add(r.u)
    return out


def _active(conn: Connection, user_uuids: set[str]) -> set[str]:
    if not user_uuids:
        return set()
    return {
        r[0]
        for r in conn.execute(
            select(users.c.uuid).where(
                users.c.uuid.in_(sorted(user_uuids)), _active_user_clause(users)
            )
        )
    }


@dataclass(frozen=True)
class Filters:
    responsible: bool
    project_manager: bool
    any_role: bool
    role_id: str | None


def resolve(conn: Connection, ids: list[str], f: Filters) -> dict[str, list[str]]:
    """Node id → sorted uuids of the users selected by the filters (unknown ids → [])."""
    result: dict[str, set[str]] = {i: set() for i in ids}
    if not ids:
        return {}
    raw_users: dict[str, set[str]] = {i: set() for i in ids}
    raw_groups: dict[str, set[str]] = {i: set() for i in ids}
    if f.responsible:
        definer = (
            select(ancestry.c.descendant_id.label("node"), ancestry.c.ancestor_id, ancestry.c.depth)
            .join(nodes, nodes.c.id == ancestry.c.ancestor_id)
            .where(ancestry.c.descendant_id.in_(ids), nodes.c.defines_own_responsible.is_(True))
        )
        nearest: dict[str, tuple[int, str]] = {}
        for r in conn.execute(definer):
            if r.node not in nearest or r.depth < nearest[r.node][0]:
                nearest[r.node] = (r.depth, r.ancestor_id)
        holders = {v[1] for v in nearest.values()}
        lists = (
            conn.execute(
                select(node_responsibles).where(node_responsibles.c.node_id.in_(sorted(holders)))
            ).all()
            if holders
            else []
        )
        for node, (_, holder) in nearest.items():
            for r in lists:
                if r.node_id == holder:
                    (raw_users if r.kind == "user" else raw_groups)[node].add(r.principal_uuid)
    if f.project_manager or f.any_role or f.role_id:
        stmt = (
            select(
                ancestry.c.descendant_id.label("node"),
                role_assignments.c.principal_kind,
                role_assignments.c.principal_uuid,
                role_assignments.c.role_id,
                project_roles.c.is_project_manager,
            )
            .join(role_assignments, role_assignments.c.node_id == ancestry.c.ancestor_id)
            .join(project_roles, project_roles.c.id == role_assignments.c.role_id)
            .where(ancestry.c.descendant_id.in_(ids))
        )
        for a in conn.execute(stmt):
            if (
                f.any_role
                or (f.project_manager and a.is_project_manager)
                or (f.role_id is not None and a.role_id == f.role_id)
            ):
                bucket = raw_users if a.principal_kind == "user" else raw_groups
                bucket[a.node].add(a.principal_uuid)
    members = _group_members(conn, set().union(*raw_groups.values()))
    active = _active(conn, set().union(*raw_users.values()))
    for node in ids:
        result[node] = {u for u in raw_users[node] if u in active}
        for g in raw_groups[node]:
            result[node] |= members.get(g, set())
    return {node: sorted(v) for node, v in result.items()}
