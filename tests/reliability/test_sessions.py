"""Sessions and tokens that end: password changes, deactivation, idle and absolute
lifetimes, logout, API keys as bearer tokens, on the records, projects and jobs faces."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from officina.core import people
from officina.core.clock import now
from officina.core.ids import digest
from officina.core.schema import sessions, tokens
from officina.core.sessions import TOUCH_EVERY, wait_for_use_records
from tests.conftest import Env, unique
from tests.zeyos.oauth_helpers import OAUTH, bearer, register, sign_in, token_request, tokens_of

PASSWORD = "first-pass-1"
# One protected read per face; each answers 200 to a good credential and 401 otherwise.
FACES = {
    "records": "/main/api/v1/config",
    "records-auth": "/main/auth/v1/",
    "projects": "/main/flow/api/v1/users",
    "jobs": "/main/goana/api/v1/jobs",
}
GOANA_USERS = "/main/goana/api/v1/users"
# The jobs face answers only over HTTPS.
HTTPS = "https://testserver"


def _client(env: Env, headers: dict[str, str] | None = None) -> TestClient:
    return env.client(headers, base_url=HTTPS)


def _admin_user(env: Env) -> str:
    email = f"{unique('s')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password=PASSWORD, name=email, admin=True)
    return email


def _statuses(client: TestClient, headers: dict[str, str] | None = None) -> dict[str, int]:
    return {
        face: client.get(path, headers=headers or {}).status_code for face, path in FACES.items()
    }


def _works(client: TestClient, headers: dict[str, str] | None = None) -> None:
    assert _statuses(client, headers) == {face: 200 for face in FACES}


def _refused(client: TestClient, headers: dict[str, str] | None = None) -> None:
    assert _statuses(client, headers) == {face: 401 for face in FACES}


def _login_token(env: Env, email: str, password: str = PASSWORD, device: str = "laptop") -> str:
    r = _client(env).post(
        "/main/auth/v1/login", data={"name": email, "password": password, "identifier": device}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def _browser_session(env: Env, email: str) -> TestClient:
    """A browser that signed in on the consent page and holds a ZEYOSID cookie."""
    app = register(env)
    client = _client(env)
    client.follow_redirects = False
    assert sign_in(client, app, login=email, password=PASSWORD).status_code == 303
    assert client.cookies.get("ZEYOSID")
    return client


def _oauth_pair(env: Env, email: str) -> tuple[Any, str, str]:
    app = register(env)
    grant = {"grant_type": "password", "username": email, "password": PASSWORD}
    access, refresh = tokens_of(token_request(env, app, grant))
    return app, access, refresh


def test_an_admin_password_change_ends_every_session_and_token(env: Env) -> None:
    email = _admin_user(env)
    browser = _browser_session(env, email)
    login = _login_token(env, email)
    app, access, refresh = _oauth_pair(env, email)
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email), "script")
    c = _client(env)
    _works(browser)
    _works(c, bearer(login))
    _works(c, bearer(access))

    r = c.put(
        f"{GOANA_USERS}/{email}", json={"Password": "second-pass-2"}, headers=env.admin_headers
    )
    assert r.status_code == 200, r.text

    _refused(browser)
    _refused(c, bearer(login))
    _refused(c, bearer(access))
    again = token_request(env, app, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert again.status_code == 403 and again.json()["error"] == "invalid_grant"
    # An API key is not a sign-in: it outlives a password change (revoked on its own).
    _works(c, bearer(key))
    assert _login_token(env, email, "second-pass-2")


def test_own_password_change_keeps_the_current_credential(env: Env) -> None:
    email = _admin_user(env)
    current = _login_token(env, email, device="this-machine")
    other = _login_token(env, email, device="other-machine")
    browser = _browser_session(env, email)
    c = _client(env)
    r = c.put(f"{GOANA_USERS}/{email}", json={"Password": "second-pass-2"}, headers=bearer(current))
    assert r.status_code == 200, r.text
    _works(c, bearer(current))
    _refused(c, bearer(other))
    _refused(browser)


def test_own_password_change_through_oauth_keeps_its_pair(env: Env) -> None:
    email = _admin_user(env)
    app, access, refresh = _oauth_pair(env, email)
    _, other_access, _ = _oauth_pair(env, email)
    c = _client(env)
    r = c.put(f"{GOANA_USERS}/{email}", json={"Password": "second-pass-2"}, headers=bearer(access))
    assert r.status_code == 200, r.text
    _works(c, bearer(access))
    _refused(c, bearer(other_access))
    renewed = token_request(env, app, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert renewed.status_code == 200, renewed.text


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(env: Env) -> None:
    email = _admin_user(env)
    browser = _browser_session(env, email)
    login = _login_token(env, email)
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email), "script")
    c = _client(env, env.admin_headers)
    assert c.delete(f"{GOANA_USERS}/{email}").status_code == 204
    _refused(browser)
    _refused(_client(env), bearer(login))
    _refused(_client(env), bearer(key))
    r = c.post(GOANA_USERS, json={"Email": email, "DisplayName": "Back again"})
    assert r.status_code == 200, r.text
    _refused(browser)
    _refused(_client(env), bearer(login))
    _refused(_client(env), bearer(key))
    # The user signs in afresh.
    _works(_client(env), bearer(_login_token(env, email)))


def test_idle_and_absolute_session_lifetimes(env: Env) -> None:
    email = _admin_user(env)
    idle_one, lasting = _browser_session(env, email), _browser_session(env, email)
    with env.store.read() as conn:
        row = conn.execute(
            select(sessions).where(sessions.c.hash == digest(idle_one.cookies["ZEYOSID"]))
        ).one()
    assert row.idle == env.settings.session_idle_seconds
    assert row.expires - row.created == env.settings.session_max_seconds
    _works(idle_one)
    with env.store.write() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.ID == row.ID)
            .values(lastseen=now() - env.settings.session_idle_seconds - 1)
        )
    _refused(idle_one)
    _works(lasting)
    with env.store.write() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.hash == digest(lasting.cookies["ZEYOSID"]))
            .values(expires=now() - 1)
        )
    _refused(lasting)


def test_use_keeps_a_session_alive(env: Env) -> None:
    email = _admin_user(env)
    browser = _browser_session(env, email)
    sid_hash = digest(browser.cookies["ZEYOSID"])
    long_ago = now() - env.settings.session_idle_seconds + 5 * TOUCH_EVERY
    with env.store.write() as conn:
        conn.execute(update(sessions).where(sessions.c.hash == sid_hash).values(lastseen=long_ago))
    _works(browser)
    wait_for_use_records()
    with env.store.read() as conn:
        seen = conn.execute(select(sessions.c.lastseen).where(sessions.c.hash == sid_hash)).scalar()
    assert seen is not None and seen >= now() - 5


def test_idle_login_token_ends(env: Env) -> None:
    email = _admin_user(env)
    token = _login_token(env, email)
    c = _client(env)
    _works(c, bearer(token))
    with env.store.read() as conn:
        row = conn.execute(select(tokens).where(tokens.c.hash == digest(token))).one()
    assert row.idle == env.settings.login_token_idle_seconds
    with env.store.write() as conn:
        conn.execute(
            update(tokens)
            .where(tokens.c.ID == row.ID)
            .values(lastused=now() - env.settings.login_token_idle_seconds - 1)
        )
    _refused(c, bearer(token))


def test_login_expdate_is_capped(env: Env) -> None:
    email = _admin_user(env)
    far = now() + 50 * 365 * 24 * 3600
    r = _client(env).post(
        "/main/auth/v1/login",
        data={"name": email, "password": PASSWORD, "identifier": "d", "expdate": str(far)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["expdate"] <= now() + env.settings.login_token_max_seconds


def test_logout_ends_a_cookie_session(env: Env) -> None:
    email = _admin_user(env)
    browser, other = _browser_session(env, email), _browser_session(env, email)
    r = browser.get("/main/auth/v1/logout")
    assert r.status_code == 204
    assert 'ZEYOSID=""' in r.headers["set-cookie"] and "Path=/main/" in r.headers["set-cookie"]
    sid = other.cookies["ZEYOSID"]
    _works(other)
    ended = _client(env).get("/main/auth/v1/logout", headers={"Cookie": f"ZEYOSID={sid}"})
    assert ended.status_code == 204
    _refused(_client(env), {"Cookie": f"ZEYOSID={sid}"})
    again = _client(env).get("/main/auth/v1/logout", headers={"Cookie": f"ZEYOSID={sid}"})
    assert again.status_code == 401 and again.text == "Unauthorized: Invalid session"


def test_api_key_as_bearer_on_every_face(env: Env) -> None:
    email = _admin_user(env)
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email), "seed")
    c = _client(env)
    _works(c, bearer(key))
    me = c.get("/main/auth/v1/", headers=bearer(key)).json()
    assert me["email"] == email and me["auth"]["application"] is None
    assert c.get(f"{OAUTH}/userinfo", headers=bearer(key)).status_code == 200
    # Logout does not end an API key.
    out = c.get("/main/auth/v1/logout", headers=bearer(key))
    assert out.status_code == 400
    assert out.text == (
        "Bad Request: An API key is not ended by logout; revoke it with 'officina apikey revoke'"
    )
    _works(c, bearer(key))
    with env.store.write() as conn:
        from officina.core.credentials import list_api_keys, revoke_api_key

        [row] = list_api_keys(conn, people.user_id_by_email(conn, email))
        assert row["label"] == "seed" and row["revoked"] is None
        assert revoke_api_key(conn, row["id"])
    _refused(c, bearer(key))


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_revoked_api_key_is_felt_at_the_next_request(env: Env, scheme: str) -> None:
    from officina.core.credentials import revoke_api_key

    email = _admin_user(env)
    with env.store.write() as conn:
        user_id = people.user_id_by_email(conn, email)
        key = people.create_api_key(conn, user_id, "k")
        key_id = conn.execute(select(tokens.c.ID).where(tokens.c.hash == digest(key))).scalar()
    import base64

    headers = (
        bearer(key)
        if scheme == "bearer"
        else {"Authorization": "Basic " + base64.b64encode(f"api:{key}".encode()).decode()}
    )
    c = _client(env)
    _works(c, headers)
    _works(c, headers)
    with env.store.write() as conn:
        assert revoke_api_key(conn, int(key_id))
    _refused(c, headers)
