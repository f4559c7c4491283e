"""Routes of users. A Goana user is a core user (the same person every face knows); what only
this face knows (display name, phone, billing flag, assignability, avatar) lives in a profile.

Users created here get their e-mail as core user name, so the name stays unique however many
people share a display name. Deleting deactivates: the person keeps their history in jobs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import languages, people
from officina.core.clock import now
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_row, update_where
from officina.core.passwords import hash_password
from officina.core.schema import groups, groups2users, users
from officina.core.sessions import end_credentials
from officina.goana import changelog, team_refs
from officina.goana.context import ROLE_PREFIX, ROLES, Ctx
from officina.goana.paging import PAGING, page_headers, page_of, total_of
from officina.goana.problems import Errors, Problem
from officina.goana.routing import Call, Param, Route, claim_version, json_response, tagged
from officina.goana.tables import user_profile
from officina.goana.wire import Field, Shape, b64, format_datetime

MAX_AVATAR = 1024 * 1024
LIMITED = ("Email", "DisplayName", "Teams", "WorkAssignable")

USER = Shape(
    "User",
    (
        Field("Email", "str", 200, required=True, doc="unique e-mail address"),
        Field("DisplayName", "str", 100, required=True, doc="name shown for the user"),
        Field("Password", "str", 100, write_only=True, doc="login password (at least 8)"),
        Field("LanguageCode", "str", 2, doc="the user's language"),
        Field("PhoneNumber", "str", 100, doc="phone number"),
        Field("IsBillingContact", "bool", doc="receives billing information"),
        Field("WorkAssignable", "bool", doc="jobs may be assigned to the user"),
        Field("Roles", "list", item="str", doc="back-office roles"),
        Field("Teams", "list", item="str", doc="team names"),
        Field("UserAvatar", "bytes", doc="avatar image, base64"),
        Field("Created", "datetime", read_only=True),
        Field("Modified", "datetime", read_only=True),
    ),
    doc="A user of the instance.",
)


def _memberships(conn: Connection, ids: list[int]) -> dict[int, list[tuple[str, bool]]]:
    """Each user's active groups as (name, whether the group is a team)."""
    found: dict[int, list[tuple[str, bool]]] = {i: [] for i in ids}
    if ids:
        for row in conn.execute(
            select(groups2users.c.user, groups.c.name, team_refs.is_team_clause().label("team"))
            .join(groups, groups.c.ID == groups2users.c.group)
            .where(groups2users.c.user.in_(ids), groups.c.activity == 0)
            .order_by(groups.c.name_ci)
        ):
            found[row.user].append((row.name, bool(row.team)))
    return found


def _admin_group(conn: Connection) -> int:
    return people.ensure_admin_group(conn)


def _render(conn: Connection, ctx: Ctx, rows: list[Any], avatars: bool) -> list[dict[str, Any]]:
    groups_of = _memberships(conn, [r.ID for r in rows])
    admin_name = people.ADMIN_GROUP
    out = []
    for r in rows:
        names = [name for name, _ in groups_of[r.ID]]
        roles = sorted(
            {
                ROLES.get(n[len(ROLE_PREFIX) :].lower(), "")
                for n in names
                if n.lower().startswith(ROLE_PREFIX)
            }
            - {""}
            | ({"Administrator"} if admin_name in names else set())
        )
        data = {
            "Email": r.email,
            "DisplayName": r.display_name or r.name,
            "LanguageCode": (r.lang or "en")[:2],
            "PhoneNumber": r.phone,
            "IsBillingContact": bool(r.is_billing_contact),
            "WorkAssignable": r.work_assignable is not False,
            "Roles": roles,
            "Teams": [name for name, team in groups_of[r.ID] if team],
            "UserAvatar": b64(r.avatar) if avatars else None,
            "Created": format_datetime(r.creationdate, ctx.tz),
            "Modified": format_datetime(r.lastmodified, ctx.tz),
        }
        if not ctx.can("users.full"):
            data = {k: data[k] for k in LIMITED}
        out.append(data)
    return out


def _select() -> Any:
    return select(
        users.c.ID,
        users.c.email,
        users.c.name,
        users.c.lang,
        users.c.creationdate,
        users.c.lastmodified,
        users.c._rev,
        user_profile.c.display_name,
        user_profile.c.phone,
        user_profile.c.is_billing_contact,
        user_profile.c.work_assignable,
        user_profile.c.avatar,
    ).select_from(users.outerjoin(user_profile, user_profile.c.user == users.c.ID))


