"""Helpers for projects-face tests: create objects over HTTP, check error bodies."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

API = "/main/flow/api/v1"
UUID = re.compile(r"^[0-9A-F]{32}$")
MISSING = "E9996334F8134DBCBE18948284698BB2"


def new(client: TestClient, collection: str, /, **body: Any) -> str:
    """POST a new object and return its id (asserting the 201 answer)."""
    response = client.post(f"{API}/{collection}", json=body)
    assert response.status_code == 201, response.text
    new_id = response.json()["id"]
    assert UUID.match(new_id)
    assert response.headers["location"].endswith(f"/{collection}/{new_id}")
    return str(new_id)


def get(client: TestClient, collection: str, item_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/{collection}/{item_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def patch(client: TestClient, collection: str, item_id: str, **body: Any) -> None:
    response = client.patch(f"{API}/{collection}/{item_id}", json=body)
    assert response.status_code == 204, response.text


def error(response: Any, status: int, field: str | None = None, code: str | None = None) -> dict:
    """Assert the face's error body; ``field`` must be among the named fields."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body  # type: ignore[no-any-return]


def customer(client: TestClient, **body: Any) -> str:
    body.setdefault("name", "ACME Corp")
    return new(client, "customers", **body)


def project(client: TestClient, customer_id: str | None = None, **body: Any) -> str:
    body.setdefault("name", "Project")
    body["flowCustomer"] = customer_id or customer(client)
    return new(client, "projects", **body)


def group(client: TestClient, parent: str, **body: Any) -> str:
    body.setdefault("name", "Group")
    return new(client, "groups", parentNodeId=parent, **body)


def work_package(client: TestClient, parent: str, **body: Any) -> str:
    body.setdefault("name", "Work package")
    return new(client, "workPackages", parentNodeId=parent, **body)


def sub_work_package(client: TestClient, parent: str, **body: Any) -> str:
    body.setdefault("name", "Sub work package")
    return new(client, "subWorkPackages", parentNodeId=parent, **body)


def task(client: TestClient, parent: str, **body: Any) -> str:
    body.setdefault("name", "Task")
    return new(client, "tasks", parentNodeId=parent, **body)


def admin_uuid(client: TestClient) -> str:
    users = client.get(f"{API}/users").json()
    return next(u["id"] for u in users if u["email"] == "admin@example.com")  # type: ignore


def record(client: TestClient, user: str, **body: Any) -> str:
    return new(client, "timeTrackingRecords", user=user, **body)


def root_id(client: TestClient) -> str:
    response = client.get(f"{API}/projectFolders/search/isRoot")
    assert response.status_code == 200, response.text
    ids = response.json()
    assert len(ids) == 1
    return str(ids[0])


def count(env: Any, table: str) -> int:
    """Rows of a table, read straight from the store (to prove nothing was written)."""
    from sqlalchemy import func, select

    from officina.core.schema import metadata

    with env.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar())


def user_uuid(env: Any, user_id: int) -> str:
    """The Flow id of a core user created by the ``env.user`` fixture helper."""
    from sqlalchemy import select

    from officina.core.schema import users

    with env.store.read() as conn:
        return str(conn.execute(select(users.c.uuid).where(users.c.ID == user_id)).scalar_one())


def group_uuid(env: Any, group_id: int) -> str:
    from sqlalchemy import select

    from officina.core.schema import groups

    with env.store.read() as conn:
        return str(conn.execute(select(groups.c.uuid).where(groups.c.ID == group_id)).scalar_one())
