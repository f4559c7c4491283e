"""The face's HTTP dialect: authentication, permissions, errors, limits, OpenAPI, If-Match,
and the complex-search grammar."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people
from officina.core.sessions import create_session
from tests.conftest import basic, unique
from tests.flow.helpers import API, MISSING, count, error, get, new, project

# Route table §2.1: the 71 operations of the seed.
SEED_OPERATIONS = {
    ("get", "/customers"),
    ("post", "/customers"),
    ("get", "/customers/{customerId}"),
    ("put", "/customers/{customerId}"),
    ("patch", "/customers/{customerId}"),
    ("delete", "/customers/{customerId}"),
    ("get", "/customers/search/{ident}/{value}"),
    ("post", "/customers/search"),
    ("put", "/nodes/{nodeId}/archive/{archive}"),
    ("get", "/timeTrackingRecords"),
    ("post", "/timeTrackingRecords"),
    ("get", "/timeTrackingRecords/{timeTrackingRecordId}"),
    ("put", "/timeTrackingRecords/{timeTrackingRecordId}"),
    ("patch", "/timeTrackingRecords/{timeTrackingRecordId}"),
    ("delete", "/timeTrackingRecords/{timeTrackingRecordId}"),
    ("get", "/timeTrackingRecords/search/{ident}/{value}"),
    ("post", "/timeTrackingRecords/search"),
    ("get", "/billings"),
    ("post", "/billings"),
    ("get", "/billings/{billingId}"),
    ("put", "/billings/{billingId}"),
    ("get", "/responsibleUsers"),
    ("get", "/planningDates"),
}
for _coll, _pid in (
    ("projectFolders", "projectFolderId"),
    ("projects", "projectId"),
    ("groups", "groupId"),
    ("workPackages", "workPackageId"),
    ("subWorkPackages", "subWorkPackageId"),
    ("tasks", "taskId"),
):
    SEED_OPERATIONS |= {
        ("get", f"/{_coll}"),
        ("post", f"/{_coll}"),
        ("get", f"/{_coll}/{{{_pid}}}"),
        ("put", f"/{_coll}/{{{_pid}}}"),
        ("patch", f"/{_coll}/{{{_pid}}}"),
        ("delete", f"/{_coll}/{{{_pid}}}"),
        ("get", f"/{_coll}/search/{{ident}}/{{value}}"),
        ("post", f"/{_coll}/search"),
    }


def test_openapi_lists_every_operation(admin: TestClient, env: Any) -> None:
    response = env.client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["servers"] == [{"url": "/main/flow/api/v1"}]
    served = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert len(SEED_OPERATIONS) == 71
    assert SEED_OPERATIONS <= served, SEED_OPERATIONS - served
    for ops in doc["paths"].values():
        for op in ops.values():
            assert "422" not in op["responses"]
            assert "400" in op["responses"]
    assert "ProjectCreate" in doc["components"]["schemas"]
    error(env.client().get("/nosuch/flow/api/v1/openapi.json"), 404)


def test_every_credential_scheme_works(env: Any) -> None:
    email = f"{unique('flow')}@example.com"
    with env.store.write() as conn:
        user = people.create_user(conn, email=email, password="pass-word-1", name=email)
        gid = people.create_group(conn, unique("g"))
        people.add_member(conn, gid, user.id, writable=True)
        people.grant(conn, gid, "flow", writable=True)
        people.grant(conn, gid, "accounts", writable=False)
        key = people.create_api_key(conn, user.id)
        token, _ = people.issue_token(conn, user.id, "login", 3600)
        session = create_session(conn, user.id)
    clients = [
        env.client(basic(email, "pass-word-1")),
        env.client(basic("api", key)),
        env.client({"Authorization": f"Bearer {token}"}),
        env.client(),
    ]
    clients[3].cookies.set("ZEYOSID", session)
    for client in clients:
        response = client.get(f"{API}/customers")
        assert response.status_code == 200, response.text
    made = clients[2].post(f"{API}/projectFolders", json={"name": "By token"}).json()["id"]
    assert get(clients[0], "projectFolders", made)["lastChangedBy"] == user.uuid


def test_missing_or_bad_credentials(env: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, basic("admin@example.com", "wrong")):
        response = env.client(headers).get(f"{API}/customers")
        error(response, 401, code="unauthorized")
        assert response.headers["www-authenticate"]
    error(env.client().post(f"{API}/customers", json={"name": 1}), 401)


def test_permissions(env: Any, admin: TestClient) -> None:
    folder = new(admin, "projectFolders", name="Perm")
    _, nobody = env.user()
    error(env.client(nobody).get(f"{API}/projectFolders/{folder}"), 403, code="forbidden")
    _, reader_headers = env.user({"flow": False})
    reader = env.client(reader_headers)
    assert reader.get(f"{API}/projectFolders/{folder}").status_code == 200
    error(reader.post(f"{API}/projectFolders", json={"name": "x"}), 403)
    error(reader.patch(f"{API}/settings", json={"billingRoundingMinutes": 5}), 403)
    _, writer_headers = env.user({"flow": True})
    writer = env.client(writer_headers)
    assert writer.post(f"{API}/projectFolders", json={"name": "x"}).status_code == 201
    error(writer.patch(f"{API}/settings", json={"billingRoundingMinutes": 5}), 403)


def test_unknown_instance_path_and_method(env: Any, admin: TestClient) -> None:
    error(admin.get("/nosuch/flow/api/v1/customers"), 404, code="not_found")
    error(admin.get(f"{API}/nosuch"), 404, code="not_found")
    error(admin.delete(f"{API}/customers"), 405)


def test_body_limit(env: Any) -> None:
    """The server's one body limit (``max_body_bytes``), not a limit of the face's own."""
    strict = dataclasses.replace(env.settings, max_body_bytes=2000)
    c = TestClient(build_app(strict, env.instances), headers=env.admin_headers)
    before = count(env, "flow_nodes")
    big = {"name": "x", "description": "y" * 2000}
    r = c.post(f"{API}/projectFolders", json=big)
    error(r, 413, code="payload_too_large")
    assert r.json()["message"] == "request body larger than 2000 bytes"
    assert count(env, "flow_nodes") == before


def test_if_match(admin: TestClient) -> None:
    proj = project(admin)
    etag = admin.get(f"{API}/projects/{proj}").headers["etag"]
    stale = admin.patch(
        f"{API}/projects/{proj}", json={"name": "B"}, headers={"If-Match": 'W/"0000"'}
    )
    error(stale, 412, code="precondition_failed")
    assert get(admin, "projects", proj)["name"] == "Project"
    fresh = admin.patch(f"{API}/projects/{proj}", json={"name": "B"}, headers={"If-Match": etag})
    assert fresh.status_code == 204


def test_complex_search_grammar(admin: TestClient) -> None:
    folder = new(admin, "projectFolders", name="a/b folder")
    url = f"{API}/projectFolders/search"
    assert admin.get(f"{url}/name/a%2Fb").json() == [folder]
    assert admin.post(url, json={"ident": "name", "value": "A/B"}).json() == [folder]
    cases = [
        ({"ident": "name", "and": []}, "body"),
        ({"and": []}, "and"),
        ({"or": [{"ident": "name", "value": 1}]}, "or[0].value"),
        ({"not": {"ident": ""}}, "not.ident"),
        ({"and": [{"ident": "isArchived"}, {"ident": "colour", "value": "x"}]}, "and[1].ident"),
        ({"and": [{"ident": "name"}]}, "and[0].value"),
        ({"and": [{"ident": "childrenOf", "value": "abc"}]}, "and[0].value"),
        ({"ident": "isArchived", "extra": 1}, "body"),
        ({"and": [{"ident": "isArchived"}] * 101}, "and[100]"),
    ]
    nested: dict[str, Any] = {"ident": "isArchived"}
    for _ in range(16):
        nested = {"not": nested}
    cases.append((nested, ".".join(["not"] * 16)))
    for body, field in cases:
        found = error(admin.post(url, json=body), 400, code="invalid_search")
        assert found["errors"][0]["field"] == field, (body, found)
    unknown = error(admin.get(f"{url}/colour/red"), 400, "ident", "invalid_search")
    assert "allowed: ancestorsOf" in unknown["message"]
    error(admin.post(url, json=[{"ident": "name"}]), 400, code="bad_request")
    assert admin.get(f"{url}/childrenOf/{MISSING}").json() == []
    assert admin.get(f"{url}/referenceNumber/").json() != []


def test_unexpected_failures_answer_500_without_details(
    admin: TestClient, monkeypatch: Any
) -> None:
    from officina.flow import node_view

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    folder = new(admin, "projectFolders", name="Fine")
    monkeypatch.setattr(node_view, "fetch_one", broken)
    response = admin.get(f"{API}/projectFolders/{folder}")
    body = error(response, 500, code="internal_error")
    assert "secret" not in response.text
    assert response.headers["x-request-id"]
    assert body["errors"] == []
