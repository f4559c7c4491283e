"""The credential commands against a fresh store, checked through real HTTP on the records,
projects and jobs faces: unlock, password, sessions, revoke-tokens, API keys, one-pair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import clock
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from tests.test_cli import Cli, cli, credentials_line  # noqa: F401 - the fixture

FACES = ("/main/api/v1/config", "/main/flow/api/v1/users", "/main/goana/api/v1/jobs")
ADMIN = "admin@example.com"


@pytest.fixture
def served(cli: Cli) -> Iterator[tuple[Cli, dict[str, Any], TestClient]]:  # noqa: F811
    creds = credentials_line(cli.ok("init").stdout)
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        client = TestClient(build_app(cli.settings, instances), base_url="https://testserver")
        yield cli, creds, client
    finally:
        instances.close()


def _statuses(client: TestClient, headers: dict[str, str]) -> list[int]:
    return [client.get(path, headers=headers).status_code for path in FACES]


def _login(client: TestClient, password: str, device: str = "d") -> str:
    form = {"name": ADMIN, "password": password, "identifier": device}
    r = client.post("/main/auth/v1/login", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_password_sessions_and_revoke_tokens(served: Any) -> None:
    run, creds, client = served
    token = _login(client, creds["password"])
    assert _statuses(client, bearer(token)) == [200, 200, 200]
    listed = run.json("user", "sessions", "--email", ADMIN)
    assert [(r["kind"], r["device"]) for r in listed] == [("login", "d")]

    changed = run.json("user", "password", "--email", ADMIN, "--password", "new-pass-123")
    assert changed == {"instance": "main", "email": ADMIN, "ended": 1}
    assert _statuses(client, bearer(token)) == [401, 401, 401]
    assert run.json("user", "sessions", "--email", ADMIN) == []
    assert "at least 8" in run.fails("user", "password", "--email", ADMIN, "--password", "short")

    second = _login(client, "new-pass-123")
    ended = run.json("user", "revoke-tokens", "--email", ADMIN)
    assert ended["ended"] == 1
    assert _statuses(client, bearer(second)) == [401, 401, 401]
    # The API key was not a sign-in: it still works.
    assert _statuses(client, bearer(creds["api_key"])) == [200, 200, 200]


def test_apikey_list_and_revoke(served: Any) -> None:
    run, creds, client = served
    extra = run.json("apikey", "create", "--email", ADMIN, "--label", "ci")["api_key"]
    keys = run.json("apikey", "list")
    assert [(k["email"], k["label"], k["revoked"]) for k in keys] == [
        (ADMIN, "created at first start", None),
        (ADMIN, "ci", None),
    ]
    assert extra not in str(keys) and creds["api_key"] not in str(keys)
    assert _statuses(client, bearer(extra)) == [200, 200, 200]
    revoked = run.json("apikey", "revoke", str(keys[1]["id"]))
    assert revoked == {"instance": "main", "id": keys[1]["id"], "revoked": True}
    assert _statuses(client, bearer(extra)) == [401, 401, 401]
    assert _statuses(client, bearer(creds["api_key"])) == [200, 200, 200]
    assert "no live API key" in run.fails("apikey", "revoke", str(keys[1]["id"]))
    assert [k["revoked"] is None for k in run.json("apikey", "list", "--email", ADMIN)] == [
        True,
        False,
    ]


def test_user_unlock(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run, creds, client = served
    # Time stands still, so the delay after the third failure is still running.
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)
    form = {"name": ADMIN, "password": "wrong", "identifier": "d"}
    statuses = [client.post("/main/auth/v1/login", data=form).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    right = {**form, "password": creds["password"]}
    assert client.post("/main/auth/v1/login", data=right).status_code == 429
    data = run.json("user", "unlock", "--email", ADMIN, "--address", "testclient")
    assert data["cleared"] == 3
    assert client.post("/main/auth/v1/login", data=right).status_code == 200
    assert "no user" in run.fails("user", "unlock", "--email", "ghost@example.com")


def test_app_one_pair(served: Any) -> None:
    run, creds, client = served
    assert run.json("app", "one-pair", "on") == {"instance": "main", "one_pair": True}
    app = run.json(
        "app", "create", "--name", "A", "--identifier", "a1", "--callback", "https://a.example/cb"
    )
    grant = {
        "grant_type": "password",
        "username": ADMIN,
        "password": creds["password"],
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    first = client.post("/main/oauth2/v1/token", data=grant).json()["access_token"]
    second = client.post("/main/oauth2/v1/token", data=grant).json()["access_token"]
    assert _statuses(client, bearer(first)) == [401, 401, 401]
    assert _statuses(client, bearer(second)) == [200, 200, 200]
    assert run.json("app", "one-pair", "off") == {"instance": "main", "one_pair": False}
    third = client.post("/main/oauth2/v1/token", data=grant).json()["access_token"]
    assert _statuses(client, bearer(second)) == [200, 200, 200]
    assert _statuses(client, bearer(third)) == [200, 200, 200]
    assert "invalid state" in run.fails("app", "one-pair", "maybe")
