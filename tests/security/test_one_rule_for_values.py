"""The projects and jobs faces hold values to the same rule as the records face, on both
stores: a NUL character anywhere in a body is refused with 400 naming the field, and the
non-standard JSON numbers NaN and Infinity are bad JSON; nothing is written either way."""

from __future__ import annotations

from tests.conftest import Env
from tests.goana.helpers import admin as jobs_admin

FLOW = "/main/flow/api/v1"
JOBS = "/main/goana/api/v1"
JSON = {"Content-Type": "application/json"}


def test_projects_face_refuses_nul_and_nan(env: Env, admin) -> None:
    before = admin.get(f"{FLOW}/customers").json()
    r = admin.post(f"{FLOW}/customers", json={"name": "a\u0000b"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"] == [{"field": "name", "message": "must not contain NUL characters"}]
    r = admin.post(f"{FLOW}/customers", content=b'{"name": "x", "maxEffort": NaN}', headers=JSON)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_request"
    assert r.json()["message"] == "the body is not valid JSON at line 1, column 28"
    r = admin.post(
        f"{FLOW}/customers", content=b'{"name": "x", "maxEffort": -Infinity}', headers=JSON
    )
    assert r.status_code == 400, r.text
    assert admin.get(f"{FLOW}/customers").json() == before
    made = admin.post(f"{FLOW}/customers", json={"name": "Plain"})
    assert made.status_code == 201, made.text


def test_jobs_face_refuses_nul(env: Env) -> None:
    admin = jobs_admin(env)
    r = admin.post(f"{JOBS}/teams", json={"Name": "Night\u0000shift"})
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == {"Name": ["must not contain NUL characters"]}
    r = admin.post(f"{JOBS}/teams", content=b'{"Name": NaN}', headers=JSON)
    assert r.status_code == 400, r.text
    assert admin.get(f"{JOBS}/teams/Night").status_code == 404
    assert admin.post(f"{JOBS}/teams", json={"Name": "Night"}).status_code == 201
