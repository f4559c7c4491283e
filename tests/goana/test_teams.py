"""Teams of the jobs face over HTTP: core groups that carry no role."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import update

from officina.core.schema import groups
from tests.conftest import Env, unique
from tests.goana.fixtures import address
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def test_add_change_and_get(env: Env) -> None:
    c = admin(env)
    name = unique("Road Crew/")
    r = c.post(f"{BASE}/teams", json={"name": name, "Members": ["x@example.com"], "Size": 3})
    assert r.status_code == 201, r.text
    assert r.json() == {"Name": name, "Members": []}
    assert r.headers["location"] == f"{BASE}/teams/{quote(name, safe='')}"
    assert c.get(r.headers["location"]).json() == r.json()
    # By name in any case: a change, which may respell the name.
    r = c.post(f"{BASE}/teams", json={"NAME": name.upper()})
    assert r.status_code == 200 and r.json()["Name"] == name.upper()
    again = c.post(f"{BASE}/teams", json=c.get(f"{BASE}/teams/{quote(name)}").json())
    assert again.status_code == 200 and again.json() == {"Name": name.upper(), "Members": []}


def test_members_are_active_users(env: Env) -> None:
    c = admin(env)
    team = unique("Blue")
    one, _ = person(env, teams=(team,))
    two, _ = person(env, teams=(team,))
    got = c.get(f"{BASE}/teams/{team.lower()}").json()
    assert got == {"Name": team, "Members": sorted([one, two])}
    assert c.delete(f"{BASE}/users/{two}").status_code == 204
    assert c.get(f"{BASE}/teams/{team}").json()["Members"] == [one]
    # A user's Teams and the team's Members are one membership.
    three = f"{unique('m')}@example.com"
    c.post(f"{BASE}/users", json={"Email": three, "DisplayName": "M", "Teams": [team]})
    assert c.get(f"{BASE}/teams/{team}").json()["Members"] == sorted([one, three])


def test_list_sorted_paged_and_without_role_groups(env: Env) -> None:
    c = admin(env)
    prefix = unique("L")
    names = [f"{prefix}-{s}" for s in ("c", "A", "b")]
    for n in names:
        assert c.post(f"{BASE}/teams", json={"Name": n}).status_code == 201
    person(env, roles=("Jobs",))
    r = c.get(f"{BASE}/teams", params={"pageSize": 1000})
    assert r.status_code == 200
    listed = [t["Name"] for t in r.json()]
    assert r.headers["x-total-count"] == str(len(listed)) and "link" not in r.headers
    assert [n for n in listed if n.startswith(prefix)] == sorted(names, key=str.lower)
    assert listed == sorted(listed, key=str.lower)
    assert not any(n.lower().startswith("goana.") for n in listed)
    assert "Administrators" not in listed
    total = len(listed)
    r = c.get(f"{BASE}/teams", params={"pageSize": 1, "page": 2})
    assert [t["Name"] for t in r.json()] == listed[1:2]
    assert r.headers["x-total-count"] == str(total)
    assert 'rel="prev"' in r.headers["link"]
    assert ('rel="next"' in r.headers["link"]) == (total > 2)
    r = c.get(f"{BASE}/teams", params={"skip": total, "take": 5})
    assert r.json() == [] and r.headers["x-total-count"] == str(total)
    r = c.get(f"{BASE}/teams", params={"pageSize": 1001})
    assert r.status_code == 400 and problem_fields(r) == {"pageSize"}


def test_rename(env: Env) -> None:
    c = admin(env)
    old, taken, new = unique("Old"), unique("Taken"), unique("New")
    member, _ = person(env, teams=(old,))
    c.post(f"{BASE}/teams", json={"Name": taken})
    r = c.put(f"{BASE}/teams/{old}", json={"Name": taken.lower()})
    assert r.status_code == 409 and problem_fields(r) == {"Name"}
    for reserved in ("Administrators", "goana.Jobs"):
        r = c.put(f"{BASE}/teams/{old}", json={"Name": reserved})
        assert r.status_code in (400, 409) and problem_fields(r) == {"Name"}
    r = c.put(f"{BASE}/teams/{old.upper()}", json={"Name": new})
    assert r.status_code == 200 and r.json() == {"Name": new, "Members": [member]}
    assert c.get(f"{BASE}/teams/{old}").status_code == 404
    assert c.get(f"{BASE}/users/{member}").json()["Teams"] == [new]
    # A change of case only is no clash with itself.
    assert c.put(f"{BASE}/teams/{new}", json={"Name": new.lower()}).json()["Name"] == new.lower()


def test_validation(env: Env) -> None:
    c = admin(env)
    for body in ({}, {"Name": ""}, {"Name": "  "}, {"Name": None}, {"Name": "x" * 201}):
        r = c.post(f"{BASE}/teams", json=body)
        assert r.status_code == 400 and problem_fields(r) == {"Name"}, body
    r = c.post(f"{BASE}/teams", json={"Name": 7})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}
    r = c.post(f"{BASE}/teams", json={"Name": "GOANA.Reports"})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}
    r = c.post(f"{BASE}/teams", json={"Name": "administrators"})
    assert r.status_code == 409 and problem_fields(r) == {"Name"}
    team = unique("T")
    c.post(f"{BASE}/teams", json={"Name": team})
    r = c.put(f"{BASE}/teams/{team}", json={"Name": ""})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}
    r = c.post(f"{BASE}/teams", content=b"[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and problem_fields(r) == {"body"}


def test_delete(env: Env) -> None:
    c = admin(env)
    free, by_job, by_contact = unique("Free"), unique("Job"), unique("Contact")
    member, _ = person(env, teams=(free, by_job))
    c.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    assert c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "T", "Team": by_job}).status_code == 201
    r = c.post(
        f"{BASE}/contacts",
        json={"Reference": unique("R"), "Name": "N", "Team": by_contact, "Location": address()},
    )
    assert r.status_code == 201
    assert c.delete(f"{BASE}/teams/{by_job}").status_code == 409
    assert c.delete(f"{BASE}/teams/{by_contact.lower()}").status_code == 409
    assert c.get(f"{BASE}/teams/{by_job}").status_code == 200
    assert c.delete(f"{BASE}/teams/{free.upper()}").status_code == 204
    assert c.get(f"{BASE}/teams/{free}").status_code == 404
    assert c.delete(f"{BASE}/teams/{free}").status_code == 404
    assert c.get(f"{BASE}/users/{member}").json()["Teams"] == [by_job]
    # The name is free again.
    assert c.post(f"{BASE}/teams", json={"Name": free}).status_code == 201
    # Role groups and the administrators are no teams.
    assert c.delete(f"{BASE}/teams/goana.Jobs").status_code == 404
    assert c.get(f"{BASE}/teams/Administrators").status_code == 404


def test_etags(env: Env) -> None:
    c = admin(env)
    team = unique("E")
    etag = c.post(f"{BASE}/teams", json={"Name": team}).headers["etag"]
    assert c.get(f"{BASE}/teams/{team}", headers={"If-None-Match": etag}).status_code == 304
    renamed = unique("E")
    r = c.put(f"{BASE}/teams/{team}", json={"Name": renamed}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    r = c.put(f"{BASE}/teams/{renamed}", json={"Name": team}, headers={"If-Match": etag})
    assert r.status_code == 412
    r = c.post(f"{BASE}/teams", json={"Name": renamed.upper()}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert c.delete(f"{BASE}/teams/{renamed}", headers={"If-Match": etag}).status_code == 412
    assert c.get(f"{BASE}/teams/{renamed}").json()["Name"] == renamed
    fresh = c.get(f"{BASE}/teams/{renamed}").headers["etag"]
    assert c.delete(f"{BASE}/teams/{renamed}", headers={"If-Match": fresh}).status_code == 204


def test_rights(env: Env) -> None:
    c = admin(env)
    team = unique("R")
    c.post(f"{BASE}/teams", json={"Name": team})
    _, jobs = person(env, roles=("Jobs",))
    reader = client(env, jobs)
    assert reader.get(f"{BASE}/teams/{team}").status_code == 200
    assert reader.get(f"{BASE}/teams").status_code == 200
    assert reader.post(f"{BASE}/teams", json={"Name": unique("x")}).status_code == 403
    assert reader.put(f"{BASE}/teams/{team}", json={"Name": unique("x")}).status_code == 403
    assert reader.delete(f"{BASE}/teams/{team}").status_code == 403
    for roles in [(), ("Contacts",), ("JobsOverview",)]:
        _, headers = person(env, roles=roles)
        assert client(env, headers).get(f"{BASE}/teams").status_code == 403
    _, base = person(env, roles=("BaseData",))
    writer = client(env, base)
    assert writer.post(f"{BASE}/teams", json={"Name": unique("B")}).status_code == 201
    assert writer.delete(f"{BASE}/teams/{team}").status_code == 204
    assert client(env).get(f"{BASE}/teams").status_code == 401


def test_names_of_groups_that_are_no_teams(env: Env) -> None:
    c = admin(env)
    c.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    dormant = unique("Dormant")
    c.post(f"{BASE}/teams", json={"Name": dormant})
    with env.store.write() as conn:
        conn.execute(update(groups).where(groups.c.name == dormant).values(activity=1))
    assert c.get(f"{BASE}/teams/{dormant}").status_code == 404
    for name in ("Administrators", dormant):
        r = c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "T", "Team": name})
        assert r.status_code == 400 and problem_fields(r) == {"Team"}, name
        email = f"{unique('g')}@example.com"
        r = c.post(f"{BASE}/users", json={"Email": email, "DisplayName": "G", "Teams": [name]})
        assert r.status_code == 400 and problem_fields(r) == {"Teams[0]"}, name
        r = c.post(f"{BASE}/teams", json={"Name": name})
        assert r.status_code == 409 and problem_fields(r) == {"Name"}
