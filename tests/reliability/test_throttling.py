"""Sign-in throttling that protects the owner: failures are counted per account and client
address, delays grow before an address is refused, a correct password from an address that
has not been failing gets through, and a sprayer across accounts is slowed.

The throttle reads its own clock (``officina.core.clock.now``), so the tests move time on
instead of sleeping through the delays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import clock, people, throttle
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from tests.conftest import Env, basic, unique
from tests.zeyos.oauth_helpers import OAUTH, hidden_fields, open_consent, register

LOGIN = "/main/auth/v1/login"
RIGHT = "right-password-1"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.10"


class Clock:
    def __init__(self, start: int) -> None:
        self.at = start

    def __call__(self) -> int:
        return self.at

    def advance(self, seconds: int) -> None:
        self.at += seconds


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(clock.now())
    monkeypatch.setattr(clock, "now", fake)
    yield fake


@pytest.fixture
def limits() -> Iterator[None]:
    saved = throttle.LIMITS
    yield
    throttle.LIMITS = saved


def _person(env: Env) -> str:
    email = f"{unique('t')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password=RIGHT, name=email)
    return email


def _from(env: Env, address: str, app: Any = None) -> TestClient:
    c = TestClient(app or env.app, client=(address, 40000))
    c.follow_redirects = False
    return c


def _login(client: TestClient, email: str, password: str) -> Any:
    form = {"name": email, "password": password, "identifier": "device"}
    return client.post(LOGIN, data=form)


def _fail_until_refused(client: TestClient, email: str, moved: Clock) -> int:
    """Guess wrong from one address, waiting out each delay, until the address is refused
    for good; returns the number of wrong guesses that were checked."""
    checked = 0
    for _ in range(100):
        r = _login(client, email, "wrong")
        if r.status_code == 401:
            checked += 1
            continue
        assert r.status_code == 429, r.text
        wait = int(r.headers["retry-after"])
        if wait > throttle.MAX_DELAY:
            return checked
        moved.advance(wait)
    raise AssertionError("never refused")


def test_delays_grow_before_the_address_is_refused(env: Env, moved: Clock) -> None:
    email = _person(env)
    c = _from(env, ATTACKER)
    free = throttle.LIMITS.pair_free
    for _ in range(free):
        assert _login(c, email, "wrong").status_code == 401
    waits = []
    for _ in range(throttle.LIMITS.account - free):
        r = _login(c, email, "wrong")
        assert r.status_code == 429
        assert r.text == "Too Many Requests: too many failed sign-ins; try again later"
        waits.append(int(r.headers["retry-after"]))
        # Even the right password is not checked during a delay.
        assert _login(c, email, RIGHT).status_code == 429
        moved.advance(waits[-1])
        assert _login(c, email, "wrong").status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60][: len(waits)]
    refused = _login(c, email, RIGHT)
    assert refused.status_code == 429
    assert throttle.MAX_DELAY < int(refused.headers["retry-after"]) <= throttle.LIMITS.window
    # The window passes: the address may try again.
    moved.advance(throttle.LIMITS.window)
    assert _login(c, email, RIGHT).status_code == 200


def test_an_attacker_address_cannot_lock_out_the_owner(env: Env, moved: Clock) -> None:
    email = _person(env)
    attacker = _from(env, ATTACKER)
    assert _fail_until_refused(attacker, email, moved) == throttle.LIMITS.account
    assert _login(attacker, email, RIGHT).status_code == 429
    owner = _from(env, OWNER)
    assert _login(owner, email, RIGHT).status_code == 200
    # On every face, with Basic credentials, the owner's address gets through.
    for path in FACE_READS:
        assert owner.get(path, headers=basic(email, RIGHT)).status_code != 429, path
        assert attacker.get(path, headers=basic(email, RIGHT)).status_code == 429, path
    # The refusal is kept in the store: another worker (another app over its own
    # connections) refuses the attacker's address as well, and lets the owner in.
    others = Instances(env.settings, prepare=upgrade)
    try:
        app = build_app(env.settings, others)
        assert _login(_from(env, ATTACKER, app), email, RIGHT).status_code == 429
        assert _login(_from(env, OWNER, app), email, RIGHT).status_code == 200
    finally:
        others.close()


def test_a_correct_password_clears_only_its_own_address(env: Env, moved: Clock) -> None:
    email = _person(env)
    c = _from(env, OWNER)
    for _ in range(throttle.LIMITS.pair_free):
        assert _login(c, email, "wrong").status_code == 401
    moved.advance(1)
    assert _login(c, email, RIGHT).status_code == 200
    for _ in range(throttle.LIMITS.pair_free):
        assert _login(c, email, "wrong").status_code == 401
    moved.advance(1)
    assert _login(c, email, RIGHT).status_code == 200


def test_a_password_sprayer_is_slowed_then_refused(env: Env, moved: Clock, limits: None) -> None:
    throttle.configure(account=10, address=20, window=900)
    sprayer = _from(env, ATTACKER)
    free = throttle.LIMITS.address_free
    for _ in range(free):
        assert _login(sprayer, f"{unique('nobody')}@example.com", "x").status_code == 401
    # Each further guess, at any account, waits a growing delay.
    slowed = _login(sprayer, f"{unique('nobody')}@example.com", "x")
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"
    guesses = free
    for _ in range(40):
        r = _login(sprayer, f"{unique('nobody')}@example.com", "x")
        if r.status_code == 401:
            guesses += 1
            continue
        wait = int(r.headers["retry-after"])
        if wait > throttle.MAX_DELAY:
            break
        moved.advance(wait)
    assert guesses == 20
    # Refused now even for a real account with its right password...
    email = _person(env)
    assert _login(sprayer, email, RIGHT).status_code == 429
    # ...while another address is untouched.
    assert _login(_from(env, OWNER), email, RIGHT).status_code == 200


def test_many_addresses_guessing_one_account(env: Env, moved: Clock, limits: None) -> None:
    throttle.configure(account=3, address=100, window=900)
    email = _person(env)
    wide = throttle.LIMITS.account_wide
    for n in range(wide):
        assert _login(_from(env, f"192.0.2.{n + 1}"), email, "wrong").status_code == 401
    # Every address that has failed for the account is refused now, even with the password.
    r = _login(_from(env, "192.0.2.1"), email, RIGHT)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > throttle.MAX_DELAY
    # An address that has not been failing still gets through with the right password.
    assert _login(_from(env, OWNER), email, RIGHT).status_code == 200


def test_oauth_password_grant_is_throttled(env: Env, moved: Clock) -> None:
    email = _person(env)
    app = register(env)
    c = _from(env, ATTACKER)
    grant = {"grant_type": "password", "username": email, **app.body()}
    for _ in range(throttle.LIMITS.pair_free):
        r = c.post(f"{OAUTH}/token", data={**grant, "password": "wrong"})
        assert r.status_code == 403 and r.json()["error"] == "invalid_grant", r.text
    r = c.post(f"{OAUTH}/token", data={**grant, "password": RIGHT})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json()["error_description"].startswith("Too Many Requests")
    owner = _from(env, OWNER).post(f"{OAUTH}/token", data={**grant, "password": RIGHT})
    assert owner.status_code == 200, owner.text


def test_oauth_sign_in_form_is_throttled(env: Env, moved: Clock) -> None:
    email = _person(env)
    app = register(env)
    client = _from(env, ATTACKER)

    def submit(password: str) -> Any:
        fields = hidden_fields(open_consent(client, app).text)
        form = {**fields, "login": email, "password": password, "decision": "allow"}
        return client.post(f"{OAUTH}/consent", data=form)

    for _ in range(throttle.LIMITS.pair_free):
        wrong = submit("wrong")
        assert wrong.status_code == 200 and "Invalid credentials" in wrong.text
    blocked = submit(RIGHT)
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "1"
    assert "Too many failed sign-ins" in blocked.text
    assert blocked.headers["cache-control"] == "no-store"
    moved.advance(1)
    assert submit(RIGHT).status_code == 303


# One protected read on every face; the password is checked on each request.
FACE_READS = [
    "/main/api/v1/accounts/1",
    "/main/auth/v1/",
    "/main/flow/api/v1/users",
    "/main/goana/api/v1/jobs",
    "/main/oauth2/v1/userinfo",
]


def test_basic_passwords_are_throttled_on_every_face(env: Env, moved: Clock) -> None:
    email = _person(env)
    c = _from(env, ATTACKER)
    wrong = basic(email, "wrong")
    for n in range(throttle.LIMITS.pair_free):
        path = FACE_READS[n % len(FACE_READS)]
        assert c.get(path, headers=wrong).status_code == 401, path
    right = basic(email, RIGHT)
    for path in FACE_READS:
        r = c.get(path, headers=right)
        assert r.status_code == 429, (path, r.status_code)
        assert r.headers["retry-after"] == "1"
    # Guesses through Basic and through the sign-in endpoint are one count.
    assert _login(c, email, RIGHT).status_code == 429
    # API keys are not passwords: the administrator's key still works, as a bearer too.
    assert c.get("/main/auth/v1/", headers=env.admin_headers).status_code == 200
    bearer = {"Authorization": f"Bearer {env.admin.api_key}"}
    assert c.get("/main/auth/v1/", headers=bearer).status_code == 200


def test_public_routes_do_not_clear_the_count(env: Env, moved: Clock) -> None:
    email = _person(env)
    c = _from(env, ATTACKER)
    for _ in range(throttle.LIMITS.pair_free):
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
    assert keys == {
        "account:someone@example.com",
        "address:192.0.2.1",
        "pair:someone@example.com|192.0.2.1",
    }
