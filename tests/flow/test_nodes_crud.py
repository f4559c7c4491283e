"""Route table rows PF1–PF8 … TK1–TK8: the eight operations of every node type over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.flow.helpers import (
    API,
    MISSING,
    UUID,
    count,
    customer,
    error,
    get,
    group,
    new,
    patch,
    project,
    root_id,
    sub_work_package,
    work_package,
)

Tree = dict[str, str]


@pytest.fixture
def tree(admin: TestClient) -> Tree:
    cust = customer(admin)
    proj = project(admin, cust)
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    return {
        "customer": cust,
        "folder": new(admin, "projectFolders", name="Folder"),
        "project": proj,
        "group": grp,
        "workPackage": wp,
        "subWorkPackage": sub_work_package(admin, wp),
        "task": new(admin, "tasks", parentNodeId=wp, name="Task"),
    }


# node type → (collection, body for a new node given the tree, expected response keys)
KINDS: dict[str, tuple[str, Callable[[Tree], dict[str, Any]], list[str]]] = {
    "projectFolder": (
        "projectFolders",
        lambda t: {"name": "Sub folder", "parentNodeId": t["folder"]},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "nodeType",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "name",
        ],
    ),
    "project": (
        "projects",
        lambda t: {"name": "Other project", "flowCustomer": t["customer"]},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "dueDate",
            "nodeType",
            "timeControl",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "description",
            "name",
            "flowCustomer",
            "isLocked",
            "isClosed",
            "isTemplate",
            "maxEffort",
            "enforceMaxEffort",
            "showMaxEffortInDays",
            "maxPrice",
            "status",
            "definesOwnResponsible",
            "responsibleGroups",
            "responsibleUsers",
        ],
    ),
    "group": (
        "groups",
        lambda t: {"name": "Sprint 1", "parentNodeId": t["project"], "groupType": "sprint"},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "flowCustomer",
            "dueDate",
            "nodeType",
            "projectId",
            "timeControl",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "description",
            "name",
            "enforceMaxEffort",
            "groupType",
            "isLocked",
            "isClosed",
            "maxEffort",
            "maxPrice",
            "showMaxEffortInDays",
            "sortOrder",
            "definesOwnResponsible",
            "responsibleGroups",
            "responsibleUsers",
        ],
    ),
    "workPackage": (
        "workPackages",
        lambda t: {"name": "Design", "parentNodeId": t["project"], "billingType": "effortCap"},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "completedBy",
            "completedOn",
            "flowCustomer",
            "nodeType",
            "planningDates",
            "projectId",
            "timeControl",
            "definesOwnResponsible",
            "responsibleGroups",
            "responsibleUsers",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "description",
            "name",
            "billingType",
            "effortFrom",
            "effortTo",
            "fixedPrice",
            "freeOfChargeReason",
            "isCompleted",
            "isApprovedForBilling",
            "isLocked",
            "isClosed",
            "isOffer",
            "maxEffort",
            "priceCategory",
            "roleMaxEfforts",
            "sortOrder",
            "status",
            "timeTrackingReferenceNodeType",
            "usePriceCategoryPerTimeTracking",
        ],
    ),
    "subWorkPackage": (
        "subWorkPackages",
        lambda t: {"name": "Mockups", "parentNodeId": t["workPackage"]},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "completedBy",
            "completedOn",
            "nodeType",
            "planningDates",
            "projectId",
            "definesOwnResponsible",
            "responsibleGroups",
            "responsibleUsers",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "name",
            "description",
            "isCompleted",
            "isLocked",
            "maxEffort",
            "defaultPriceCategory",
            "sortOrder",
        ],
    ),
    "task": (
        "tasks",
        lambda t: {"name": "Call client", "parentNodeId": t["workPackage"]},
        [
            "id",
            "isArchived",
            "createdOn",
            "lastChanged",
            "lastChangedBy",
            "lastChangedOn",
            "parentNodeId",
            "completedBy",
            "completedOn",
            "nodeType",
            "planningDates",
            "color",
            "labels",
            "keyValueStore",
            "referenceNumber",
            "assignedUnits",
            "description",
            "hasExternalAssignee",
            "name",
            "plannedTime",
            "sortOrder",
            "status",
            "definesOwnResponsible",
            "responsibleGroups",
            "responsibleUsers",
        ],
    ),
}

TYPES = list(KINDS)


@pytest.mark.parametrize("kind", TYPES)
def test_create_and_get_one(admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, keys = KINDS[kind]
    new_id = new(admin, collection, **body(tree))
    found = get(admin, collection, new_id)
    assert list(found) == keys
    assert found["id"] == new_id
    assert found["nodeType"] == kind
    assert found["name"] == body(tree)["name"]
    assert found["createdOn"] == found["lastChanged"] == found["lastChangedOn"]
    assert UUID.match(found["lastChangedBy"])
    response = admin.get(f"{API}/{collection}/{new_id}")
    # The one ETag format of every face: a quoted strong tag of 32 hex digits.
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])


@pytest.mark.parametrize("kind", TYPES)
def test_get_by_ids_keeps_order_and_skips_unknown_and_other_types(
    admin: TestClient, tree: Tree, kind: str
) -> None:
    collection, body, _ = KINDS[kind]
    first = new(admin, collection, **body(tree))
    second = new(admin, collection, **{**body(tree), "name": "Second"})
    other = tree["project"] if kind != "project" else tree["group"]
    url = f"{API}/{collection}?ids[]={second}&ids[]={MISSING}&ids[]={first}&ids[]={other}"
    response = admin.get(url + f"&ids[]={second}")
    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [second, first]
    bare = admin.get(f"{API}/{collection}?ids={first}")
    assert [o["id"] for o in bare.json()] == [first]


@pytest.mark.parametrize("kind", TYPES)
def test_get_by_ids_requires_valid_ids(admin: TestClient, kind: str) -> None:
    collection = KINDS[kind][0]
    error(admin.get(f"{API}/{collection}"), 400, "ids[]", "bad_request")
    error(admin.get(f"{API}/{collection}?ids[]=abc"), 400, "ids[]", "bad_request")
    many = "&".join(f"ids[]={i:032X}" for i in range(1001))
    error(admin.get(f"{API}/{collection}?{many}"), 400, "ids[]")


@pytest.mark.parametrize("kind", TYPES)
def test_put_creates_with_client_id_then_conflicts(
    admin: TestClient, tree: Tree, kind: str
) -> None:
    collection, body, _ = KINDS[kind]
    chosen = f"{len(kind):02d}" + "AB" * 15
    response = admin.put(f"{API}/{collection}/{chosen}", json=body(tree))
    assert response.status_code == 201, response.text
    assert response.json() == {"id": chosen}
    assert get(admin, collection, chosen)["id"] == chosen
    again = admin.put(f"{API}/{collection}/{chosen}", json=body(tree))
    error(again, 409, code="id_exists")
    # The node id space is shared: an id of another node type is taken as well.
    error(admin.put(f"{API}/{collection}/{tree['task']}", json=body(tree)), 409)
    error(admin.put(f"{API}/{collection}/{chosen.lower()}", json=body(tree)), 400, kind + "Id")


@pytest.mark.parametrize("kind", TYPES)
def test_patch_changes_only_given_properties(admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, _ = KINDS[kind]
    node_id = new(admin, collection, **body(tree), referenceNumber="R-1", color="abcdef")
    before = get(admin, collection, node_id)
    patch(admin, collection, node_id, name="Renamed", keyValueStore={"a": 1})
    after = get(admin, collection, node_id)
    assert after["name"] == "Renamed"
    assert after["referenceNumber"] == "R-1"
    assert after["color"] == "abcdef"
    assert after["keyValueStore"] == {"a": 1}
    assert after["lastChangedOn"] >= before["lastChangedOn"]
    # Sending the GET body back is accepted and changes nothing visible.
    patch(admin, collection, node_id, **after)
    again = get(admin, collection, node_id)
    assert {k: v for k, v in again.items() if not k.startswith("lastChanged")} == {
        k: v for k, v in after.items() if not k.startswith("lastChanged")
    }


@pytest.mark.parametrize("kind", TYPES)
def test_patch_refuses_null_moves_and_unknown_ids(admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, _ = KINDS[kind]
    node_id = new(admin, collection, **body(tree))
    error(admin.patch(f"{API}/{collection}/{node_id}", json={"name": None}), 400, "name")
    moved = admin.patch(f"{API}/{collection}/{node_id}", json={"parentNodeId": MISSING})
    error(moved, 400, "parentNodeId")
    assert get(admin, collection, node_id)["name"] == body(tree)["name"]
    error(admin.patch(f"{API}/{collection}/{MISSING}", json={"name": "x"}), 404, code="not_found")


@pytest.mark.parametrize("kind", TYPES)
def test_delete_then_404(admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, _ = KINDS[kind]
    node_id = new(admin, collection, **body(tree))
    assert admin.delete(f"{API}/{collection}/{node_id}").status_code == 204
    error(admin.get(f"{API}/{collection}/{node_id}"), 404, code="not_found")
    error(admin.delete(f"{API}/{collection}/{node_id}"), 404)


@pytest.mark.parametrize("kind", TYPES)
def test_wrong_type_and_malformed_path_ids(admin: TestClient, tree: Tree, kind: str) -> None:
    collection = KINDS[kind][0]
    other = tree["task"] if kind != "task" else tree["group"]
    error(admin.get(f"{API}/{collection}/{other}"), 404)
    error(admin.get(f"{API}/{collection}/{other.lower()}"), 400, code="validation_error")
    error(admin.get(f"{API}/{collection}/ABC"), 400)


@pytest.mark.parametrize("kind", TYPES)
def test_simple_and_complex_search(admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, _ = KINDS[kind]
    node_id = new(admin, collection, **{**body(tree), "name": "Zebra crossing"})
    found = admin.get(f"{API}/{collection}/search/name/zebra")
    assert found.status_code == 200 and found.json() == [node_id]
    objects = admin.get(f"{API}/{collection}/search/name/ZEBRA?yieldObjects=1").json()
    assert objects == [get(admin, collection, node_id)]
    aliased = admin.post(f"{API}/{collection}/search/name/zebra", json={"ignored": True})
    assert aliased.json() == [node_id]
    tree_query = {"and": [{"ident": "name", "value": "crossing"}, {"not": {"ident": "isArchived"}}]}
    complex_found = admin.post(f"{API}/{collection}/search", json=tree_query)
    assert complex_found.status_code == 200 and complex_found.json() == [node_id]
    with_objects = admin.post(f"{API}/{collection}/search?yieldObjects=1", json=tree_query)
    assert [o["id"] for o in with_objects.json()] == [node_id]
    assert admin.get(f"{API}/{collection}/search/name/nothing-like-it").json() == []


@pytest.mark.parametrize("kind", TYPES)
def test_bad_bodies_write_nothing(env: Any, admin: TestClient, tree: Tree, kind: str) -> None:
    collection, body, _ = KINDS[kind]
    before = count(env, "flow_nodes")
    error(admin.post(f"{API}/{collection}", json={**body(tree), "name": "x" * 192}), 400, "name")
    error(admin.post(f"{API}/{collection}", json={**body(tree), "name": "   "}), 400, "name")
    error(admin.post(f"{API}/{collection}", json={**body(tree), "color": "#fff"}), 400, "color")
    error(
        admin.post(f"{API}/{collection}", json={**body(tree), "labels": [MISSING]}),
        400,
        "labels[0]",
    )
    error(admin.post(f"{API}/{collection}", json=[body(tree)]), 400, code="bad_request")
    error(
        admin.post(
            f"{API}/{collection}",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ),
        400,
        code="bad_request",
    )
    error(admin.post(f"{API}/{collection}", json={"color": "fff"}), 400, "name")
    assert count(env, "flow_nodes") == before


def test_root_folder_is_default_parent_and_protected(admin: TestClient, tree: Tree) -> None:
    root = root_id(admin)
    assert get(admin, "projects", tree["project"])["parentNodeId"] == root
    assert get(admin, "projectFolders", tree["folder"])["parentNodeId"] == root
    folder = get(admin, "projectFolders", root)
    assert folder["parentNodeId"] is None and folder["lastChangedBy"] is None
    error(admin.delete(f"{API}/projectFolders/{root}"), 409, code="root_folder")
    error(admin.put(f"{API}/nodes/{root}/archive/1"), 409, code="root_folder")
    assert admin.put(f"{API}/nodes/{root}/archive/0").status_code == 204
    patch(admin, "projectFolders", root, name="All projects")
    assert get(admin, "projectFolders", root)["name"] == "All projects"