def _current(conn: Connection, email: str) -> Any:
    row = conn.execute(
        _select().where(users.c.email_ci == email.strip().lower(), users.c.activity == 0)
    ).first()
    if row is None:
        raise Problem(404, f"no user with the e-mail {email[:200]!r}")
    return row


def _filters(call: Call, conn: Connection) -> list[Any]:
    """The list's conditions; a repeated parameter ORs its values."""
    where: list[Any] = [users.c.activity == 0]
    member_of = select(groups2users.c.user).join(groups, groups.c.ID == groups2users.c.group)
    if teams := call.args("team"):
        ids = [team_refs.find(conn, t) or 0 for t in teams]
        where.append(users.c.ID.in_(member_of.where(groups.c.ID.in_(ids))))
    if roles := call.args("role"):
        names: list[str] = []
        for role in roles:
            canonical = ROLES.get(role.strip().lower())
            if canonical is None:
                known = ", ".join(sorted(set(ROLES.values())))
                raise Problem(400, errors={"role": [f"unknown role {role[:50]!r}; roles: {known}"]})
            if canonical == "Administrator":
                names.append(people.ADMIN_GROUP.lower())
            names += [f"{ROLE_PREFIX}{k}" for k, v in ROLES.items() if v == canonical]
        where.append(users.c.ID.in_(member_of.where(groups.c.name_ci.in_(names))))
    if flags := {f.strip().lower() for f in call.args("workAssignable")}:
        if not flags <= {"true", "false"}:
            raise Problem(400, errors={"workAssignable": ["must be true or false"]})
        if len(flags) == 1:
            assignable = or_(
                user_profile.c.work_assignable.is_(None), user_profile.c.work_assignable.is_(True)
            )
            where.append(
                assignable if flags == {"true"} else user_profile.c.work_assignable.is_(False)
            )
    if emails := call.args("email"):
        where.append(users.c.email_ci.in_([e.strip().lower() for e in emails]))
    if (since := call.when("modifiedSince")) is not None:
        where.append(users.c.lastmodified >= since)
    return where


