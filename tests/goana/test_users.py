"""Users of the jobs face over HTTP: core users seen through Goana's ApiUser shape."""

from __future__ import annotations

import base64

from sqlalchemy import select, update

from officina.core import people
from officina.core.schema import groups2users, users
from officina.goana.tables import user_profile
from tests.conftest import Env, basic, unique
from tests.goana.helpers import BASE, PASSWORD, admin, client, person, problem_fields

LIMITED = {"Email", "DisplayName", "Teams", "WorkAssignable"}


def _email() -> str:
    return f"{unique('u')}@example.com"


def _body(email: str, **extra: object) -> dict[str, object]:
    return {"Email": email, "DisplayName": "Dora", "Password": "secret-pass", **extra}


def test_add_then_change_by_email(env: Env) -> None:
    c = admin(env)
    email, team = _email(), unique("Team")
    r = c.post(f"{BASE}/users", json=_body(email, Teams=[team], Roles=["JOBS"]))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{BASE}/users/{email.replace('@', '%40')}"
    assert r.headers["etag"]
    user = r.json()
    assert user["Email"] == email and user["DisplayName"] == "Dora"
    assert user["Roles"] == ["Jobs"] and user["Teams"] == [team]
    assert user["WorkAssignable"] is True and user["IsBillingContact"] is False
    assert user["LanguageCode"] == "en" and user["PhoneNumber"] is None
    assert user["Created"] and user["Modified"] and "Password" not in user
    # The same e-mail in another case changes the user; absent properties stay.
    r = c.post(f"{BASE}/users", json={"Email": email.upper(), "PhoneNumber": "+41 44"})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["Email"] == email and changed["PhoneNumber"] == "+41 44"
    assert changed["Roles"] == ["Jobs"] and changed["Teams"] == [team]
    assert c.get(f"{BASE}/users/{email.upper()}").json() == changed
    # The core name is the e-mail, so display names may repeat.
    other = _email()
    assert c.post(f"{BASE}/users", json=_body(other)).status_code == 201
    with env.store.read() as conn:
        name = conn.execute(select(users.c.name).where(users.c.email == other)).scalar_one()
    assert name == other


def test_input_names_any_case_unknown_ignored_and_get_body_reposted(env: Env) -> None:
    c = admin(env)
    email = _email()
    avatar = base64.b64encode(b"\x89PNG tiny").decode()
    body = {
        "EMAIL": email,
        "displayName": "Ann",
        "password": "pass:with:colons",
        "languagecode": "DE",
        "phonenumber": "1",
        "isbillingcontact": True,
        "workassignable": False,
        "roles": ["dashboard", "JobRecurrences", "basedata", "Dahsboard"],
        "teams": [],
        "useravatar": avatar,
        "Regions": ["North"],
        "Description": "ignored",
        "Created": "1999-01-01T00:00:00",
    }
    r = c.post(f"{BASE}/users", json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["LanguageCode"] == "de" and got["IsBillingContact"] is True
    assert got["WorkAssignable"] is False and got["UserAvatar"] == avatar
    assert got["Roles"] == ["BaseData", "Dashboard", "JobReccurences"]
    assert "Regions" not in got and got["Created"] != "1999-01-01T00:00:00"
    again = c.post(f"{BASE}/users", json=got)
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if k != "Modified"} == {
        k: v for k, v in got.items() if k != "Modified"
    }
    # A password containing ':' signs in: Basic splits at the first colon.
    assert client(env, basic(email, "pass:with:colons")).get(f"{BASE}/statuses").status_code == 200


def test_validation_names_the_fields(env: Env) -> None:
    c = admin(env)
    r = c.post(
        f"{BASE}/users",
        json={
            "Email": "not-an-address",
            "DisplayName": "x" * 101,
            "Password": "short",
            "LanguageCode": "xx",
            "Roles": ["Jobs", "King"],
            "WorkAssignable": "yes",
            "UserAvatar": "***",
        },
    )
    assert r.status_code == 400
    assert problem_fields(r) == {
        "Email",
        "DisplayName",
        "Password",
        "LanguageCode",
        "Roles[1]",
        "WorkAssignable",
        "UserAvatar",
    }
    assert r.json()["title"] == "One or more validation errors occurred."
    big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
    r = c.post(f"{BASE}/users", json=_body(_email(), UserAvatar=big))
    assert r.status_code == 400 and problem_fields(r) == {"UserAvatar"}
    r = c.post(f"{BASE}/users", json={"Email": _email()})
    assert r.status_code == 400 and problem_fields(r) == {"DisplayName"}
    r = c.post(f"{BASE}/users", json={"DisplayName": "Nobody"})
    assert r.status_code == 400 and problem_fields(r) == {"Email"}
    email, _ = person(env)
    r = c.put(f"{BASE}/users/{email}", json={"DisplayName": None})
    assert r.status_code == 400 and problem_fields(r) == {"DisplayName"}
    r = c.put(f"{BASE}/users/{email}", json={"Email": None})
    assert r.status_code == 400 and problem_fields(r) == {"Email"}
    # A failed write changed nothing.
    assert c.get(f"{BASE}/users/{email}").json()["Email"] == email


