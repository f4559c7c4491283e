"""Authentication everywhere and instances sealed off from each other, for every face."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette

from officina.core.auth import SESSION_COOKIE
from officina.core.bootstrap import create_instance
from officina.core.sessions import create_session
from tests.conftest import Env, basic, unique

# Operations reachable without a user's credentials by design, per face (the path below the
# face's base): signing in, the OAuth endpoints that authenticate the client application
# themselves, the OAuth sign-in page, and the OpenAPI documents.
PUBLIC = {
    ("/auth/v1", "POST", "/login"),
    ("/oauth2/v1", "GET", "/authorize"),
    ("/oauth2/v1", "HEAD", "/authorize"),
    ("/oauth2/v1", "POST", "/authorize"),
    ("/oauth2/v1", "GET", "/consent"),
    ("/oauth2/v1", "HEAD", "/consent"),
    ("/oauth2/v1", "POST", "/consent"),
    ("/oauth2/v1", "POST", "/token"),
    ("/oauth2/v1", "POST", "/revoke"),
    ("/oauth2/v1", "POST", "/introspect"),
}
DOCS = "/openapi.json"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
UUID = "0123456789ABCDEF0123456789ABCDEF"
# Faces that must be found, so that a broken walk cannot pass by finding nothing.
KNOWN = {"/api/v1", "/auth/v1", "/oauth2/v1", "/flow/api/v1", "/goana/api/v1"}


def _faces(app: Starlette) -> set[str]:
    """Every face served below an instance, as found in the app's routes: the path up to
    the version segment. A face mounted later is walked without changing this test."""
    found = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/{instance}/"):
            continue
        version = re.match(r"^/\{instance\}(/.*?/v\d+)(?:/|$)", path)
        assert version, f"route outside a versioned face: {path}"
        found.add(version.group(1))
    return found


def _operations(env: Env) -> list[tuple[str, str, str, bool]]:
    """(face, method, path below the face, documented) for every operation of every face:
    those its OpenAPI document lists, and every method of the app's own routes (where an
    undocumented method may answer 405)."""
    client = env.client(base_url="https://testserver")
    faces = _faces(env.app)
    assert faces >= KNOWN, faces
    found: set[tuple[str, str, str, bool]] = set()
    for face in faces:
        doc = client.get(f"/main{face}{DOCS}")
        assert doc.status_code == 200, f"every face publishes its operations: {face}"
        for path, ops in doc.json()["paths"].items():
            for method in ops:
                if method.upper() in METHODS:
                    found.add((face, method.upper(), path.rstrip("/") or "/", True))
    for route in env.app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None)
        if not path.startswith("/{instance}/") or not methods or path.endswith("/"):
            continue
        face = next(f for f in faces if path.startswith("/{instance}" + f))
        below = path.removeprefix("/{instance}" + face) or "/"
        for method in methods & set(METHODS):
            if (face, method, below, True) not in found:
                found.add((face, method, below, False))
    return sorted(found)


def _concrete(path: str) -> str:
    return re.sub(
        r"\{[^}]+\}",
        lambda m: (
            "accounts" if m.group(0) == "{entity}" else UUID if "id" in m.group(0).lower() else "x1"
        ),
        path,
    )


def _public(face: str, method: str, path: str) -> bool:
    return path == DOCS or (face, method, path) in PUBLIC


def _refusals(env: Env, headers: dict[str, str] | None) -> list[tuple[str, str, str, int]]:
    """Operations that did not refuse the caller with 401 (405 for undocumented methods)."""
    client = env.client(headers, base_url="https://testserver")
    ops = _operations(env)
    assert len(ops) > 400
    wrong = []
    for face, method, path, documented in ops:
        if _public(face, method, path):
            continue
        body: Any = {} if method in ("POST", "PUT", "PATCH") else None
        r = client.request(method, f"/main{face}{_concrete(path)}", json=body)
        allowed = {401} if documented else {401, 405}
        if r.status_code not in allowed:
            wrong.append((face, method, path, r.status_code))
    return wrong


def test_every_operation_requires_credentials(env: Env) -> None:
    assert _refusals(env, None) == []


@pytest.fixture
def other(env: Env) -> dict[str, Any]:
    name = unique("other")
    creds = create_instance(env.instances, name, "admin@example.com", "other-pass-123")
    with env.instances.get(name).write() as conn:
        session = create_session(conn, creds.user_id, "127.0.0.1")
    return {"name": name, "key": creds.api_key, "session": session}


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
