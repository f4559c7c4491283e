"""A JSON syntax error names its line and column on every face, each in its own dialect."""

from __future__ import annotations

from starlette.testclient import TestClient

from officina.core.json_errors import located, position
from tests.conftest import Env
from tests.goana.helpers import admin as goana_admin

# The third line's seventh character is where the colon is missing.
BROKEN = b'{\n  "name": "Lightexx AG",\n  "b" 2\n}'
JSON = {"Content-Type": "application/json"}


def test_records_face(env: Env, admin: TestClient) -> None:
    r = admin.put("/main/api/v1/accounts", content=BROKEN, headers=JSON)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == "Bad Request: Malformed JSON at line 3, column 7"
    r = admin.post("/main/api/v1/accounts", content=b'{"limit": 1,}', headers=JSON)
    assert r.text == "Bad Request: Malformed JSON at line 1, column 12"  # the trailing comma


def test_projects_face(env: Env, admin: TestClient) -> None:
    r = admin.post("/main/flow/api/v1/customers", content=BROKEN, headers=JSON)
    assert r.status_code == 400
    assert r.json() == {
        "status": 400,
        "code": "bad_request",
        "message": "the body is not valid JSON at line 3, column 7",
        "errors": [],
    }


def test_jobs_face(env: Env) -> None:
    r = goana_admin(env).post("/main/goana/api/v1/teams", content=BROKEN, headers=JSON)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == {"body": ["the body is not valid JSON at line 3, column 7"]}


def test_position_counts_characters_from_one() -> None:
    assert position("", 0) == (1, 1)
    assert position('{"ä": x}', 6) == (1, 7)
    assert position("{\n\n  x", 5) == (3, 3)
    assert position(b"[\n1,\n", 99) == (3, 1)  # past the end: the end
    assert located("bad", None, 3) == "bad"
    assert located("bad", "abc", 1) == "bad at line 1, column 2"
