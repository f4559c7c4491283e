"""Every write of the projects face leaves one change entry per changed row, in its own
transaction: a create its values, an update the old and new values of what changed, a delete
(cascades included) the values the row held. A refused request leaves none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from officina.core.schema import changes
from tests.flow.helpers import API, MISSING, admin_uuid, customer, error, new, project, record


def _entries(env: Any) -> list[dict[str, Any]]:
    with env.store.read() as conn:
        rows = conn.execute(select(changes).order_by(changes.c.ID)).mappings().all()
    return [dict(r) for r in rows]


def _since(env: Any, before: int) -> list[dict[str, Any]]:
    return _entries(env)[before:]


def _of(entries: list[dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["entity"] == entity]


def _account_id(env: Any, customer_id: str) -> int:
    from officina.flow.tables import customers

    with env.store.read() as conn:
        found = conn.execute(
            select(customers.c.account_id).where(customers.c.uuid == customer_id)
        ).scalar_one()
    return int(found)


def test_customer_create_update_delete(env: Any, admin: TestClient) -> None:
    cid = customer(admin, name="ACME", customerNumber="K-1", locations=[{"number": "1"}])
    account = _account_id(env, cid)
    made = _entries(env)
    assert {e["face"] for e in made} == {"projects"}
    assert {e["instance"] for e in made} == {"main"}
    assert {e["actor"] for e in made} == {env.admin.user_id}
    [acc] = _of(made, "accounts")
    assert (acc["action"], acc["row_id"]) == ("create", str(account))
    assert acc["fields"]["lastname"] == [None, "ACME"]
    assert acc["fields"]["customernum"] == [None, "K-1"]
    [flow_row] = _of(made, "flow_customers")
    assert (flow_row["action"], flow_row["row_id"]) == ("create", str(account))
    assert flow_row["fields"]["uuid"] == [None, cid]
    [location] = _of(made, "flow_customer_locations")
    assert location["action"] == "create" and location["fields"]["number"] == [None, "1"]
    assert len(made) == 3

    before = len(_entries(env))
    assert admin.patch(f"{API}/customers/{cid}", json={"name": "ACME 2"}).status_code == 204
    [update] = _since(env, before)
    assert (update["entity"], update["action"], update["row_id"]) == (
        "accounts",
        "update",
        str(account),
    )
    assert update["fields"]["lastname"] == ["ACME", "ACME 2"]
    # The modification time moves too, unless the write fell in the same second.
    assert set(update["fields"]) - {"lastmodified"} == {"lastname"}

    before = len(_entries(env))
    assert admin.delete(f"{API}/customers/{cid}").status_code == 204
    gone = _since(env, before)
    assert {(e["entity"], e["action"]) for e in gone} == {
        ("accounts", "delete"),
        ("flow_customers", "delete"),
        ("flow_customer_locations", "delete"),
    }
    assert len(gone) == 3
    [acc_gone] = _of(gone, "accounts")
    assert acc_gone["fields"]["lastname"] == ["ACME 2", None]


def test_node_create_update_and_cascading_delete(env: Any, admin: TestClient) -> None:
    proj = project(admin, name="P")
    package = new(admin, "workPackages", parentNodeId=proj, name="W")
    created = _of(_entries(env), "flow_nodes")
    assert [(e["action"], e["row_id"]) for e in created if e["row_id"] in (proj, package)] == [
        ("create", proj),
        ("create", package),
    ]
    [made] = [e for e in created if e["row_id"] == package]
    assert made["fields"]["name"] == [None, "W"]
    assert made["fields"]["parent_id"] == [None, proj]

    before = len(_entries(env))
    assert admin.patch(f"{API}/workPackages/{package}", json={"name": "W2"}).status_code == 204
    [update] = _of(_since(env, before), "flow_nodes")
    assert (update["action"], update["row_id"]) == ("update", package)
    assert update["fields"]["name"] == ["W", "W2"]
    assert update["fields"]["name_cf"] == ["w", "w2"]

    before = len(_entries(env))
    assert admin.delete(f"{API}/projects/{proj}").status_code == 204
    gone = _since(env, before)
    deleted_nodes = {e["row_id"] for e in _of(gone, "flow_nodes") if e["action"] == "delete"}
    assert deleted_nodes == {proj, package}
    # The tree's ancestry rows of both nodes go with them: each node's own row and its rows
    # below the root folder, and the project-to-package row.
    ancestry = {e["row_id"] for e in _of(gone, "flow_node_ancestry") if e["action"] == "delete"}
    assert len(ancestry) == 5
    assert f"{proj}/{package}" in ancestry
    assert {e["action"] for e in gone} == {"delete"}


def test_time_record_create_update_delete(env: Any, admin: TestClient) -> None:
    proj = project(admin)
    package = new(admin, "workPackages", parentNodeId=proj, name="W")
    user = admin_uuid(admin)
    before = len(_entries(env))
    rid = record(admin, user, workPackage=package, workTimeStart=1700000000, message="a")
    [made] = _since(env, before)
    assert (made["entity"], made["action"], made["row_id"]) == ("flow_time_records", "create", rid)
    assert made["fields"]["message"] == [None, "a"]
    before = len(_entries(env))
    response = admin.patch(f"{API}/timeTrackingRecords/{rid}", json={"message": "b"})
    assert response.status_code == 204, response.text
    [update] = _since(env, before)
    assert update["action"] == "update" and update["fields"]["message"] == ["a", "b"]
    before = len(_entries(env))
    assert admin.delete(f"{API}/timeTrackingRecords/{rid}").status_code == 204
    [gone] = _since(env, before)
    assert (gone["action"], gone["row_id"], gone["fields"]["message"]) == (
        "delete",
        rid,
        ["b", None],
    )


def test_refused_requests_leave_no_entry(env: Any, admin: TestClient) -> None:
    cid = customer(admin, name="Used")
    proj = project(admin, cid, name="P")
    before = len(_entries(env))
    # 400: a bad value.
    error(admin.post(f"{API}/customers", json={"name": ""}), 400)
    error(admin.patch(f"{API}/projects/{proj}", json={"name": 5}), 400)
    # 404: nothing there.
    error(admin.patch(f"{API}/customers/{MISSING}", json={"name": "x"}), 404)
    error(admin.delete(f"{API}/projects/{MISSING}"), 404)
    # 409: the customer is in use by the project.
    error(admin.delete(f"{API}/customers/{cid}"), 409, code="in_use")
    # 412: a stale version.
    stale = admin.patch(f"{API}/projects/{proj}", json={"name": "Q"}, headers={"If-Match": '"x"'})
    error(stale, 412)
    assert len(_entries(env)) == before
