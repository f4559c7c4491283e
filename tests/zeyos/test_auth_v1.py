"""Legacy Authentication API: login, user info, verify, logout, and every credential scheme."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from sqlalchemy import insert, update

from officina.core import people
from officina.core.clock import now
from officina.core.ids import digest, new_secret
from officina.core.schema import applications, users
from officina.core.sessions import create_session
from tests.conftest import Env, basic, unique

AUTH = "/main/auth/v1"
TOKEN = re.compile(r"^[0-9a-f]{40}$")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PW = "admin-pass-1"


def login(env: Env, json: bool = False, **fields: Any) -> Any:
    body = {"name": ADMIN_EMAIL, "password": ADMIN_PW, "identifier": unique("dev"), **fields}
    body = {k: v for k, v in body.items() if v is not None}
    client = env.client()
    if json:
        return client.post(f"{AUTH}/login", json=body)
    return client.post(f"{AUTH}/login", data=body)


def token_of(env: Env, **fields: Any) -> str:
    response = login(env, **fields)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def whoami(env: Env, headers: dict[str, str], query: str = "") -> Any:
    return env.client(headers).get(f"{AUTH}/{query}")


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize("name", ["admin", "ADMIN", "Admin@Example.COM"])
def test_login_answers_token(env: Env, as_json: bool, name: str) -> None:
    identifier = unique("Device_1.a:b-")
    before = now()
    response = login(env, json=as_json, name=name, identifier=identifier)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"user", "application", "token", "identifier", "expdate"}
    assert body["user"] == env.admin.user_id
    assert body["application"] is None
    assert TOKEN.match(body["token"])
    assert body["identifier"] == identifier
    ttl = env.settings.login_token_ttl
    assert before + ttl <= body["expdate"] <= now() + ttl


def test_login_with_expdate_and_trailing_slash(env: Env) -> None:
    expdate = now() + 3600
    client = env.client()
    response = client.post(
        f"{AUTH}/login/",
        data={"name": "admin", "password": ADMIN_PW, "identifier": "x", "expdate": str(expdate)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["expdate"] == expdate
    past = login(env, expdate=now() - 10)
    assert past.status_code == 400
    assert past.text == "Bad Request: Invalid value for field 'expdate'"


@pytest.mark.parametrize(
    "name,password",
    [("admin", "wrong-password"), ("nobody@example.com", ADMIN_PW), ("admin", ADMIN_PW + "x")],
)
def test_wrong_credentials_401(env: Env, name: str, password: str) -> None:
    response = login(env, name=name, password=password)
    assert response.status_code == 401
    assert response.text == "Unauthorized: Invalid credentials"
    assert response.headers["content-type"].startswith("text/plain")
    assert "realm=" in response.headers["www-authenticate"]


def test_inactive_user_cannot_login(env: Env) -> None:
    email = f"{unique('off')}@example.com"
    with env.store.write() as conn:
        user = people.create_user(conn, email=email, password="pass-word-1")
        conn.execute(update(users).where(users.c.ID == user.id).values(activity=1))
    response = login(env, name=email, password="pass-word-1")
    assert response.status_code == 401


@pytest.mark.parametrize("identifier", [None, ""])
def test_missing_identifier_400(env: Env, identifier: str | None) -> None:
    body = {"name": "admin", "password": ADMIN_PW}
    if identifier is not None:
        body["identifier"] = identifier
    response = env.client().post(f"{AUTH}/login", data=body)
    assert response.status_code == 400
    assert response.text == "Bad Request: Missing field 'identifier'"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("identifier", ["my device", "dev/1", "dév", "a" * 256, "x;y"])
def test_bad_identifier_400(env: Env, identifier: str) -> None:
    response = login(env, identifier=identifier)
    assert response.status_code == 400
    assert response.text == "Bad Request: Invalid value for field 'identifier'"


def test_malformed_json_400(env: Env) -> None:
    client = env.client({"Content-Type": "application/json"})
    response = client.post(f"{AUTH}/login", content=b"{nope")
    assert response.status_code == 400
    assert response.text == "Bad Request: Malformed JSON"


def test_token_works_as_bearer(env: Env) -> None:
    token = token_of(env)
    for path in (AUTH, f"{AUTH}/"):
        response = env.client(bearer(token)).get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body == {
            "auth": {"user": env.admin.user_id, "application": None, "lang": "en_US"},
            "user": env.admin.user_id,
            "contact": None,
            "name": "admin",
            "email": ADMIN_EMAIL,
        }


def test_head_verifies(env: Env) -> None:
    token = token_of(env)
    ok = env.client(bearer(token)).head(f"{AUTH}/")
    assert ok.status_code == 204
    assert ok.content == b""
    missing = env.client().head(f"{AUTH}/")
    assert missing.status_code == 401
    assert missing.content == b""
    assert missing.headers["www-authenticate"] == 'Bearer realm="main"'
    bad = env.client(bearer(new_secret())).head(AUTH)
    assert bad.status_code == 401
    assert "invalid_token" in bad.headers["www-authenticate"]


def test_missing_credentials_401(env: Env) -> None:
    response = env.client().get(f"{AUTH}/")
    assert response.status_code == 401
    assert response.text == "Unauthorized: Missing credentials"
    assert response.headers["www-authenticate"] == 'Bearer realm="main"'
    bad = env.client(bearer(new_secret())).get(f"{AUTH}/")
    assert bad.status_code == 401
    assert bad.text == "Unauthorized: Invalid bearer token"


def test_access_and_settings(env: Env) -> None:
    body = whoami(env, env.admin_headers, "?access=1&settings=1").json()
    assert body["admin"] is True
    assert body["nopublic"] is False and body["apionly"] is False
    assert body["permissions"] == {"admin": True}
    assert len(body["groups"]) == 1
    assert all(isinstance(v, bool) for v in body["groups"].values())
    assert all(k.isdigit() for k in body["groups"])
    assert body["settings"] == {}
    plain = whoami(env, env.admin_headers).json()
    assert "admin" not in plain and "settings" not in plain


def test_access_of_a_plain_user(env: Env) -> None:
    gid = env.group()
    user_id, headers = env.user({"notes": True, "billing": False}, groups={gid: False})
    body = whoami(env, headers, "?access=1").json()
    assert body["user"] == user_id
    assert body["admin"] is False
    assert body["permissions"] == {"billing": False, "notes": True}
    assert body["groups"][str(gid)] is False
    assert list(body["groups"].values()).count(True) == 1


@pytest.mark.parametrize("lang,expected", [("de", "de_DE"), ("es", "es_ES"), ("fr", "en_US")])
def test_lang_mapping(env: Env, lang: str, expected: str) -> None:
    email = f"{unique('l')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password="pass-word-1", lang=lang)
    body = whoami(env, basic(email, "pass-word-1")).json()
    assert body["auth"]["lang"] == expected


def test_relogin_revokes_previous_token_of_same_identifier(env: Env) -> None:
    device, other = unique("a"), unique("b")
    first = token_of(env, identifier=device)
    kept = token_of(env, identifier=other)
    second = token_of(env, identifier=device)
    assert first != second
    assert whoami(env, bearer(first)).status_code == 401
    assert whoami(env, bearer(second)).status_code == 200
    assert whoami(env, bearer(kept)).status_code == 200


def test_logout_revokes(env: Env) -> None:
    token = token_of(env)
    assert env.client(bearer(token)).get(f"{AUTH}/logout").status_code == 204
    assert whoami(env, bearer(token)).status_code == 401
    again = env.client(bearer(token)).get(f"{AUTH}/logout/")
    assert again.status_code == 401
    assert again.text == "Unauthorized: Invalid bearer token"


@pytest.mark.parametrize("headers", [{}, basic(ADMIN_EMAIL, ADMIN_PW)], ids=["none", "basic"])
def test_logout_needs_bearer(env: Env, headers: dict[str, str]) -> None:
    response = env.client(headers).get(f"{AUTH}/logout")
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/nosuch/auth/v1/"), ("HEAD", "/nosuch/auth/v1"), ("POST", "/nosuch/auth/v1/login")],
)
def test_unknown_instance_404(env: Env, method: str, path: str) -> None:
    response = env.client(env.admin_headers).request(
        method, path, data={"name": "admin", "password": ADMIN_PW, "identifier": "x"}
    )
    assert response.status_code == 404
    if method != "HEAD":
        assert response.text == "Not Found"


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("DELETE", f"{AUTH}/", "GET, HEAD"),
        ("POST", AUTH, "GET, HEAD"),
        ("GET", f"{AUTH}/login", "POST"),
        ("POST", f"{AUTH}/logout", "GET"),
    ],
)
def test_wrong_method_405(env: Env, method: str, path: str, allow: str) -> None:
    response = env.client(env.admin_headers).request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.text == "Method Not Allowed"


def _session_cookie(env: Env) -> dict[str, str]:
    with env.store.write() as conn:
        sid = create_session(conn, env.admin.user_id, "127.0.0.1")
    assert TOKEN.match(sid)
    return {"Cookie": f"ZEYOSID={sid}"}


@pytest.mark.parametrize("scheme", ["basic-password", "basic-apikey", "bearer", "cookie"])
def test_every_scheme_authenticates(env: Env, scheme: str) -> None:
    if scheme == "basic-password":
        headers = basic(ADMIN_EMAIL.upper(), ADMIN_PW)
    elif scheme == "basic-apikey":
        headers = basic("api", env.admin.api_key)
    elif scheme == "bearer":
        headers = bearer(token_of(env))
    else:
        headers = _session_cookie(env)
    response = whoami(env, headers)
    assert response.status_code == 200, response.text
    assert response.json()["user"] == env.admin.user_id
    assert env.client(headers).head(AUTH).status_code == 204


@pytest.mark.parametrize(
    "authorization",
    ["Bearer " + "0" * 40, "Basic bm9ib2R5Om5vcGU=", "Basic !!!", "Token abc"],
)
def test_bad_authorization_beats_good_cookie(env: Env, authorization: str) -> None:
    headers = {**_session_cookie(env), "Authorization": authorization}
    assert whoami(env, headers).status_code == 401


def test_bad_cookie_401(env: Env) -> None:
    response = whoami(env, {"Cookie": f"ZEYOSID={new_secret()}"})
    assert response.status_code == 401
    assert response.text == "Unauthorized: Invalid session"


def _application(env: Env, restricted: bool = False, activity: int = 0) -> tuple[int, str]:
    secret = new_secret()
    ts = int(time.time())
    with env.store.write() as conn:
        app_id = conn.execute(
            insert(applications)
            .values(
                creationdate=ts,
                lastmodified=ts,
                name="App",
                identifier=unique("app"),
                secret=digest(secret).hex(),
                restricted=int(restricted),
                activity=activity,
            )
            .returning(applications.c.ID)
        ).scalar_one()
    return int(app_id), secret


def test_appsecret_binds_token_to_application(env: Env) -> None:
    app_id, secret = _application(env)
    response = login(env, appsecret=secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["application"] == app_id
    info = whoami(env, bearer(body["token"])).json()
    assert info["auth"]["application"] == app_id


def test_unknown_or_inactive_or_restricted_application_401(env: Env) -> None:
    assert login(env, appsecret=new_secret()).status_code == 401
    _, inactive = _application(env, activity=1)
    assert login(env, appsecret=inactive).status_code == 401
    _, restricted = _application(env, restricted=True)
    email = f"{unique('r')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password="pass-word-1")
    response = login(env, name=email, password="pass-word-1", appsecret=restricted)
    assert response.status_code == 401
    assert response.text == "Unauthorized: Invalid credentials"
    # Admins hold every grant, restricted applications included.
    assert login(env, appsecret=restricted).status_code == 200


def test_same_identifier_different_application_coexist(env: Env) -> None:
    _, secret = _application(env)
    device = unique("d")
    plain = token_of(env, identifier=device)
    bound = token_of(env, identifier=device, appsecret=secret)
    assert whoami(env, bearer(plain)).status_code == 200
    assert whoami(env, bearer(bound)).status_code == 200
