"""Routes of teams. A team is a core group (the records face's groups), so membership given
here is the same membership every face sees; the groups that carry Goana roles are not teams.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import people
from officina.core.clock import now
from officina.core.logged import delete_where, update_where
from officina.core.schema import groups, groups2users, users
from officina.goana import changelog, team_refs
from officina.goana.context import ROLE_PREFIX
from officina.goana.paging import PAGING, page_headers, page_of, total_of
from officina.goana.problems import Problem
from officina.goana.routing import Call, Route, claim_version, json_response, tagged
from officina.goana.tables import contact, job
from officina.goana.wire import Field, Shape

TEAM = Shape(
    "Team",
    (
        Field("Name", "str", 200, required=True, doc="team name, unique (case-insensitive)"),
        Field("Members", "list", item="str", read_only=True, doc="e-mails of the members"),
    ),
    doc="A team of users; jobs of a team are visible to its members.",
)


def _render(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [r.ID for r in rows]
    members: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for m in conn.execute(
            select(groups2users.c.group, users.c.email)
            .join(users, users.c.ID == groups2users.c.user)
            .where(groups2users.c.group.in_(ids), users.c.activity == 0)
            .order_by(users.c.email_ci)
        ):
            members[m.group].append(m.email)
    return [{"Name": r.name, "Members": members[r.ID]} for r in rows]


def _current(conn: Connection, name: str) -> Any:
    row = conn.execute(
        select(groups).where(groups.c.name_ci == name.strip().lower(), team_refs.is_team_clause())
    ).first()
    if row is None:
        raise Problem(404, f"no team named {name[:200]!r}")
    return row


def list_teams(call: Call) -> Response:
    call.ctx.need("teams.read")
    page = page_of(call)
    query = (
        select(groups.c.ID, groups.c.name, func.count().over().label("total"))
        .where(team_refs.is_team_clause())
        .order_by(groups.c.name_ci)
        .offset(page.offset)
        .limit(page.limit)
    )
    with call.ctx.store.read() as conn:
        rows = list(conn.execute(query))

        def count() -> int:
            query = select(func.count()).select_from(groups).where(team_refs.is_team_clause())
            return int(conn.execute(query).scalar_one())

        total = total_of(rows, page, count)
        body = _render(conn, rows)
    return json_response(body, headers=page_headers(call, page, total))


def get_team(call: Call) -> Response:
    call.ctx.need("teams.read")
    with call.ctx.store.read() as conn:
        row = _current(conn, call.params["name"])
        return tagged(_render(conn, [row])[0], row._rev, call)


def _name(call: Call) -> str:
    reader = call.reader()
    data = reader.object(TEAM, call.body)
    name = (data.get("Name") or "").strip()
    if not name and "Name" not in reader.errors.found:
        reader.errors.add("Name", "is required")
    if name.lower().startswith(ROLE_PREFIX):
        reader.errors.add("Name", f"team names may not start with {ROLE_PREFIX!r}")
    reader.errors.check()
    return name


def post_team(call: Call) -> Response:
    call.ctx.need("teams.write")
    name = _name(call)
    actor = changelog.actor(call.ctx)
    with call.ctx.store.write() as conn:
        found = team_refs.find(conn, name)
        if found is not None:
            row = conn.execute(select(groups).where(groups.c.ID == found)).one()
            claim_version(call, conn, groups.c._rev, groups.c.ID == found, row._rev)
            if row.name != name:
                update_where(
                    conn,
                    actor,
                    groups,
                    groups.c.ID == found,
                    {"name": name, "lastmodified": now(), "_rev": groups.c._rev + 1},
                )
            row = conn.execute(select(groups).where(groups.c.ID == found)).one()
            return tagged(_render(conn, [row])[0], row._rev, call)
        taken = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.lower())).first()
        if taken is not None:
            raise Problem(
                409,
                f"the name {name!r} belongs to a group that is not a team",
                {"Name": ["is taken"]},
            )
        group_id = people.create_group(conn, name, creator=call.ctx.user_id, actor=actor)
        row = conn.execute(select(groups).where(groups.c.ID == group_id)).one()
        body = _render(conn, [row])[0]
    location = f"{call.base}/teams/{quote(name, safe='')}"
    return tagged(body, row._rev, call, 201, Location=location)


def put_team(call: Call) -> Response:
    call.ctx.need("teams.write")
    name = _name(call)
    with call.ctx.store.write() as conn:
        row = _current(conn, call.params["name"])
        claim_version(call, conn, groups.c._rev, groups.c.ID == row.ID, row._rev)
        clash = conn.execute(
            select(groups.c.ID).where(groups.c.name_ci == name.lower(), groups.c.ID != row.ID)
        ).first()
        if clash is not None:
            raise Problem(409, f"a team named {name!r} exists", {"Name": ["is taken"]})
        update_where(
            conn,
            changelog.actor(call.ctx),
            groups,
            groups.c.ID == row.ID,
            {
                "name": name,
                "name_ci": name.lower(),
                "lastmodified": now(),
                "_rev": groups.c._rev + 1,
            },
        )
        row = conn.execute(select(groups).where(groups.c.ID == row.ID)).one()
        return tagged(_render(conn, [row])[0], row._rev, call)


def delete_team(call: Call) -> Response:
    call.ctx.need("teams.write")
    with call.ctx.store.write() as conn:
        row = _current(conn, call.params["name"])
        claim_version(call, conn, groups.c._rev, groups.c.ID == row.ID, row._rev)
        for table, what in ((job, "jobs"), (contact, "contacts")):
            if conn.execute(select(table.c.ID).where(table.c.team == row.ID).limit(1)).first():
                raise Problem(409, f"{what} use this team")
        elsewhere = team_refs.owned_elsewhere(conn, row.ID)
        if elsewhere:
            raise Problem(
                409, f"records of other faces belong to this team: {', '.join(elsewhere)}"
            )
        # The memberships go with the group (foreign key cascade), each with its own entry.
        delete_where(conn, changelog.actor(call.ctx), groups, groups.c.ID == row.ID)
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/teams",
            list_teams,
            "List teams",
            returns=TEAM,
            many=True,
            codes=(200, 400, 401, 403),
            query=PAGING,
        ),
        Route(
            "GET",
            "/teams/{name:path}",
            get_team,
            "One team",
            returns=TEAM,
            codes=(200, 304, 401, 403, 404),
        ),
        Route(
            "POST",
            "/teams",
            post_team,
            "Add a team, or change the one with this name",
            body=TEAM,
            returns=TEAM,
            codes=(200, 201, 400, 401, 403, 409, 412, 413, 415),
        ),
        Route(
            "PUT",
            "/teams/{name:path}",
            put_team,
            "Rename a team",
            body=TEAM,
            returns=TEAM,
            codes=(200, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "DELETE",
            "/teams/{name:path}",
            delete_team,
            "Delete a team nothing uses",
            codes=(204, 401, 403, 404, 409, 412),
        ),
    ]