def list_users(call: Call) -> Response:
    call.ctx.need("users.read")
    page = page_of(call)
    avatars = (call.arg("includeAvatar") or "").strip().lower() == "true"
    with call.ctx.store.read() as conn:
        where = _filters(call, conn)
        query = (
            _select()
            .add_columns(func.count().over().label("total"))
            .where(*where)
            .order_by(users.c.email_ci)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = list(conn.execute(query))

        def count() -> int:
            joined = users.outerjoin(user_profile, user_profile.c.user == users.c.ID)
            return int(
                conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
            )

        total = total_of(rows, page, count)
        body = _render(conn, call.ctx, rows, avatars=avatars)
    return json_response(body, headers=page_headers(call, page, total))


def get_user(call: Call) -> Response:
    call.ctx.need("users.read")
    with call.ctx.store.read() as conn:
        row = _current(conn, call.params["email"])
        return tagged(_render(conn, call.ctx, [row], avatars=True)[0], row._rev, call)


def _parse(call: Call) -> dict[str, Any]:
    reader = call.reader()
    data = reader.object(USER, call.body)
    errors = reader.errors
    if "Password" in data and data["Password"] is not None and len(data["Password"]) < 8:
        errors.add("Password", "must have at least 8 characters")
    if data.get("LanguageCode") and data["LanguageCode"].lower() not in languages.supported(
        call.ctx.settings
    ):
        errors.add("LanguageCode", "is not a language of this instance")
    for i, role in enumerate(data.get("Roles") or []):
        if role is not None and role.lower() not in ROLES:
            errors.add(f"Roles[{i}]", "unknown role")
    if data.get("UserAvatar") is not None and len(data["UserAvatar"]) > MAX_AVATAR:
        errors.add("UserAvatar", f"must be at most {MAX_AVATAR} bytes")
    if "Email" in data and not people.EMAIL.match((data["Email"] or "").strip()):
        errors.add("Email", "must be an e-mail address")
    if "DisplayName" in data and not (data["DisplayName"] or "").strip():
        errors.add("DisplayName", "is required")
    errors.check()
    return data


def _save(conn: Connection, ctx: Ctx, data: dict[str, Any], current: Any | None) -> int:
    errors = Errors()
    ts = now()
    actor = changelog.actor(ctx)
    if current is None:
        if not (data.get("DisplayName") or "").strip():
            errors.add("DisplayName", "is required")
        errors.check()
        email = data["Email"].strip()
        if _name_taken(conn, email, None):
            raise Problem(409, f"the e-mail {email!r} is a user name", {"Email": ["is taken"]})
        user_id = int(
            insert_row(
                conn,
                actor,
                users,
                {
                    "creationdate": ts,
                    "lastmodified": ts,
                    "creator": ctx.user_id,
                    "name": email,
                    "name_ci": email.lower(),
                    "email": email,
                    "email_ci": email.lower(),
                    "uuid": new_uuid(),
                    "password": hash_password(data["Password"]) if data.get("Password") else "",
                    "lang": (data.get("LanguageCode") or ctx.principal.lang or "en").lower(),
                },
            )
        )
        insert_row(conn, actor, user_profile, {"user": user_id})
    else:
        user_id = int(current.ID)
        values: dict[str, Any] = {"lastmodified": ts, "_rev": users.c._rev + 1}
        if data.get("Email") and data["Email"].strip().lower() != current.email.lower():
            new = data["Email"].strip()
            taken = conn.execute(select(users.c.ID).where(users.c.email_ci == new.lower())).first()
            if taken is not None:
                raise Problem(409, f"the e-mail {new!r} is taken", {"Email": ["is taken"]})
            values.update(email=new, email_ci=new.lower())
            # The core name follows an e-mail it copies, unless someone else has that name.
            if current.name.lower() == current.email.lower() and not _name_taken(
                conn, new, user_id
            ):
                values.update(name=new, name_ci=new.lower())
        if data.get("Password"):
            values["password"] = hash_password(data["Password"])
            # A new password ends the user's sessions and sign-in tokens, except the one a
            # user changing their own password came with.
            own = ctx.principal.user_id == user_id
            end_credentials(conn, user_id, ctx.principal.keep() if own else None)
        if data.get("LanguageCode"):
            values["lang"] = data["LanguageCode"].lower()
        update_where(conn, actor, users, users.c.ID == user_id, values)
        if (
            conn.execute(select(user_profile.c.user).where(user_profile.c.user == user_id)).first()
            is None
        ):
            insert_row(conn, actor, user_profile, {"user": user_id})
    profile: dict[str, Any] = {}
    for wire, column in (
        ("DisplayName", "display_name"),
        ("PhoneNumber", "phone"),
        ("UserAvatar", "avatar"),
    ):
        if wire in data:
            profile[column] = data[wire].strip() if wire == "DisplayName" else data[wire]
    if "IsBillingContact" in data:
        profile["is_billing_contact"] = bool(data["IsBillingContact"])
    if "WorkAssignable" in data:
        profile["work_assignable"] = data["WorkAssignable"] is not False
    if profile:
        update_where(conn, actor, user_profile, user_profile.c.user == user_id, profile)
    if "Roles" in data or "Teams" in data:
        _set_groups(conn, ctx, user_id, data, errors)
    errors.check()
    return user_id


def _name_taken(conn: Connection, name: str, other_than: int | None) -> bool:
    query = select(users.c.ID).where(users.c.name_ci == name.lower())
    if other_than is not None:
        query = query.where(users.c.ID != other_than)
    return conn.execute(query).first() is not None


def _set_groups(
    conn: Connection, ctx: Ctx, user_id: int, data: dict[str, Any], errors: Errors
) -> None:
    rows = conn.execute(
        select(groups2users.c.group, groups.c.name, team_refs.is_team_clause().label("team"))
        .join(groups, groups.c.ID == groups2users.c.group)
        .where(groups2users.c.user == user_id)
    ).all()
    current = {r.group: r.name for r in rows}
    teams = {r.group for r in rows if r.team}
    wanted: set[int] = set()
    managed: set[int] = set()
    # Memberships of groups that are neither roles nor teams belong to the other faces and
    # are kept whatever the body says.
    for gid, name in current.items():
        is_role = name.lower().startswith(ROLE_PREFIX) or name == people.ADMIN_GROUP
        if ("Roles" in data and is_role) or ("Teams" in data and gid in teams):
            managed.add(gid)
        else:
            wanted.add(gid)
    if "Roles" in data:
        for role in {ROLES[r.lower()] for r in data["Roles"] or [] if r}:
            if role == "Administrator":
                wanted.add(_admin_group(conn))
                continue
            name = f"{ROLE_PREFIX}{role}"
            row = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.lower())).first()
            wanted.add(
                int(row.ID)
                if row
                else team_refs.create_or_find(conn, name, ctx.user_id, changelog.actor(ctx))
            )
    if "Teams" in data:
        for i, team in enumerate(data["Teams"] or []):
            gid = team_refs.resolve(conn, ctx, team, f"Teams[{i}]", errors)
            if gid is not None:
                wanted.add(gid)
    if errors:
        return
    admin_group = _admin_group(conn)
    if admin_group in current and admin_group not in wanted:
        _keep_an_admin(conn, user_id)
    gone = set(current) - wanted
    actor = changelog.actor(ctx)
    if gone:
        delete_where(
            conn,
            actor,
            groups2users,
            and_(groups2users.c.user == user_id, groups2users.c.group.in_(gone)),
        )
    for gid in sorted(wanted - set(current)):
        people.add_member(conn, gid, user_id, writable=True, actor=actor)


