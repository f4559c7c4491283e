"""The jobs face changes only teams, and a team delete never takes records-face rows with it.

A group that grants a permission is a role of the other faces, not a team: the jobs face
answers as if it did not exist. A team whose group owns records-face rows cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from officina.core import people
from officina.core.schema import groups, groups2users
from tests.conftest import Env, unique
from tests.goana.fixtures import address
from tests.goana.helpers import BASE, client, person, problem_fields
from tests.zeyos.helpers import API as RECORDS
from tests.zeyos.helpers import account


def _sales(env: Env) -> tuple[int, str]:
    """A records-face group granting the accounts module, with one member."""
    name = unique("Sales")
    with env.store.write() as conn:
        gid = people.create_group(conn, name)
        people.grant(conn, gid, "accounts", writable=True)
    return gid, name


def _problem(response: Any, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {k: body[k] for k in ("status", "title", "detail")} == {
        "status": status,
        "title": {404: "Not Found", 409: "Conflict"}[status],
        "detail": detail,
    }


def _group_count(env: Env, gid: int) -> tuple[int, int]:
    with env.store.read() as conn:
        found = conn.execute(select(func.count()).where(groups.c.ID == gid)).scalar_one()
        members = conn.execute(select(func.count()).where(groups2users.c.group == gid)).scalar_one()
    return int(found), int(members)


def test_a_group_with_grants_is_no_team(env: Env) -> None:
    gid, name = _sales(env)
    member, _ = person(env, teams=(name,))
    _, base = person(env, roles=("BaseData",))
    writer = client(env, base)
    owned = account(env.client(env.admin_headers), lastname="Owned", ownergroup=gid)
    _problem(writer.get(f"{BASE}/teams/{name}"), 404, f"no team named {name!r}")
    _problem(writer.delete(f"{BASE}/teams/{name}"), 404, f"no team named {name!r}")
    _problem(writer.put(f"{BASE}/teams/{name}", json={"Name": "x"}), 404, f"no team named {name!r}")
    renamed = writer.post(f"{BASE}/teams", json={"Name": name.upper()})
    _problem(renamed, 409, f"the name {name.upper()!r} belongs to a group that is not a team")
    listed = [t["Name"] for t in writer.get(f"{BASE}/teams", params={"pageSize": 1000}).json()]
    assert name not in listed
    assert _group_count(env, gid) == (1, 1)
    with env.store.read() as conn:
        assert conn.execute(select(groups.c.name).where(groups.c.ID == gid)).scalar() == name
    admin = env.client(env.admin_headers)
    assert admin.get(f"{RECORDS}/accounts/{owned['ID']}").status_code == 200
    # Nor does it show among a user's teams, or count as one when a job names it.
    _, admin_headers = person(env, roles=("Administrator",))
    assert client(env, admin_headers).get(f"{BASE}/users/{member}").json()["Teams"] == []
    writer.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    _, jobs = person(env, roles=("Jobs",))
    refused = client(env, jobs).post(f"{BASE}/jobs", json={"JobTemplateTitle": "T", "Team": name})
    assert refused.status_code == 400 and problem_fields(refused) == {"Team"}


def test_setting_a_users_teams_keeps_other_groups(env: Env) -> None:
    gid, name = _sales(env)
    team = unique("Crew")
    member, _ = person(env, teams=(name, team))
    _, admin_headers = person(env, roles=("Administrator",))
    c = client(env, admin_headers)
    assert c.get(f"{BASE}/users/{member}").json()["Teams"] == [team]
    r = c.put(f"{BASE}/users/{member}", json={"Email": member, "DisplayName": "M", "Teams": []})
    assert r.status_code == 200, r.text
    assert r.json()["Teams"] == []
    assert _group_count(env, gid) == (1, 1)


def test_team_owning_records_face_rows_is_not_deleted(env: Env) -> None:
    _, base = person(env, roles=("BaseData",))
    writer = client(env, base)
    team = unique("Crew")
    assert writer.post(f"{BASE}/teams", json={"Name": team}).status_code == 201
    with env.store.read() as conn:
        gid = int(conn.execute(select(groups.c.ID).where(groups.c.name == team)).scalar_one())
    admin = env.client(env.admin_headers)
    owned = account(admin, lastname="Owned", ownergroup=gid)
    _problem(
        writer.delete(f"{BASE}/teams/{team}"),
        409,
        "records of other faces belong to this team: accounts",
    )
    assert admin.get(f"{RECORDS}/accounts/{owned['ID']}").json()["ownergroup"] == gid
    assert writer.get(f"{BASE}/teams/{team}").status_code == 200
    # Once the account is given to nobody, the team can go.
    assert admin.delete(f"{RECORDS}/accounts/{owned['ID']}").status_code in (200, 204)
    assert writer.delete(f"{BASE}/teams/{team}").status_code == 204
    assert _group_count(env, gid) == (0, 0)


def test_jobs_face_rows_are_named_first(env: Env) -> None:
    _, base = person(env, roles=("BaseData", "Contacts"))
    writer = client(env, base)
    team = unique("Crew")
    r = writer.post(
        f"{BASE}/contacts",
        json={"Reference": unique("R"), "Name": "N", "Team": team, "Location": address()},
    )
    assert r.status_code == 201, r.text
    _problem(writer.delete(f"{BASE}/teams/{team}"), 409, "contacts use this team")
