"""Routes of officina's extensions: lookups, read-only people views and Flow settings.

The seed refers to labels, price categories, price surcharges, project roles, users, user
groups and settings without documenting any route for them; these routes let a client
create everything the seed's objects point at. They follow the face's conventions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path, Request
from sqlalchemy import and_, or_, select
from starlette.responses import Response

from officina.core.clock import now
from officina.core.ids import new_uuid
from officina.core.schema import groups, groups2users, users
from officina.flow import changelog, planning_handlers
from officina.flow import settings as flow_settings
from officina.flow.errors import bad_request, not_found
from officina.flow.http import (
    check_if_match,
    check_path_id,
    created,
    etag_of,
    ids_param,
    lock_row,
    no_content,
    ok,
    signed,
)
from officina.flow.lookups import LOOKUPS, Lookup
from officina.flow.params import REQUIRED, Biller, IdsQuery, Reader, Table, Writer, path_id

UserId = Annotated[str, Path(pattern="^[0-9A-F]{32}$", description="UUID of the user")]
GroupId = Annotated[str, Path(pattern="^[0-9A-F]{32}$", description="UUID of the user group")]


def _lookup_routes(t: Table, lk: Lookup) -> None:
    pid = lk.path[:-1] + "Id" if not lk.path.endswith("ies") else lk.path[:-3] + "yId"
    item = f"/{lk.path}/{{{pid}}}"
    the_id = (pid, path_id(f"UUID of the {lk.noun}"), REQUIRED)
    req = ("request", Request, REQUIRED)
    base = f"/{{instance}}/flow/api/v1/{lk.path}"

    def list_all(ctx: Any, request: Request, ids: Any = None) -> Response:
        wanted = ids_param(request, required=False)
        with ctx.store.read() as conn:
            return ok(lk.fetch(conn, wanted))

    def get(ctx: Any, **kw: Any) -> Response:
        item_id = check_path_id(kw[pid], pid)
        with ctx.store.read() as conn:
            row = lk.load(conn, item_id)
        if row is None:
            raise not_found(lk.noun)
        found = lk.serialize(row)
        return ok(found, headers={"ETag": etag_of(found)})

    def _create(ctx: Any, item_id: str, body: Any) -> Response:
        with ctx.store.write() as conn:
            lk.create(conn, item_id, body, changelog.actor(ctx))
        return created(item_id, base.replace("{instance}", ctx.instance) + f"/{item_id}")

    def post(ctx: Any, body: Any) -> Response:
        return _create(ctx, new_uuid(), body)

    def put(ctx: Any, body: Any, **kw: Any) -> Response:
        return _create(ctx, check_path_id(kw[pid], pid), body)

    def _stored(conn: Any, request: Request, item_id: str) -> Any:
        row = lk.load(conn, item_id)
        if row is None:
            raise not_found(lk.noun)
        if request.headers.get("if-match") is not None:
            lock_row(conn, lk.table.c.id, item_id)
            row = lk.load(conn, item_id)
            if row is None:  # deleted by the writer we waited for
                raise not_found(lk.noun)
            check_if_match(request, lk.serialize(row))
        return row

    def patch(ctx: Any, request: Request, body: Any, **kw: Any) -> Response:
        item_id = check_path_id(kw[pid], pid)
        with ctx.store.write() as conn:
            lk.patch(conn, _stored(conn, request, item_id), body, changelog.actor(ctx))
        return no_content()

    def remove(ctx: Any, request: Request, **kw: Any) -> Response:
        item_id = check_path_id(kw[pid], pid)
        with ctx.store.write() as conn:
            lk.delete(conn, _stored(conn, request, item_id), now(), changelog.actor(ctx))
        return no_content()

    name = lk.path
    t.add(
        "GET",
        f"/{lk.path}",
        signed(list_all, f"list_{name}", [("ctx", Reader, REQUIRED), req, ("ids", IdsQuery, None)]),
        f"List {lk.noun}s",
        lk.tag,
    )
    t.add(
        "POST",
        f"/{lk.path}",
        signed(
            post, f"create_{name}", [("ctx", Writer, REQUIRED), ("body", lk.create_model, REQUIRED)]
        ),
        f"Create a {lk.noun}",
        lk.tag,
        201,
    )
    t.add(
        "GET",
        item,
        signed(get, f"get_{name}", [("ctx", Reader, REQUIRED), the_id]),
        f"Get a {lk.noun}",
        lk.tag,
    )
    t.add(
        "PUT",
        item,
        signed(
            put,
            f"put_{name}",
            [("ctx", Writer, REQUIRED), the_id, ("body", lk.create_model, REQUIRED)],
        ),
        f"Create a {lk.noun} with id",
        lk.tag,
        201,
    )
    t.add(
        "PATCH",
        item,
        signed(
            patch,
            f"patch_{name}",
            [("ctx", Writer, REQUIRED), req, the_id, ("body", lk.patch_model, REQUIRED)],
        ),
        f"Patch a {lk.noun}",
        lk.tag,
        204,
    )
    t.add(
        "DELETE",
        item,
        signed(remove, f"delete_{name}", [("ctx", Writer, REQUIRED), req, the_id]),
        f"Delete a {lk.noun}",
        lk.tag,
        204,
    )


# -- people (read-only views of core users and groups) -----------------------------------------


def _active(t: Any) -> Any:
    return and_(t.c.activity == 0, or_(t.c.expdate.is_(None), t.c.expdate > now()))


def _users(conn: Any, ids: list[str] | None) -> list[dict[str, Any]]:
    stmt = select(users.c.uuid, users.c.name, users.c.email, _active(users).label("active"))
    stmt = stmt.order_by(users.c.name_ci, users.c.uuid)
    if ids is not None:
        stmt = stmt.where(users.c.uuid.in_(ids))
    rows = [
        {"id": r.uuid, "name": r.name, "email": r.email, "isActive": bool(r.active)}
        for r in conn.execute(stmt)
    ]
    if ids is None:
        return rows
    found = {o["id"]: o for o in rows}
    return [found[i] for i in ids if i in found]


def _groups(conn: Any, ids: list[str] | None) -> list[dict[str, Any]]:
    member = users.alias("member")
    stmt = (
        select(groups.c.uuid, groups.c.name, member.c.uuid.label("member"))
        .select_from(
            groups.outerjoin(groups2users, groups2users.c.group == groups.c.ID).outerjoin(
                member, member.c.ID == groups2users.c.user
            )
        )
        .order_by(groups.c.name_ci, groups.c.uuid, member.c.uuid)
    )
    if ids is not None:
        stmt = stmt.where(groups.c.uuid.in_(ids))
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(stmt):
        entry = out.setdefault(r.uuid, {"id": r.uuid, "name": r.name, "memberIds": []})
        if r.member is not None:
            entry["memberIds"].append(r.member)
    if ids is None:
        return list(out.values())
    return [out[i] for i in ids if i in out]


def list_users(ctx: Reader, request: Request, ids: IdsQuery = None) -> Response:
    wanted = ids_param(request, required=False)
    with ctx.store.read() as conn:
        return ok(_users(conn, wanted))


def get_user(ctx: Reader, userId: UserId) -> Response:
    with ctx.store.read() as conn:
        found = _users(conn, [check_path_id(userId, "userId")])
    if not found:
        raise not_found("user")
    return ok(found[0])


def list_user_groups(ctx: Reader, request: Request, ids: IdsQuery = None) -> Response:
    wanted = ids_param(request, required=False)
    with ctx.store.read() as conn:
        return ok(_groups(conn, wanted))


def get_user_group(ctx: Reader, userGroupId: GroupId) -> Response:
    with ctx.store.read() as conn:
        found = _groups(conn, [check_path_id(userGroupId, "userGroupId")])
    if not found:
        raise not_found("user group")
    return ok(found[0])


# -- settings --------------------------------------------------------------------------------


def get_settings(ctx: Reader) -> Response:
    with ctx.store.read() as conn:
        return ok(flow_settings.read(conn))


def patch_settings(
    ctx: Biller, body: Annotated[dict[str, Any], Body(description="Keys to change; null resets")]
) -> Response:
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    with ctx.store.write() as conn:
        flow_settings.patch(conn, body, changelog.actor(ctx))
    return no_content()


def routes(t: Table) -> None:
    for lk in LOOKUPS:
        _lookup_routes(t, lk)
    t.add("GET", "/users", list_users, "List users (X, read-only)", "Users (X)")
    t.add("GET", "/users/{userId}", get_user, "Get a user (X, read-only)", "Users (X)")
    t.add("GET", "/userGroups", list_user_groups, "List user groups (X)", "Users (X)")
    t.add("GET", "/userGroups/{userGroupId}", get_user_group, "Get a user group (X)", "Users (X)")
    t.add("GET", "/settings", get_settings, "Flow settings (X)", "Settings (X)")
    t.add("PATCH", "/settings", patch_settings, "Change Flow settings (X)", "Settings (X)", 204)
    planning_handlers.routes(t)
