"""Authentication everywhere and instances sealed off from each other, for every face."""

from __future__ import annotations

import re
from typing import Any

import pytest

from officina.core.bootstrap import create_instance
from tests.conftest import Env, basic, unique

FACES = {
    "records": "/main/api/v1",
    "auth": "/main/auth/v1",
    "oauth2": "/main/oauth2/v1",
    "projects": "/main/flow/api/v1",
    "jobs": "/main/goana/api/v1",
}
# Operations that are reachable without a user's credentials by design: signing in, the
# OAuth endpoints that authenticate the client application themselves, and the docs.
PUBLIC = {
    ("auth", "POST", "/login"),
    ("oauth2", "GET", "/authorize"),
    ("oauth2", "POST", "/authorize"),
    ("oauth2", "POST", "/token"),
    ("oauth2", "POST", "/revoke"),
    ("oauth2", "POST", "/introspect"),
}
UUID = "0123456789ABCDEF0123456789ABCDEF"


def _operations(env: Env) -> list[tuple[str, str, str]]:
    client = env.client(base_url="https://testserver")
    found = []
    for face, base in FACES.items():
        doc = client.get(f"{base}/openapi.json")
        assert doc.status_code == 200, face
        for path, ops in doc.json()["paths"].items():
            for method in ops:
                if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    found.append((face, method.upper(), path))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: UUID if "id" in m.group(0).lower() else "x1", path)


def test_every_operation_requires_credentials(env: Env) -> None:
    ops = _operations(env)
    assert len(ops) > 400
    client = env.client(base_url="https://testserver")
    open_ops = []
    for face, method, path in ops:
        if (face, method, path) in PUBLIC:
            continue
        url = FACES[face] + _concrete(path)
        body: Any = {} if method in ("POST", "PUT", "PATCH") else None
        r = client.request(method, url, json=body)
        if r.status_code != 401:
            open_ops.append((face, method, path, r.status_code))
    assert open_ops == []


@pytest.fixture
def other(env: Env) -> dict[str, Any]:
    name = unique("other")
    creds = create_instance(env.instances, name, "admin@example.com", "other-pass-123")
    return {"name": name, "key": creds.api_key}


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
            r = c.request(method, path, headers=headers, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.status_code)
        for method, path, body in writes:
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