def test_null_restores_defaults_and_lists_replace(env: Env) -> None:
    c = admin(env)
    email, north, south = _email(), unique("North"), unique("South")
    c.post(
        f"{BASE}/users",
        json=_body(email, WorkAssignable=False, IsBillingContact=True, Teams=[north, south]),
    )
    r = c.put(
        f"{BASE}/users/{email}",
        json={"WorkAssignable": None, "IsBillingContact": None, "Teams": [south.upper()]},
    )
    got = r.json()
    assert got["WorkAssignable"] is True and got["IsBillingContact"] is False
    assert got["Teams"] == [south]
    r = c.put(f"{BASE}/users/{email}", json={"Teams": None, "Roles": ["Contacts"]})
    assert r.json()["Teams"] == [] and r.json()["Roles"] == ["Contacts"]
    assert c.put(f"{BASE}/users/{email}", json={"Roles": []}).json()["Roles"] == []


def test_list_filters_paging_and_avatars(env: Env) -> None:
    c = admin(env)
    team = unique("Crew")
    emails = sorted(f"{unique(ch)}@example.com" for ch in "cab")
    avatar = base64.b64encode(b"img").decode()
    for i, email in enumerate(emails):
        body = _body(email, Teams=[team], UserAvatar=avatar, WorkAssignable=i != 1)
        if i == 2:
            body["Roles"] = ["Contacts"]
        assert c.post(f"{BASE}/users", json=body).status_code == 201
    r = c.get(f"{BASE}/users", params={"team": team.lower()})
    assert r.status_code == 200 and r.headers["x-total-count"] == "3"
    assert [u["Email"] for u in r.json()] == emails and "link" not in r.headers
    assert all(u["UserAvatar"] is None for u in r.json())
    r = c.get(f"{BASE}/users", params={"team": team, "includeAvatar": "TRUE"})
    assert all(u["UserAvatar"] == avatar for u in r.json())

    r = c.get(f"{BASE}/users", params={"Team": team, "pageSize": 2})
    assert [u["Email"] for u in r.json()] == emails[:2] and r.headers["x-total-count"] == "3"
    assert 'rel="next"' in r.headers["link"] and 'rel="prev"' not in r.headers["link"]
    nxt = r.headers["link"].split(";")[0].strip("<>")
    assert nxt.startswith(f"{BASE}/users?") and "skip=2" in nxt and "take=2" in nxt
    r = c.get(nxt)
    assert [u["Email"] for u in r.json()] == emails[2:] and 'rel="prev"' in r.headers["link"]
    r = c.get(f"{BASE}/users", params={"team": team, "page": 2, "pageSize": 2})
    assert [u["Email"] for u in r.json()] == emails[2:]
    r = c.get(f"{BASE}/users", params={"team": team, "skip": 1, "take": 1})
    assert [u["Email"] for u in r.json()] == emails[1:2]
    # A page past the end is empty but still tells the total.
    r = c.get(f"{BASE}/users", params={"team": team, "page": 9})
    assert r.json() == [] and r.headers["x-total-count"] == "3"

    def listed(**params: object) -> list[str]:
        r = c.get(f"{BASE}/users", params={"team": team, **params})
        assert r.status_code == 200, r.text
        return [u["Email"] for u in r.json()]

    assert listed(workAssignable="false") == [emails[1]]
    assert listed(workassignable="true") == [emails[0], emails[2]]
    assert listed(role="contacts") == [emails[2]]
    assert listed(email=[emails[0].upper(), emails[2]]) == [emails[0], emails[2]]
    assert listed(modifiedSince="2000-01-01") == emails
    assert listed(modifiedSince="2999-01-01T00:00:00") == []
    both = c.get(f"{BASE}/users", params={"team": [team, unique("None")]})
    assert len(both.json()) == 3
    admins = [u["Email"] for u in c.get(f"{BASE}/users", params={"role": "Administrator"}).json()]
    assert "admin@example.com" in admins and emails[0] not in admins
    for name, value in (
        ("pageSize", "1001"),
        ("take", "5000"),
        ("page", "0"),
        ("skip", "-1"),
        ("pageSize", "ten"),
        ("workAssignable", "maybe"),
        ("role", "King"),
        ("modifiedSince", "yesterday"),
    ):
        r = c.get(f"{BASE}/users", params={name: value})
        assert r.status_code == 400 and problem_fields(r) == {name}, (name, value)
    assert c.get(f"{BASE}/users", params={"pageSize": 1000}).status_code == 200


