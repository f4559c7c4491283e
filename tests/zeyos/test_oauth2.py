"""OAuth 2.0 API: the whole code flow, the token endpoint's grants and errors, revocation,
introspection, userinfo and the application context on ``/api/v1``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import update

from officina.core import people
from officina.core.clock import now
from officina.core.ids import digest
from officina.core.schema import applications, tokens, users
from officina.zeyos.tables import table
from tests.conftest import SHARED, Env, basic, unique
from tests.zeyos.oauth_helpers import (
    ADMIN_PW,
    API,
    CALLBACK,
    HEX40,
    OAUTH,
    OTHER_CALLBACK,
    api_status,
    bearer,
    browser,
    callback_params,
    exchange,
    get_code,
    introspect,
    oauth_error,
    password_grant,
    pkce_pair,
    register,
    sign_in,
    token_request,
    tokens_of,
)

REVOKE = f"{OAUTH}/revoke"


def test_appendix_b_flow(env: Env) -> None:
    """authorize → consent → code → token → API → refresh rotation → revoke → introspect."""
    app = register(env)
    client = browser(env)
    first = client.get(
        f"{OAUTH}/authorize",
        params={
            "client_id": app.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "state": "s-1 &x",
            "scope": "anything",  # unknown parameters are ignored
        },
    )
    assert first.status_code == 303
    params = callback_params(sign_in(client, app, state="s-1 &x"))
    assert params["state"] == "s-1 &x" and HEX40.match(params["code"])

    response = exchange(env, app, params["code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 8640000
    access, refresh = body["access_token"], body["refresh_token"]
    assert HEX40.match(access) and HEX40.match(refresh) and access != refresh

    assert api_status(env, access) == 200
    created = env.client(bearer(access)).put(
        f"{API}/accounts", json={"lastname": "Via OAuth", "currency": "EUR"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["creator"] == env.admin.user_id

    # Refresh with body credentials only: a new pair; the old one is dead.
    rotated = env.client().post(
        f"{OAUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh, **app.body()},
    )
    access2, refresh2 = tokens_of(rotated)
    assert {access2, refresh2}.isdisjoint({access, refresh})
    again = token_request(env, app, {"grant_type": "refresh_token", "refresh_token": refresh})
    text = oauth_error(again, 403, "invalid_grant")
    assert text == "Forbidden: Invalid or expired refresh_token"
    assert api_status(env, access) == 401
    assert api_status(env, access2) == 200

    assert introspect(env, app, access2)["active"] is True
    revoked = env.client(app.basic()).post(REVOKE, data={"token": refresh2})
    assert revoked.status_code == 200 and revoked.content == b""
    assert introspect(env, app, access2) == {"active": False}
    assert introspect(env, app, refresh2) == {"active": False}
    assert api_status(env, access2) == 401


def test_json_token_request_and_trailing_slash(env: Env) -> None:
    app = register(env)
    code = get_code(env, app)
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    response = env.client().post(f"{OAUTH}/token/", json={**body, **app.body()})
    access, _ = tokens_of(response)
    assert api_status(env, access) == 200


def test_pkce_s256(env: Env) -> None:
    app = register(env)
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code = get_code(env, app, **pkce)
    access, _ = tokens_of(exchange(env, app, code, code_verifier=verifier))
    assert api_status(env, access) == 200

    wrong = get_code(env, app, **pkce)
    other, _ = pkce_pair()
    oauth_error(exchange(env, app, wrong, code_verifier=other), 403, "invalid_grant")
    # The failed attempt spent the code: the right verifier no longer helps.
    oauth_error(exchange(env, app, wrong, code_verifier=verifier), 403, "invalid_grant")

    missing = get_code(env, app, **pkce)
    text = oauth_error(exchange(env, app, missing), 400, "invalid_request")
    assert "code_verifier" in text
    oauth_error(exchange(env, app, missing, code_verifier=verifier), 403, "invalid_grant")

    # A verifier for a code issued without a challenge is refused, not ignored.
    plain = get_code(env, app)
    oauth_error(exchange(env, app, plain, code_verifier=verifier), 403, "invalid_grant")


def test_code_is_single_use(env: Env) -> None:
    app = register(env)
    code = get_code(env, app)
    access, refresh = tokens_of(exchange(env, app, code))
    text = oauth_error(exchange(env, app, code), 403, "invalid_grant")
    assert text.startswith("Forbidden: ")
    # Replaying a code revokes what it produced (RFC 6749 §4.1.2).
    assert introspect(env, app, access) == {"active": False}
    assert introspect(env, app, refresh) == {"active": False}


def test_redirect_uri_must_match(env: Env) -> None:
    app = register(env)
    code = get_code(env, app)
    mismatch = exchange(env, app, code, redirect_uri=OTHER_CALLBACK)
    assert "redirect_uri" in oauth_error(mismatch, 403, "invalid_grant")
    oauth_error(exchange(env, app, code), 403, "invalid_grant")  # consumed anyway

    missing = token_request(env, app, {"grant_type": "authorization_code", "code": code})
    assert "'redirect_uri'" in oauth_error(missing, 400, "invalid_request")


def test_expired_or_foreign_code(env: Env) -> None:
    app, other = register(env), register(env)
    code = get_code(env, app)
    with env.store.write() as conn:
        conn.execute(update(tokens).where(tokens.c.hash == digest(code)).values(expdate=now() - 1))
    oauth_error(exchange(env, app, code), 403, "invalid_grant")
    foreign = get_code(env, app)
    oauth_error(exchange(env, other, foreign), 403, "invalid_grant")
    oauth_error(exchange(env, app, "0" * 40), 403, "invalid_grant")
    oauth_error(exchange(env, app, "not-a-code"), 403, "invalid_grant")


def _client_error(response: Any) -> str:
    text = oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="main"'
    return text


def test_client_authentication(env: Env) -> None:
    app = register(env)
    grant = {"grant_type": "password", "username": "admin", "password": ADMIN_PW}
    url = f"{OAUTH}/token"
    text = _client_error(env.client(basic("nobody", "x" * 40)).post(url, data=grant))
    assert text == "Unauthorized: Unknown client application"
    _client_error(env.client(basic(app.client_id, "0" * 40)).post(url, data=grant))
    _client_error(env.client().post(url, data={**grant, "client_id": app.client_id}))
    _client_error(env.client().post(url, data=grant))
    mismatch = {**grant, "client_id": app.client_id, "client_secret": "f" * 40}
    _client_error(env.client(app.basic()).post(url, data=mismatch))
    _client_error(env.client({"Authorization": "Bearer abc"}).post(url, data=grant))
    _client_error(env.client({"Authorization": "Basic !!!"}).post(url, data=grant))
    # Basic only, body only, and both in agreement all work.
    tokens_of(env.client(app.basic()).post(url, data=grant))
    tokens_of(env.client().post(url, data={**grant, **app.body()}))
    tokens_of(token_request(env, app, grant))

    with env.store.write() as conn:
        conn.execute(update(applications).where(applications.c.ID == app.id).values(activity=1))
    _client_error(token_request(env, app, grant))


def test_password_grant(env: Env) -> None:
    app = register(env)
    for login in ("admin", "ADMIN@example.com"):
        access, _ = tokens_of(password_grant(env, app, login))
        assert api_status(env, access) == 200
    text = oauth_error(password_grant(env, app, pw="wrong-password"), 403, "invalid_grant")
    assert text == "Forbidden: Invalid credentials"
    missing = token_request(env, app, {"grant_type": "password", "username": "admin"})
    assert "'password'" in oauth_error(missing, 400, "invalid_request")

    # API-only users may use the password grant.
    email = f"{unique('api')}@example.com"
    with env.store.write() as conn:
        user = people.create_user(conn, email=email, password="pass-word-1")
        conn.execute(update(users).where(users.c.ID == user.id).values(apionly=1))
    tokens_of(password_grant(env, app, email, "pass-word-1"))


@pytest.mark.parametrize("grant_type", ["client_credentials", "implicit", "PASSWORD"])
def test_unsupported_grant(env: Env, grant_type: str) -> None:
    app = register(env)
    response = token_request(env, app, {"grant_type": grant_type})
    assert grant_type in oauth_error(response, 400, "unsupported_grant_type")


def test_bad_token_requests(env: Env) -> None:
    app = register(env)
    assert "'grant_type'" in oauth_error(token_request(env, app, {}), 400, "invalid_request")
    oauth_error(
        env.client(app.basic()).post(
            f"{OAUTH}/token", content=b"{nope", headers={"Content-Type": "application/json"}
        ),
        400,
        "invalid_request",
    )
    number = env.client(app.basic()).post(f"{OAUTH}/token", json={"grant_type": 5})
    assert "'grant_type'" in oauth_error(number, 400, "invalid_request")
    twice = env.client(app.basic()).post(
        f"{OAUTH}/token",
        content=b"grant_type=password&grant_type=refresh_token",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "Repeated" in oauth_error(twice, 400, "invalid_request")
    refresh = token_request(env, app, {"grant_type": "refresh_token"})
    assert "'refresh_token'" in oauth_error(refresh, 400, "invalid_request")
    wrong_method = env.client().get(f"{OAUTH}/token")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert env.client().post("/nosuch/oauth2/v1/token", data={}).status_code == 404


def test_each_grant_gets_its_own_pair(env: Env) -> None:
    # A second machine signing in to the same application leaves the first signed in.
    app = register(env)
    first, first_refresh = tokens_of(password_grant(env, app))
    second, second_refresh = tokens_of(password_grant(env, app))
    assert api_status(env, first) == 200 and api_status(env, second) == 200
    # A refresh rotates its own pair only.
    renewed = token_request(
        env, app, {"grant_type": "refresh_token", "refresh_token": first_refresh}
    )
    third, _ = tokens_of(renewed)
    assert api_status(env, first) == 401
    assert introspect(env, app, first_refresh) == {"active": False}
    assert api_status(env, third) == 200
    assert api_status(env, second) == 200
    assert introspect(env, app, second_refresh)["active"] is True


def test_one_pair_setting_revokes_previous_pair(env: Env) -> None:
    from sqlalchemy import delete, insert

    from officina.core.schema import instance_settings
    from officina.zeyos.oauth_grants import ONE_PAIR_SETTING

    with env.store.write() as conn:
        conn.execute(insert(instance_settings).values(key=ONE_PAIR_SETTING, value=True))
    try:
        app, other = register(env), register(env)
        first, first_refresh = tokens_of(password_grant(env, app))
        elsewhere, _ = tokens_of(password_grant(env, other))
        second, _ = tokens_of(password_grant(env, app))
        assert api_status(env, first) == 401
        assert introspect(env, app, first_refresh) == {"active": False}
        assert api_status(env, second) == 200
        assert api_status(env, elsewhere) == 200  # another client's pair is untouched
    finally:
        with env.store.write() as conn:
            conn.execute(
                delete(instance_settings).where(instance_settings.c.key == ONE_PAIR_SETTING)
            )


def test_refresh_token_of_another_client(env: Env) -> None:
    app, other = register(env), register(env)
    _, refresh = tokens_of(password_grant(env, app))
    stolen = token_request(env, other, {"grant_type": "refresh_token", "refresh_token": refresh})
    oauth_error(stolen, 403, "invalid_grant")
    tokens_of(token_request(env, app, {"grant_type": "refresh_token", "refresh_token": refresh}))


def test_revoke(env: Env) -> None:
    app, other = register(env), register(env)
    access, refresh = tokens_of(password_grant(env, app))
    # Unknown, malformed and foreign tokens: 200 and nothing happens.
    for token in ("0" * 40, "junk", access):
        answer = env.client(other.basic()).post(REVOKE, data={"token": token})
        assert answer.status_code == 200 and answer.content == b""
    assert api_status(env, access) == 200
    # Revoking the access token leaves its refresh token usable.
    assert env.client(app.basic()).post(REVOKE, data={"token": access}).status_code == 200
    assert api_status(env, access) == 401
    assert introspect(env, app, refresh)["active"] is True

    missing = env.client(app.basic()).post(REVOKE, data={})
    assert "'token'" in oauth_error(missing, 400, "invalid_request")
    _client_error(env.client().post(REVOKE, data={"token": refresh}))
    _client_error(env.client(basic(app.client_id, "x")).post(REVOKE, json={"token": refresh}))


def test_introspect(env: Env) -> None:
    app, other = register(env), register(env)
    before = now()
    access, refresh = tokens_of(password_grant(env, app))
    info = introspect(env, app, access)
    assert set(info) == {"active", "client_id", "username", "sub", "exp"}
    assert info["active"] is True and info["client_id"] == app.client_id
    assert info["username"] == "admin" and info["sub"] == str(env.admin.user_id)
    assert before + 3600 <= info["exp"] <= now() + 3600
    assert introspect(env, app, refresh)["exp"] >= before + 8640000
    assert introspect(env, other, access) == {"active": False}
    assert introspect(env, app, "f" * 40) == {"active": False}
    body = env.client().post(f"{OAUTH}/introspect", json={"token": access, **app.body()})
    assert body.json()["active"] is True
    _client_error(env.client().post(f"{OAUTH}/introspect", data={"token": access}))


def test_settings_with_oauth_token(env: Env) -> None:
    app = register(
        env, defaultsettings={"theme": "light", "rows": 10}, settings={"rows": 50, "x": [1]}
    )
    access, _ = tokens_of(password_grant(env, app))
    response = env.client(bearer(access)).get(f"{API}/settings")
    assert response.status_code == 200, response.text
    assert response.json() == {"theme": "light", "rows": 50, "x": [1]}
    no_context = env.client(env.admin_headers).get(f"{API}/settings")
    assert no_context.status_code == 403
    assert no_context.text == "Forbidden: Invalid application context"


def test_access_token_dies_with_user_or_application(env: Env) -> None:
    app = register(env)
    email = f"{unique('gone')}@example.com"
    with env.store.write() as conn:
        user = people.create_user(conn, email=email, password="pass-word-1")
    access, refresh = tokens_of(password_grant(env, app, email, "pass-word-1"))
    assert env.client(bearer(access)).get(f"{OAUTH}/userinfo").status_code == 200
    with env.store.write() as conn:
        conn.execute(update(users).where(users.c.ID == user.id).values(activity=1))
    assert env.client(bearer(access)).get(f"{OAUTH}/userinfo").status_code == 401
    assert introspect(env, app, access) == {"active": False}
    again = token_request(env, app, {"grant_type": "refresh_token", "refresh_token": refresh})
    oauth_error(again, 403, "invalid_grant")


def test_restricted_application(env: Env) -> None:
    app = register(env, restricted=True)
    user_id, _ = env.user({"accounts": True})
    email = _email_of(env, user_id)
    refused = password_grant(env, app, email, "pass-word-1")
    oauth_error(refused, 403, "invalid_grant")
    params = callback_params(sign_in(browser(env), app, login=email, password="pass-word-1"))
    assert params["error"] == "access_denied" and "code" not in params

    gid = env.group()
    with env.store.write() as conn:
        people.add_member(conn, gid, user_id, writable=False)
        from officina.core.schema import permissions

        conn.execute(
            permissions.insert().values(
                creationdate=now(), lastmodified=now(), group=gid, application=app.id
            )
        )
    tokens_of(password_grant(env, app, email, "pass-word-1"))
    assert "code" in callback_params(
        sign_in(browser(env), app, login=email, password="pass-word-1")
    )


def _email_of(env: Env, user_id: int) -> str:
    with env.store.read() as conn:
        return str(conn.execute(users.select().where(users.c.ID == user_id)).one().email)


# -- userinfo ---------------------------------------------------------------------------


def _linked_contact(env: Env, user_id: int) -> None:
    contacts = table("contacts")
    with env.store.write() as conn:
        contact_id = conn.execute(
            contacts.insert()
            .values(
                creationdate=now(),
                lastmodified=now(),
                type=1,
                firstname="Ada",
                lastname="Lovelace",
                phone="+44 20 1234",
                birthdate=int(dt.datetime(1985, 12, 9, tzinfo=dt.UTC).timestamp()),
                address="12 St James's Square",
                city="London",
                postalcode="SW1Y 4JH",
                country="GB",
            )
            .returning(contacts.c.ID)
        ).scalar_one()
        conn.execute(
            update(users).where(users.c.ID == user_id).values(contact=contact_id, lang="de")
        )


def test_userinfo(env: Env) -> None:
    app = register(env)
    gid = env.group(unique("Crew"))
    user_id, _ = env.user({"accounts": True, "notes": False}, groups={gid: False})
    email = _email_of(env, user_id)
    access, _ = tokens_of(password_grant(env, app, email, "pass-word-1"))
    plain = env.client(bearer(access)).get(f"{OAUTH}/userinfo")
    assert plain.status_code == 200 and plain.headers["cache-control"].startswith("no-store")
    info = plain.json()
    assert info["sub"] == str(user_id)
    assert info["name"] == info["preferred_username"] == email
    assert info["email"] == email and info["locale"] == "en-US"
    assert info["zoneinfo"] == "Europe/Berlin"
    assert info["nopublic"] is False and info["apionly"] is False
    assert isinstance(info["updated_at"], int)
    assert "given_name" not in info and "address" not in info
    names = {g["id"]: g for g in info["groups"]}
    assert names[gid] == {"id": gid, "name": names[gid]["name"], "writable": False}
    assert names[gid]["name"].startswith("Crew")
    assert next(g for g in info["groups"] if g["id"] != gid)["writable"] is True
    assert info["permissions"] == [
        {"identifier": "accounts", "writable": True},
        {"identifier": "notes", "writable": False},
    ]

    _linked_contact(env, user_id)
    full = env.client(bearer(access)).get(f"{OAUTH}/userinfo/").json()
    assert full["name"] == "Ada Lovelace"
    assert full["given_name"] == "Ada" and full["family_name"] == "Lovelace"
    assert full["phone_number"] == "+44 20 1234" and full["birthdate"] == "1985-12-09"
    assert full["locale"] == "de-DE"
    assert full["address"] == {
        "street_address": "12 St James's Square",
        "locality": "London",
        "region": "",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    }


def test_userinfo_schemes_and_401(env: Env) -> None:
    url = f"{OAUTH}/userinfo"
    admin = env.client(env.admin_headers).get(url).json()
    assert admin["sub"] == str(env.admin.user_id)
    assert {"identifier": "admin", "writable": True} in admin["permissions"]
    login = env.client().post(
        "/main/auth/v1/login", data={"name": "admin", "password": ADMIN_PW, "identifier": "d"}
    )
    legacy = login.json()["token"]
    assert env.client(bearer(legacy)).get(url).json()["sub"] == str(env.admin.user_id)

    bad = env.client(bearer("0" * 40)).get(url)
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("text/plain")
    assert bad.text == "Unauthorized: Invalid bearer token"
    assert bad.headers["www-authenticate"] == 'Bearer realm="main", error="invalid_token"'
    none = env.client().get(url)
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="main"'
    assert env.client().post(url).status_code == 405


@pytest.mark.skipif(
    not (SHARED / "reference" / "zeyos" / "oauth2.json").exists(), reason="vendor reference absent"
)
def test_openapi_matches_contract(env: Env) -> None:
    response = env.client().get(f"{OAUTH}/openapi.json")
    assert response.status_code == 200
    served = response.json()
    vendor = json.loads((SHARED / "reference" / "zeyos" / "oauth2.json").read_text())

    def operations(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
        return {
            (path, method): op["operationId"]
            for path, ops in doc["paths"].items()
            for method, op in ops.items()
        }

    assert operations(served) == operations(vendor)
    assert served["servers"] == [{"url": "/main/oauth2/v1"}]
    for path, ops in vendor["paths"].items():
        for method, op in ops.items():
            assert set(op["responses"]) - {"500"} <= set(served["paths"][path][method]["responses"])


def test_client_secret_is_the_legacy_appsecret(env: Env) -> None:
    """One secret, stored once as a hash, serves both the OAuth and the legacy login API."""
    app = register(env)
    response = env.client().post(
        "/main/auth/v1/login",
        data={"name": "admin", "password": ADMIN_PW, "identifier": "dev", "appsecret": app.secret},
    )
    assert response.status_code == 200, response.text
    assert response.json()["application"] == app.id
    with env.store.read() as conn:
        stored = conn.execute(applications.select().where(applications.c.ID == app.id)).one()
    assert stored.secret == digest(app.secret).hex() and app.secret not in str(stored)
