"""Sign-in throttling: per account and per address, kept in the store, 429 + Retry-After."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people, throttle
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from tests.conftest import Env, basic, unique
from tests.zeyos.oauth_helpers import OAUTH, browser, hidden_fields, open_consent, register

LOGIN = "/main/auth/v1/login"


def _person(env: Env) -> str:
    email = f"{unique('t')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password="right-password-1", name=email)
    return email


def _login(client: TestClient, email: str, password: str) -> int:
    form = {"name": email, "password": password, "identifier": "device"}
    return client.post(LOGIN, data=form).status_code


def test_login_is_throttled_per_account(env: Env) -> None:
    email, bystander = _person(env), _person(env)
    c = env.client()
    for _ in range(throttle.LIMITS.account):
        assert _login(c, email, "wrong") == 401
    blocked = c.post(LOGIN, data={"name": email, "password": "right-password-1", "identifier": "d"})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= throttle.LIMITS.window
    # The block is kept in the store: another worker process (here, another app over its
    # own connections) refuses the account as well.
    others = Instances(env.settings, prepare=upgrade)
    try:
        other_worker = TestClient(build_app(env.settings, others))
        assert _login(other_worker, email, "right-password-1") == 429
    finally:
        others.close()
    assert _login(c, bystander, "right-password-1") == 200


def test_success_resets_the_account_count(env: Env) -> None:
    email = _person(env)
    c = env.client()
    for _ in range(throttle.LIMITS.account - 1):
        assert _login(c, email, "wrong") == 401
    assert _login(c, email, "right-password-1") == 200
    for _ in range(throttle.LIMITS.account - 1):
        assert _login(c, email, "wrong") == 401
    assert _login(c, email, "right-password-1") == 200


def test_addresses_are_throttled_across_accounts(env: Env) -> None:
    saved = throttle.LIMITS
    throttle.configure(account=100, address=5, window=60)
    try:
        c = env.client()
        for _ in range(5):
            assert _login(c, f"{unique('nobody')}@example.com", "x") == 401
        assert _login(c, _person(env), "right-password-1") == 429
    finally:
        throttle.LIMITS = saved


def test_oauth_password_grant_and_login_form_are_throttled(env: Env) -> None:
    email = _person(env)
    app = register(env)
    c = env.client()
    grant = {"grant_type": "password", "username": email, **app.body()}
    for _ in range(throttle.LIMITS.account):
        r = c.post(f"{OAUTH}/token", data={**grant, "password": "wrong"})
        assert r.status_code in (400, 401, 403), r.text
    r = c.post(f"{OAUTH}/token", data={**grant, "password": "right-password-1"})
    assert r.status_code == 429 and "retry-after" in r.headers
    assert r.json()["error"]


def test_oauth_sign_in_form_is_throttled(env: Env) -> None:
    email = _person(env)
    app = register(env)
    client = browser(env)

    def submit(password: str) -> Any:
        fields = hidden_fields(open_consent(client, app).text)
        form = {**fields, "login": email, "password": password, "decision": "allow"}
        return client.post(f"{OAUTH}/consent", data=form)

    for _ in range(throttle.LIMITS.account):
        wrong = submit("wrong")
        assert wrong.status_code == 200 and "Invalid credentials" in wrong.text
    blocked = submit("right-password-1")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    assert blocked.headers["cache-control"] == "no-store"


# One protected read on every face; the password is checked on each request.
FACE_READS = [
    "/main/api/v1/accounts/1",
    "/main/auth/v1/",
    "/main/flow/api/v1/users",
    "/main/goana/api/v1/jobs",
    "/main/oauth2/v1/userinfo",
]


def test_basic_passwords_are_throttled_on_every_face(env: Env) -> None:
    email = _person(env)
    c = env.client()
    wrong = basic(email, "wrong")
    for n in range(throttle.LIMITS.account):
        path = FACE_READS[n % len(FACE_READS)]
        assert c.get(path, headers=wrong).status_code == 401, path
    right = basic(email, "right-password-1")
    for path in FACE_READS:
        r = c.get(path, headers=right)
        assert r.status_code == 429, (path, r.status_code)
        assert int(r.headers["retry-after"]) > 0
    # Guesses through Basic and through the sign-in endpoint are one count.
    assert _login(c, email, "right-password-1") == 429
    # API keys are not passwords: the administrator's key still works.
    assert c.get("/main/auth/v1/", headers=env.admin_headers).status_code == 200


def test_public_routes_do_not_clear_the_count(env: Env) -> None:
    email = _person(env)
    c = env.client()
    for _ in range(throttle.LIMITS.account):
        assert c.get("/main/goana/api/v1/jobs", headers=basic(email, "wrong")).status_code == 401
        c.get("/main/api/v1/openapi.json", headers=basic(email, "wrong"))
    assert c.get("/main/goana/api/v1/jobs", headers=basic(email, "wrong")).status_code == 429


def test_oauth_client_authentication_is_not_a_user_password(env: Env) -> None:
    app = register(env)
    c = env.client()
    bad = basic(app.client_id, "not-the-secret")
    for _ in range(throttle.LIMITS.account + 2):
        r = c.post(f"{OAUTH}/token", data={"grant_type": "client_credentials"}, headers=bad)
        assert r.status_code == 401, r.text


def test_expired_counters_are_swept(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    with env.store.write() as conn:
        conn.execute(
            insert(throttle.login_failures),
            [{"key": f"account:old{n}", "window_start": 0, "failures": 3} for n in range(5)],
        )
    monkeypatch.setattr(throttle, "SWEEP_ONE_IN", 1)
    throttle.record_failure(env.store, "someone@example.com", "192.0.2.1")
    with env.store.read() as conn:
        keys = {r.key for r in conn.execute(select(throttle.login_failures.c.key))}
    assert keys == {"account:someone@example.com", "address:192.0.2.1"}