def test_limited_view_and_rights(env: Env) -> None:
    c = admin(env)
    target, _ = person(env, teams=(unique("T"),))
    _, jobs = person(env, roles=("Jobs",))
    seen = client(env, jobs).get(f"{BASE}/users/{target}")
    assert seen.status_code == 200 and set(seen.json()) == LIMITED
    listed = client(env, jobs).get(f"{BASE}/users", params={"email": target})
    assert [set(u) for u in listed.json()] == [LIMITED]
    assert set(c.get(f"{BASE}/users/{target}").json()) > LIMITED
    no_users: list[tuple[str, ...]] = [(), ("Contacts",), ("BaseData",), ("JobsOverview",)]
    for roles in no_users:
        _, headers = person(env, roles=roles)
        assert client(env, headers).get(f"{BASE}/users").status_code == 403
    for roles in [("Jobs",), ("BaseData", "Contacts", "Jobs")]:
        _, headers = person(env, roles=roles)
        w = client(env, headers)
        assert w.post(f"{BASE}/users", json=_body(_email())).status_code == 403
        assert w.put(f"{BASE}/users/{target}", json={"PhoneNumber": "1"}).status_code == 403
        assert w.delete(f"{BASE}/users/{target}").status_code == 403
    r = client(env, jobs).post(f"{BASE}/users", json=_body(_email()))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem")
    # An administrator by role may write users.
    admin_email = _email()
    c.post(f"{BASE}/users", json=_body(admin_email, Roles=["administrator"]))
    boss = client(env, basic(admin_email, "secret-pass"))
    assert boss.post(f"{BASE}/users", json=_body(_email())).status_code == 201
    assert boss.get(f"{BASE}/users/{admin_email}").json()["Roles"] == ["Administrator"]
    # Other tests count on the instance's first administrator being the last one.
    assert c.delete(f"{BASE}/users/{admin_email}").status_code == 204


def test_not_found(env: Env) -> None:
    c = admin(env)
    nobody = _email()
    assert c.get(f"{BASE}/users/{nobody}").status_code == 404
    assert c.put(f"{BASE}/users/{nobody}", json={"DisplayName": "x"}).status_code == 404
    r = c.delete(f"{BASE}/users/{nobody}")
    assert r.status_code == 404 and r.json()["status"] == 404


