"""Users and teams of the jobs face: core users and core groups seen through Goana's shapes."""

from __future__ import annotations

import base64

from tests.conftest import Env, basic, unique
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def test_user_add_change_and_views(env: Env) -> None:
    c = admin(env)
    avatar = base64.b64encode(b"GIF89a").decode()
    team = unique("North")
    body = {
        "email": "Travis@Example.com",
        "displayname": "Travis",
        "Password": "travis-secret",
        "LanguageCode": "de",
        "Roles": ["jobs", "Dahsboard"],
        "Teams": [team],
        "UserAvatar": avatar,
        "Regions": ["ignored"],
    }
    r = c.post(f"{BASE}/users", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith("/users/Travis%40Example.com")
    user = r.json()
    assert user["Roles"] == ["Dashboard", "Jobs"] and user["Teams"] == [team]
    assert user["WorkAssignable"] is True and "Password" not in user
    assert user["UserAvatar"] == avatar
    # The new user signs in with the password, on every face's terms.
    travis = client(env, basic("travis@example.com", "travis-secret"))
    assert travis.get(f"{BASE}/jobs").status_code == 200
    limited = travis.get(f"{BASE}/users/travis@example.com").json()
    assert set(limited) == {"Email", "DisplayName", "Teams", "WorkAssignable"}
    assert (
        travis.post(
            f"{BASE}/users", json={"Email": "x@example.com", "DisplayName": "x"}
        ).status_code
        == 403
    )

    again = c.post(f"{BASE}/users", json={"Email": "travis@example.com", "PhoneNumber": "+41 1"})
    assert again.status_code == 200
    assert again.json()["PhoneNumber"] == "+41 1" and again.json()["Roles"] == ["Dashboard", "Jobs"]
    listed = c.get(f"{BASE}/users", params={"team": team.lower()})
    assert [u["Email"] for u in listed.json()] == ["Travis@Example.com"]
    assert listed.json()[0]["UserAvatar"] is None
    with_role = [u["Email"] for u in c.get(f"{BASE}/users", params={"role": "Jobs"}).json()]
    assert "Travis@Example.com" in with_role
    assert "admin@example.com" not in with_role
    r = c.put(f"{BASE}/users/travis@example.com", json={"WorkAssignable": False})
    assert r.status_code == 200
    r = c.post(f"{BASE}/users", json={"Email": "travis@example.com", "Password": "short"})
    assert r.status_code == 400 and problem_fields(r) == {"Password"}
    r = c.post(
        f"{BASE}/users",
        json={
            "Email": "n@example.com",
            "DisplayName": "n",
            "LanguageCode": "xx",
            "Roles": ["King"],
        },
    )
    assert r.status_code == 400 and problem_fields(r) == {"LanguageCode", "Roles[0]"}


def test_unassignable_and_deactivated_users(env: Env) -> None:
    c = admin(env)
    email, headers = person(env)
    c.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    assert c.put(f"{BASE}/users/{email}", json={"WorkAssignable": False}).status_code == 200
    r = c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "T", "UserEmail": email})
    assert r.status_code == 400 and problem_fields(r) == {"UserEmail"}
    assert c.delete(f"{BASE}/users/{email}").status_code == 204
    assert client(env, headers).get(f"{BASE}/statuses").status_code == 401
    assert c.get(f"{BASE}/users/{email}").status_code == 404
    assert c.delete(f"{BASE}/users/admin@example.com").status_code == 409


def test_user_rename_and_etags(env: Env) -> None:
    c = admin(env)
    email, _ = person(env)
    other, _ = person(env)
    got = c.get(f"{BASE}/users/{email}")
    etag = got.headers["etag"]
    assert c.get(f"{BASE}/users/{email}", headers={"If-None-Match": etag}).status_code == 304
    assert c.put(f"{BASE}/users/{email}", json={"Email": other}).status_code == 409
    r = c.put(
        f"{BASE}/users/{email}", json={"Email": "renamed@example.com"}, headers={"If-Match": etag}
    )
    assert r.status_code == 200
    assert (
        c.put(
            f"{BASE}/users/renamed@example.com",
            json={"DisplayName": "x"},
            headers={"If-Match": etag},
        ).status_code
        == 412
    )
    assert c.get(f"{BASE}/users/{email}").status_code == 404


def test_teams(env: Env) -> None:
    c = admin(env)
    alpha, beta, gamma = unique("Alpha"), unique("Beta"), unique("Gamma")
    email, _ = person(env, teams=(alpha,))
    r = c.post(f"{BASE}/teams", json={"name": beta})
    assert r.status_code == 201 and r.json() == {"Name": beta, "Members": []}
    assert c.post(f"{BASE}/teams", json={"Name": beta.lower()}).status_code == 200
    assert c.get(f"{BASE}/teams/{alpha.upper()}").json()["Members"] == [email]
    names = [t["Name"] for t in c.get(f"{BASE}/teams", params={"pageSize": 1000}).json()]
    assert alpha in names and beta.lower() in names
    assert not any(n.startswith("goana.") for n in names)
    assert c.put(f"{BASE}/teams/{beta}", json={"Name": alpha}).status_code == 409
    assert c.put(f"{BASE}/teams/{beta}", json={"Name": gamma}).status_code == 200
    c.post(f"{BASE}/jobtemplates", json={"Title": "T"})
    c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "T", "Team": gamma})
    assert c.delete(f"{BASE}/teams/{gamma}").status_code == 409
    assert c.delete(f"{BASE}/teams/{alpha}").status_code == 204
    assert c.get(f"{BASE}/teams/{alpha}").status_code == 404
    r = c.post(f"{BASE}/teams", json={"Name": "goana.Jobs"})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}
    _, jobs_headers = person(env, roles=("Jobs",))
    assert client(env, jobs_headers).post(f"{BASE}/teams", json={"Name": "x"}).status_code == 403
