"""Every write of the jobs face leaves one change entry per changed row, in its own
transaction: a create its values, an update the old and new values of what changed, a delete
(cascades included) the values the row held. A refused request leaves none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from officina.core.schema import changes
from tests.conftest import Env, unique
from tests.goana.helpers import BASE, admin


def _entries(env: Env) -> list[dict[str, Any]]:
    with env.store.read() as conn:
        rows = conn.execute(select(changes).order_by(changes.c.ID)).mappings().all()
    return [dict(r) for r in rows]


def _of(entries: list[dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["entity"] == entity]


def test_job_create_update_delete(env: Env) -> None:
    c = admin(env)
    assert c.post(f"{BASE}/jobtemplates", json={"Title": "T"}).status_code == 201
    [template] = _of(_entries(env), "goana_job_template")
    assert (template["action"], template["face"], template["instance"]) == (
        "create",
        "jobs",
        "main",
    )
    assert template["actor"] == env.admin.user_id

    before = len(_entries(env))
    body = {"Key": "J-1", "JobTemplateTitle": "T", "Duration": "00:30:00"}
    assert c.post(f"{BASE}/jobs", json=body).status_code == 201
    [made] = _of(_entries(env)[before:], "goana_job")
    assert made["action"] == "create"
    assert made["fields"]["key"] == [None, "J-1"]
    assert made["fields"]["duration"] == [None, 1800]

    before = len(_entries(env))
    changed = c.post(f"{BASE}/jobs", json={"Key": "J-1", "Duration": "01:00:00"})
    assert changed.status_code == 200, changed.text
    [update] = _entries(env)[before:]
    assert (update["entity"], update["action"], update["row_id"]) == (
        "goana_job",
        "update",
        made["row_id"],
    )
    assert update["fields"]["duration"] == [1800, 3600]
    assert "rev" not in update["fields"]

    before = len(_entries(env))
    assert c.delete(f"{BASE}/jobs/J-1").status_code == 204
    [gone] = _entries(env)[before:]
    assert (gone["entity"], gone["action"], gone["row_id"]) == (
        "goana_job",
        "delete",
        made["row_id"],
    )
    assert gone["fields"]["key"] == ["J-1", None]


def test_team_create_rename_delete(env: Env) -> None:
    c = admin(env)
    name, renamed = unique("Crew"), unique("Crew")
    assert c.post(f"{BASE}/teams", json={"Name": name}).status_code == 201
    [made] = _entries(env)
    assert (made["entity"], made["action"], made["face"]) == ("groups", "create", "jobs")
    assert made["fields"]["name"] == [None, name]
    assert c.put(f"{BASE}/teams/{name}", json={"Name": renamed}).status_code == 200
    [update] = _entries(env)[1:]
    assert update["action"] == "update" and update["fields"]["name"] == [name, renamed]
    assert c.delete(f"{BASE}/teams/{renamed}").status_code == 204
    [gone] = _entries(env)[2:]
    assert (gone["entity"], gone["action"], gone["row_id"]) == ("groups", "delete", made["row_id"])


def test_user_password_is_never_logged(env: Env) -> None:
    c = admin(env)
    email = f"{unique('u')}@example.com"
    body = {"Email": email, "DisplayName": "U", "Password": "pass-word-1"}
    assert c.post(f"{BASE}/users", json=body).status_code == 201
    [user] = _of(_entries(env), "users")
    assert user["fields"]["password"] == [None, {"$secret": True}]
    assert user["fields"]["email"] == [None, email]
    before = len(_entries(env))
    body = {"Email": email, "DisplayName": "U", "Password": "pass-word-2"}
    assert c.put(f"{BASE}/users/{email}", json=body).status_code == 200
    [update] = _of(_entries(env)[before:], "users")
    assert update["fields"]["password"] == [{"$secret": True}, {"$secret": True}]
    assert "argon2" not in str(_entries(env))


def test_refused_requests_leave_no_entry(env: Env) -> None:
    c = admin(env)
    c.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    c.post(f"{BASE}/jobs", json={"Key": "J-1", "JobTemplateTitle": "T"})
    team = unique("Crew")
    etag = c.post(f"{BASE}/teams", json={"Name": team}).headers["etag"]
    c.put(f"{BASE}/teams/{team}", json={"Name": team.upper()})
    before = len(_entries(env))
    # 400: a bad value.
    assert c.post(f"{BASE}/jobs", json={"Key": "J-2", "JobTemplateTitle": 5}).status_code == 400
    assert c.post(f"{BASE}/jobs", json={"Key": "J-1", "Duration": "soon"}).status_code == 400
    # 404: nothing there.
    assert c.delete(f"{BASE}/jobs/nothing").status_code == 404
    # 409: the template is in use by a job.
    template_id = c.get(f"{BASE}/jobtemplates").json()[0]["Id"]
    assert c.delete(f"{BASE}/jobtemplates/{template_id}").status_code == 409
    # 412: a stale version.
    stale = c.put(f"{BASE}/teams/{team}", json={"Name": "x"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert len(_entries(env)) == before
