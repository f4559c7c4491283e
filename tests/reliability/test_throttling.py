"""Sign-in throttling: per account and per address, kept in the store, 429 + Retry-After."""

from __future__ import annotations

from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people, throttle
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from tests.conftest import Env, unique
from tests.zeyos.oauth_helpers import OAUTH, register

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