def test_etags_and_preconditions(env: Env) -> None:
    c = admin(env)
    email, _ = person(env)
    r = c.get(f"{BASE}/users/{email}")
    etag = r.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert c.get(f"{BASE}/users/{email}", headers={"If-None-Match": etag}).status_code == 304
    assert c.get(f"{BASE}/users/{email}", headers={"If-None-Match": '"0"'}).status_code == 200
    r = c.put(f"{BASE}/users/{email}", json={"PhoneNumber": "2"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    fresh = r.headers["etag"]
    for method, kwargs in (
        ("PUT", {"json": {"PhoneNumber": "3"}}),
        ("POST", {"json": {"Email": email, "PhoneNumber": "3"}}),
        ("DELETE", {}),
    ):
        path = f"{BASE}/users" if method == "POST" else f"{BASE}/users/{email}"
        r = c.request(method, path, headers={"If-Match": etag}, **kwargs)
        assert r.status_code == 412, method
    assert c.get(f"{BASE}/users/{email}").json()["PhoneNumber"] == "2"
    r = c.post(
        f"{BASE}/users", json={"Email": email, "PhoneNumber": "4"}, headers={"If-Match": fresh}
    )
    assert r.status_code == 200
    assert c.get(f"{BASE}/users", params={"email": email}).headers.get("etag") is None


def test_rename(env: Env) -> None:
    c = admin(env)
    email, headers = person(env)
    other, _ = person(env)
    r = c.put(f"{BASE}/users/{email}", json={"Email": other.upper()})
    assert r.status_code == 409 and problem_fields(r) == {"Email"}
    new = _email()
    r = c.put(f"{BASE}/users/{email}", json={"email": new})
    assert r.status_code == 200 and r.json()["Email"] == new
    assert c.get(f"{BASE}/users/{email}").status_code == 404
    assert c.get(f"{BASE}/users/{new}").status_code == 200
    # The person signs in with the new address (and, the core name having followed, not the old).
    assert client(env, basic(new, PASSWORD)).get(f"{BASE}/statuses").status_code == 200
    assert client(env, headers).get(f"{BASE}/statuses").status_code == 401
    # Same address in another case is no rename.
    assert c.put(f"{BASE}/users/{new}", json={"Email": new.upper()}).json()["Email"] == new


def test_users_of_other_faces_show_with_defaults(env: Env) -> None:
    c = admin(env)
    email = _email()
    with env.store.write() as conn:
        people.create_user(conn, email=email, password=PASSWORD, name=unique("Core Name"))
    got = c.get(f"{BASE}/users/{email}").json()
    assert got["WorkAssignable"] is True and got["IsBillingContact"] is False
    assert got["DisplayName"].startswith("Core Name") and got["Roles"] == [] and got["Teams"] == []
    r = c.post(f"{BASE}/users", json={"Email": email, "PhoneNumber": "5"})
    assert r.status_code == 200 and r.json()["DisplayName"] == got["DisplayName"]
    with env.store.read() as conn:
        uid = people.user_id_by_email(conn, email)
        assert conn.execute(select(user_profile).where(user_profile.c.user == uid)).first()


def test_email_clashing_with_a_core_user_name(env: Env) -> None:
    c = admin(env)
    squatter = _email()
    with env.store.write() as conn:
        people.create_user(conn, email=_email(), password=PASSWORD, name=squatter)
    r = c.post(f"{BASE}/users", json=_body(squatter))
    assert r.status_code == 409 and problem_fields(r) == {"Email"}
    email, _ = person(env)
    r = c.put(f"{BASE}/users/{email}", json={"Email": squatter})
    assert r.status_code == 200 and r.json()["Email"] == squatter


def test_deactivation(env: Env) -> None:
    c = admin(env)
    email = _email()
    c.post(f"{BASE}/users", json=_body(email, Roles=["Jobs"]))
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email))
    by_key = client(env, basic("api", key))
    by_password = client(env, basic(email, "secret-pass"))
    assert (
        by_key.get(f"{BASE}/users/{email}").json()
        == by_password.get(f"{BASE}/users/{email}").json()
    )
    assert c.delete(f"{BASE}/users/{email}").status_code == 204
    for who in (by_key, by_password):
        r = who.get(f"{BASE}/statuses")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert c.get(f"{BASE}/users/{email}").status_code == 404
    assert c.delete(f"{BASE}/users/{email}").status_code == 404
    assert c.get(f"{BASE}/users", params={"email": email}).json() == []
    with env.store.read() as conn:
        activity = conn.execute(select(users.c.activity).where(users.c.email == email))
        assert activity.scalar_one() == 1
    # Adding the address again brings the person back (200: the user existed), keys stay revoked.
    r = c.post(f"{BASE}/users", json=_body(email))
    assert r.status_code == 200
    assert by_password.get(f"{BASE}/statuses").status_code == 200
    assert by_key.get(f"{BASE}/statuses").status_code == 401


def test_last_administrator_stays(env: Env) -> None:
    c = admin(env)
    others = _other_admins(env)
    _set_activity(env, others, 1)
    try:
        r = c.delete(f"{BASE}/users/admin@example.com")
        assert r.status_code == 409
        r = c.put(f"{BASE}/users/admin@example.com", json={"Roles": ["Jobs"]})
        assert r.status_code == 409
        assert c.get(f"{BASE}/users/admin@example.com").json()["Roles"] == ["Administrator"]
        second = _email()
        c.post(f"{BASE}/users", json=_body(second, Roles=["Administrator"]))
        assert c.delete(f"{BASE}/users/{second}").status_code == 204
        assert c.delete(f"{BASE}/users/admin@example.com").status_code == 409
    finally:
        _set_activity(env, others, 0)


def _other_admins(env: Env) -> list[int]:
    with env.store.read() as conn:
        group = people.ensure_admin_group(conn)
        rows = conn.execute(
            select(users.c.ID)
            .join(groups2users, groups2users.c.user == users.c.ID)
            .where(
                groups2users.c.group == group,
                users.c.activity == 0,
                users.c.email_ci != "admin@example.com",
            )
        )
        return [r.ID for r in rows]


def _set_activity(env: Env, ids: list[int], activity: int) -> None:
    if ids:
        with env.store.write() as conn:
            conn.execute(update(users).where(users.c.ID.in_(ids)).values(activity=activity))


def test_authentication(env: Env) -> None:
    email, headers = person(env, roles=("Jobs",))
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email))
    me_by_password = client(env, headers).get(f"{BASE}/users/{email}")
    me_by_key = client(env, basic("API", key)).get(f"{BASE}/users/{email}")
    assert me_by_password.status_code == me_by_key.status_code == 200
    assert me_by_password.json() == me_by_key.json()
    assert client(env, basic(email.upper(), PASSWORD)).get(f"{BASE}/statuses").status_code == 200
    for bad in (
        {},
        basic(email, "wrong-password"),
        basic("api", "no-such-key"),
        basic(_email(), PASSWORD),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Digest abc"},
    ):
        r = client(env, bad).get(f"{BASE}/users")
        assert r.status_code == 401, bad
        assert r.headers["www-authenticate"].startswith("Basic ")
        assert r.headers["content-type"].startswith("application/problem+json")
