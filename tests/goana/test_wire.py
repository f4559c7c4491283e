"""Wire rules of the jobs face: bodies, media types, methods, unknown paths and instances."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from officina.app import build_app
from tests.conftest import Env
from tests.goana.helpers import BASE, admin, problem_fields


def test_bodies_must_be_json(env: Env) -> None:
    c = admin(env)
    r = c.post(f"{BASE}/teams", content=b"Name=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = c.post(f"{BASE}/teams", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and problem_fields(r) == {"body"}
    r = c.post(f"{BASE}/teams", content=b'{"Name": "NoType"}')  # no Content-Type: read as JSON
    assert r.status_code == 201
    r = c.post(f"{BASE}/teams", json=["a"])
    assert r.status_code == 400 and problem_fields(r) == {"body"}
    r = c.post(f"{BASE}/teams", json={"Name": 5})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}


def test_body_size_limit(env: Env) -> None:
    """The server's one body limit (``max_body_bytes``), not a limit of the face's own."""
    strict = dataclasses.replace(env.settings, max_body_bytes=2000)
    c = TestClient(build_app(strict, env.instances), headers=env.admin_headers)
    r = c.post(
        f"{BASE}/contacts",
        content=b"x" * 2001,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["detail"] == "the body is larger than 2000 bytes"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_methods_paths_and_instances(env: Env) -> None:
    c = admin(env)
    r = c.patch(f"{BASE}/jobs", json={})
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, POST"
    assert c.get(f"{BASE}/nothing-here").status_code == 404
    r = c.get("/nosuchinstance/goana/api/v1/jobs")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert c.head(f"{BASE}/jobs").status_code == 200
    assert c.get(f"{BASE}/JOBTEMPLATES").status_code == 200


def test_errors_never_leak_internals(env: Env) -> None:
    c = admin(env)
    r = c.post(f"{BASE}/jobs", json={"JobTemplateId": 2**40})
    assert r.status_code == 400 and problem_fields(r) == {"JobTemplateId"}
    r = c.get(f"{BASE}/jobs", params={"plannedFrom": "yesterday"})
    assert r.status_code == 400 and problem_fields(r) == {"plannedFrom"}
    assert "Traceback" not in r.text and "SELECT" not in r.text