def _keep_an_admin(conn: Connection, leaving: int) -> None:
    others = conn.execute(
        select(func.count())
        .select_from(groups2users.join(users, users.c.ID == groups2users.c.user))
        .where(
            groups2users.c.group == _admin_group(conn),
            groups2users.c.user != leaving,
            users.c.activity == 0,
        )
    ).scalar_one()
    if not others:
        raise Problem(409, "the instance needs at least one active administrator")


def post_user(call: Call) -> Response:
    call.ctx.need("users.write")
    data = _parse(call)
    email = (data.get("Email") or "").strip()
    if not email:
        raise Problem(400, errors={"Email": ["is required"]})
    with call.ctx.store.write() as conn:
        row = conn.execute(_select().where(users.c.email_ci == email.lower())).first()
        if row is not None:
            claim_version(call, conn, users.c._rev, users.c.ID == row.ID, row._rev)
        user_id = _save(conn, call.ctx, data, row)
        if row is not None:
            actor = changelog.actor(call.ctx)
            update_where(conn, actor, users, users.c.ID == user_id, {"activity": 0})
        fresh = conn.execute(_select().where(users.c.ID == user_id)).one()
        body = _render(conn, call.ctx, [fresh], avatars=True)[0]
    if row is None:
        location = f"{call.base}/users/{quote(email, safe='')}"
        return tagged(body, fresh._rev, call, 201, Location=location)
    return tagged(body, fresh._rev, call)


def put_user(call: Call) -> Response:
    call.ctx.need("users.write")
    data = _parse(call)
    with call.ctx.store.write() as conn:
        row = _current(conn, call.params["email"])
        claim_version(call, conn, users.c._rev, users.c.ID == row.ID, row._rev)
        user_id = _save(conn, call.ctx, data, row)
        fresh = conn.execute(_select().where(users.c.ID == user_id)).one()
        return tagged(_render(conn, call.ctx, [fresh], avatars=True)[0], fresh._rev, call)


def delete_user(call: Call) -> Response:
    call.ctx.need("users.write")
    with call.ctx.store.write() as conn:
        row = _current(conn, call.params["email"])
        claim_version(call, conn, users.c._rev, users.c.ID == row.ID, row._rev)
        admin_group = _admin_group(conn)
        is_admin = conn.execute(
            select(groups2users.c.ID).where(
                groups2users.c.user == row.ID, groups2users.c.group == admin_group
            )
        ).first()
        if is_admin is not None:
            _keep_an_admin(conn, row.ID)
        ts = now()
        actor = changelog.actor(call.ctx)
        update_where(
            conn,
            actor,
            users,
            users.c.ID == row.ID,
            {"activity": 1, "lastmodified": ts, "_rev": users.c._rev + 1},
        )
        end_credentials(conn, row.ID, api_keys=True)
    return Response(status_code=204)


def routes() -> list[Route]:
    filters = (
        Param("team", "team name"),
        Param("role", "role name"),
        Param("workAssignable", "true or false", "boolean"),
        Param("email", "e-mail"),
        Param("modifiedSince", "changed at or after"),
        Param("includeAvatar", "include avatars", "boolean"),
        *PAGING,
    )
    return [
        Route(
            "GET",
            "/users",
            list_users,
            "List users",
            returns=USER,
            many=True,
            codes=(200, 400, 401, 403),
            query=filters,
        ),
        Route(
            "GET",
            "/users/{email:path}",
            get_user,
            "One user",
            returns=USER,
            codes=(200, 304, 401, 403, 404),
        ),
        Route(
            "POST",
            "/users",
            post_user,
            "Add a user, or change the one with this e-mail",
            body=USER,
            returns=USER,
            codes=(200, 201, 400, 401, 403, 409, 412, 413, 415),
        ),
        Route(
            "PUT",
            "/users/{email:path}",
            put_user,
            "Change a user",
            body=USER,
            returns=USER,
            codes=(200, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "DELETE",
            "/users/{email:path}",
            delete_user,
            "Deactivate a user",
            codes=(204, 401, 403, 404, 409, 412),
        ),
    ]
