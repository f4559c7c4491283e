"""A walk over every operation of every face the app serves, found from its routes."""

from __future__ import annotations

import re

from starlette.applications import Starlette

from tests.conftest import Env

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


def faces(app: Starlette) -> set[str]:
    """Every face served below an instance, as found in the app's routes: the path up to
    the version segment. A face mounted later is walked without changing the tests."""
    found = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/{instance}/"):
            continue
        version = re.match(r"^/\{instance\}(/.*?/v\d+)(?:/|$)", path)
        assert version, f"route outside a versioned face: {path}"
        found.add(version.group(1))
    return found


def operations(env: Env) -> list[tuple[str, str, str, bool]]:
    """(face, method, path below the face, documented) for every operation of every face:
    those its OpenAPI document lists, and every method of the app's own routes (where an
    undocumented method may answer 405)."""
    client = env.client(base_url="https://testserver")
    served = faces(env.app)
    assert served >= KNOWN, served
    found: set[tuple[str, str, str, bool]] = set()
    for face in served:
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
        face = next(f for f in served if path.startswith("/{instance}" + f))
        below = path.removeprefix("/{instance}" + face) or "/"
        for method in methods & set(METHODS):
            if (face, method, below, True) not in found:
                found.add((face, method, below, False))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(
        r"\{[^}]+\}",
        lambda m: (
            "accounts" if m.group(0) == "{entity}" else UUID if "id" in m.group(0).lower() else "x1"
        ),
        path,
    )


def public(face: str, method: str, path: str) -> bool:
    return path == DOCS or (face, method, path) in PUBLIC
