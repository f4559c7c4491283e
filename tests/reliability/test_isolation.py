"""Authentication everywhere and instances sealed off from each other, for every face."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from officina.core import throttle
from officina.core.auth import SESSION_COOKIE
from officina.core.bootstrap import create_instance
from officina.core.sessions import create_session
from tests.conftest import Env, basic, unique
from tests.reliability.routes import concrete, operations, public


def _refusals(env: Env, headers: dict[str, str] | None) -> list[tuple[str, str, str, int]]:
    """Operations that did not refuse the caller with 401 (405 for undocumented methods)."""
    client = env.client(headers, base_url="https://testserver")
    ops = operations(env)
    assert len(ops) > 400
    wrong = []
    for face, method, path, documented in ops:
        if public(face, method, path):
            continue
        body: Any = {} if method in ("POST", "PUT", "PATCH") else None
        r = client.request(method, f"/main{face}{concrete(path)}", json=body)
        allowed = {401} if documented else {401, 405}
        if r.status_code not in allowed:
            wrong.append((face, method, path, r.status_code))
    return wrong


def test_every_operation_requires_credentials(env: Env) -> None:
    assert _refusals(env, None) == []


@pytest.fixture
def other(env: Env) -> Iterator[dict[str, Any]]:
    name = unique("other")
    creds = create_instance(env.instances, name, "admin@example.com", "other-pass-123")
    with env.instances.get(name).write() as conn:
        session = create_session(conn, creds.user_id, "127.0.0.1")
    yield {"name": name, "key": creds.api_key, "session": session}
    env.instances.drop(name)


def test_another_instances_key_token_and_session_open_no_operation(
    env: Env, other: dict[str, Any]
) -> None:
    login = env.client().post(
        f"/{other['name']}/auth/v1/login",
        data={"name": "admin@example.com", "password": "other-pass-123", "identifier": "x"},
    )
    assert login.status_code == 200
    for headers in (
        basic("api", other["key"]),
        {"Authorization": f"Bearer {login.json()['token']}"},
        {"Cookie": f"{SESSION_COOKIE}={other['session']}"},
    ):
        assert _refusals(env, headers) == [], headers


def test_another_instances_credentials_open_nothing(env: Env, other: dict[str, Any]) -> None:
    c = env.client(base_url="https://testserver")
    schemes = [
        basic("api", other["key"]),
        basic("admin@example.com", "other-pass-123"),
    ]
    login = c.post(
        f"/{other['name']}/auth/v1/login",
        data={"name": "admin@example.com", "password": "other-pass-123", "identifier": "x"},
    )
    assert login.status_code == 200
    schemes.append({"Authorization": f"Bearer {login.json()['token']}"})
    reads = [
        ("GET", "/main/auth/v1/"),
        ("POST", "/main/api/v1/accounts"),
        ("GET", "/main/flow/api/v1/users"),
        ("GET", "/main/goana/api/v1/jobs"),
        ("GET", "/main/oauth2/v1/userinfo"),
    ]
    writes = [
        ("PUT", "/main/api/v1/accounts", {"lastname": "Intruder", "currency": "EUR"}),
        ("POST", "/main/flow/api/v1/customers", {"name": "Intruder"}),
        ("POST", "/main/goana/api/v1/teams", {"Name": "Intruders"}),
    ]
    for headers in schemes:
        for method, path in reads:
            # Repeated wrong passwords from one address are slowed down (429) after a few:
            # cleared here, so that each answer is the credentials' own.
            throttle.forget_account(env.store, "admin@example.com")
            r = c.request(method, path, headers=headers, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.status_code)
        for method, path, body in writes:
            throttle.forget_account(env.store, "admin@example.com")
            r = c.request(method, path, headers=headers, json=body)
            assert r.status_code == 401, (method, path, r.status_code)
    # The same credentials work at home, and nothing reached instance main.
    home = c.get(f"/{other['name']}/goana/api/v1/teams", headers=schemes[0])
    assert home.status_code == 200
    admin = env.client(env.admin_headers, base_url="https://testserver")
    names = [
        t["Name"] for t in admin.get("/main/goana/api/v1/teams", params={"pageSize": 1000}).json()
    ]
    assert "Intruders" not in names
    assert admin.post("/main/api/v1/accounts", json={"count": True}).json()["count"] == 0
