"""Tree rules: parents, ancestry searches, sort orders, archive (GN1), delete, key-value store,
responsible users, deprecated properties (Appendix B items 3–8 and 11)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.flow.helpers import (
    API,
    MISSING,
    admin_uuid,
    count,
    customer,
    error,
    get,
    group,
    group_uuid,
    new,
    patch,
    project,
    record,
    root_id,
    sub_work_package,
    task,
    user_uuid,
    work_package,
)


def test_parent_type_rules(env: Any, admin: TestClient) -> None:
    proj = project(admin)
    folder = new(admin, "projectFolders", name="F")
    wp = work_package(admin, proj)
    grp = group(admin, proj)
    before = count(env, "flow_nodes")
    cases = [
        ("groups", folder, "must be a project or a group"),
        ("workPackages", folder, "must be a project or a group"),
        ("subWorkPackages", grp, "must be a work package"),
        ("tasks", grp, "must be a work package or a task"),
        ("projects", proj, "must be a project folder"),
        ("projectFolders", wp, "must be a project folder"),
        ("groups", MISSING, "must be a project or a group"),
    ]
    for collection, parent, words in cases:
        body: dict[str, Any] = {"name": "x", "parentNodeId": parent}
        if collection == "projects":
            body["flowCustomer"] = get(admin, "projects", proj)["flowCustomer"]
        found = error(admin.post(f"{API}/{collection}", json=body), 400, "parentNodeId")
        assert words in found["message"]
    assert count(env, "flow_nodes") == before
    error(admin.post(f"{API}/groups", json={"name": "x"}), 400, "parentNodeId")
    # Allowed: nested groups, task below task, sub work package below a work package.
    inner = group(admin, grp)
    deep_wp = work_package(admin, inner)
    first = task(admin, deep_wp)
    second = task(admin, first)
    assert get(admin, "tasks", second)["parentNodeId"] == first
    assert get(admin, "groups", inner)["projectId"] == proj
    assert get(admin, "workPackages", deep_wp)["projectId"] == proj
    swp = sub_work_package(admin, deep_wp)
    assert get(admin, "subWorkPackages", swp)["projectId"] == proj


def test_ancestors_descendants_children(admin: TestClient) -> None:
    outer = new(admin, "projectFolders", name="Outer")
    inner = new(admin, "projectFolders", name="Inner", parentNodeId=outer)
    proj = project(admin, parentNodeId=inner)
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    t1 = task(admin, wp)
    t2 = task(admin, t1)
    root = root_id(admin)
    folders = admin.get(f"{API}/projectFolders/search/ancestorsOf/{t2}").json()
    assert folders == [inner, outer, root]
    assert admin.get(f"{API}/tasks/search/ancestorsOf/{t2}").json() == [t1]
    assert admin.get(f"{API}/projects/search/ancestorsOf/{t2}").json() == [proj]
    assert admin.get(f"{API}/tasks/search/descendantsOf/{wp}").json() == sorted(
        [t1, t2], key=lambda i: (get(admin, "tasks", i)["name"].casefold(), i)
    )
    assert admin.get(f"{API}/tasks/search/descendantsOf/{t2}").json() == []
    assert admin.get(f"{API}/groups/search/descendantsOf/{grp}").json() == []
    assert admin.get(f"{API}/tasks/search/childrenOf/{wp}").json() == [t1]
    assert admin.get(f"{API}/projectFolders/search/childrenOf/{outer}").json() == [inner]


def test_children_follow_sort_order_then_name(admin: TestClient) -> None:
    proj = project(admin)
    b = group(admin, proj, name="beta")
    a = work_package(admin, proj, name="alpha")
    c = group(admin, proj, name="Gamma")
    assert [
        get(admin, "groups", b)["sortOrder"],
        get(admin, "workPackages", a)["sortOrder"],
        get(admin, "groups", c)["sortOrder"],
    ] == [0, 1, 2]
    patch(admin, "groups", c, sortOrder=0)
    # Equal sortOrder: the name decides (case-insensitively).
    assert admin.get(f"{API}/groups/search/childrenOf/{proj}").json() == [b, c]
    wps = admin.get(f"{API}/workPackages/search/childrenOf/{proj}").json()
    assert wps == [a]


def test_sorted_sibling_ids_renumbers_the_shared_order(admin: TestClient) -> None:
    proj = project(admin)
    g1 = group(admin, proj, name="g1")
    w1 = work_package(admin, proj, name="w1")
    g2 = group(admin, proj, name="g2")
    before = get(admin, "workPackages", w1)["lastChanged"]
    # POST: the new node's id is unknown to the client, so sortOrder places it.
    new_wp = work_package(admin, proj, name="w2", sortedSiblingIds=[g2, w1, g1], sortOrder=1)
    orders = {
        i: get(admin, coll, i)["sortOrder"]
        for coll, i in (
            ("groups", g1),
            ("workPackages", w1),
            ("groups", g2),
            ("workPackages", new_wp),
        )
    }
    assert orders == {g2: 0, new_wp: 1, w1: 2, g1: 3}
    assert get(admin, "workPackages", w1)["lastChanged"] >= before
    # PATCH (officina extension) reorders existing siblings in one call.
    patch(admin, "groups", g1, sortedSiblingIds=[g1, g2])
    assert get(admin, "groups", g1)["sortOrder"] == 0
    assert get(admin, "groups", g2)["sortOrder"] == 1
    bad = admin.post(
        f"{API}/workPackages",
        json={"name": "w3", "parentNodeId": proj, "sortedSiblingIds": [g1, MISSING]},
    )
    error(bad, 400, "sortedSiblingIds[1]")
    swp_parent = work_package(admin, proj)
    s1 = sub_work_package(admin, swp_parent, name="s1")
    s2 = sub_work_package(admin, swp_parent, name="s2", sortedSiblingIds=[], sortOrder=0)
    assert get(admin, "subWorkPackages", s2)["sortOrder"] == 0
    assert get(admin, "subWorkPackages", s1)["sortOrder"] == 1
    negative = admin.patch(f"{API}/groups/{g1}", json={"sortOrder": -1})
    error(negative, 400, "sortOrder")
    # Tasks default to sortOrder 0 (the seed's default).
    assert get(admin, "tasks", task(admin, swp_parent))["sortOrder"] == 0


def test_archive_subtree(admin: TestClient) -> None:
    proj = project(admin, name="Archive me")
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    t1 = task(admin, wp)
    other = project(admin, name="Keep me")
    assert admin.put(f"{API}/nodes/{proj}/archive/1").status_code == 204
    for coll, node in (("projects", proj), ("groups", grp), ("workPackages", wp), ("tasks", t1)):
        assert get(admin, coll, node)["isArchived"] is True
    assert get(admin, "projects", proj)["status"] == "archived"
    assert get(admin, "projects", other)["isArchived"] is False
    visible = admin.post(f"{API}/projects/search", json={"not": {"ident": "isArchived"}})
    assert visible.json() == [other]
    assert admin.get(f"{API}/projects/search/isArchived").json() == [proj]
    assert admin.get(f"{API}/projects/search/isArchived/").json() == [proj]
    # New nodes below an archived parent start archived.
    assert get(admin, "tasks", task(admin, wp))["isArchived"] is True
    # Unarchiving a subtree below an archived ancestor touches only that subtree.
    assert admin.put(f"{API}/nodes/{wp}/archive/0").status_code == 204
    assert get(admin, "workPackages", wp)["isArchived"] is False
    assert get(admin, "groups", grp)["isArchived"] is True
    error(admin.put(f"{API}/nodes/{wp}/archive/2"), 400, "archive")
    error(admin.put(f"{API}/nodes/{MISSING}/archive/1"), 404)
    error(admin.put(f"{API}/nodes/{wp.lower()}/archive/1"), 400, "nodeId")


def test_delete_removes_subtree_unless_time_is_booked(env: Any, admin: TestClient) -> None:
    proj = project(admin)
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    task(admin, wp)
    swp = sub_work_package(admin, wp)
    before = count(env, "flow_nodes")
    assert admin.delete(f"{API}/groups/{grp}").status_code == 204
    assert count(env, "flow_nodes") == before - 4
    error(admin.get(f"{API}/subWorkPackages/{swp}"), 404)
    wp2 = work_package(admin, proj)
    record(
        admin,
        admin_uuid(admin),
        referenceNode=wp2,
        workTimeStart=1586004000,
        workTimeEnd=1586005800,
    )
    blocked = error(admin.delete(f"{API}/projects/{proj}"), 409, code="in_use")
    assert "1 time tracking records" in blocked["message"]
    assert get(admin, "workPackages", wp2)["id"] == wp2


def test_key_value_store_patch_rules(admin: TestClient) -> None:
    node = new(admin, "projectFolders", name="KV", keyValueStore={"a": 1, "c": {"x": 1}, "n": None})
    assert get(admin, "projectFolders", node)["keyValueStore"] == {"a": 1, "c": {"x": 1}}
    patch(admin, "projectFolders", node, keyValueStore={"a": None, "b": 2})
    assert get(admin, "projectFolders", node)["keyValueStore"] == {"b": 2, "c": {"x": 1}}
    patch(admin, "projectFolders", node, keyValueStore={"c": {"y": 2}})
    assert get(admin, "projectFolders", node)["keyValueStore"]["c"] == {"y": 2}
    full = {f"k{i}": i for i in range(18)}
    patch(admin, "projectFolders", node, keyValueStore=full)
    twenty_first = admin.patch(f"{API}/projectFolders/{node}", json={"keyValueStore": {"z": 1}})
    error(twenty_first, 400, "keyValueStore")
    too_many = {f"k{i}": i for i in range(21)}
    error(
        admin.post(f"{API}/projectFolders", json={"name": "x", "keyValueStore": too_many}),
        400,
        "keyValueStore",
    )
    big = "x" * 20479  # 20 481 bytes once quoted
    error(
        admin.patch(f"{API}/projectFolders/{node}", json={"keyValueStore": {"big": big}}),
        400,
        "keyValueStore",
    )
    patch(admin, "projectFolders", node, keyValueStore={"k0": "x" * 20478})
    error(
        admin.patch(f"{API}/projectFolders/{node}", json={"keyValueStore": None}),
        400,
        "keyValueStore",
    )


def test_responsible_rules_and_inheritance(env: Any, admin: TestClient) -> None:
    me = admin_uuid(admin)
    other = user_uuid(env, env.user({"flow": True})[0])
    team = group_uuid(env, env.group())
    proj = project(admin, responsibleUsers=[me], responsibleGroups=[team])
    found = get(admin, "projects", proj)
    assert found["definesOwnResponsible"] is True
    grp = group(admin, proj)
    child = get(admin, "groups", grp)
    assert child["definesOwnResponsible"] is False
    assert child["responsibleUsers"] == [me] and child["responsibleGroups"] == [team]
    # Only responsibleUsers: own lists, groups cleared.
    patch(admin, "projects", proj, responsibleUsers=[other, other])
    found = get(admin, "projects", proj)
    assert found["responsibleUsers"] == [other] and found["responsibleGroups"] == []
    assert get(admin, "groups", grp)["responsibleUsers"] == [other]
    patch(admin, "projects", proj, definesOwnResponsible=False, responsibleUsers=[me])
    assert get(admin, "projects", proj)["responsibleUsers"] == []
    error(
        admin.patch(f"{API}/projects/{proj}", json={"responsibleUsers": [MISSING]}),
        400,
        "responsibleUsers[0]",
    )
    error(
        admin.patch(f"{API}/projects/{proj}", json={"responsibleGroups": [MISSING]}),
        400,
        "responsibleGroups[0]",
    )


def test_deprecated_properties(admin: TestClient) -> None:
    proj = project(admin, status="locked")
    found = get(admin, "projects", proj)
    assert found["isLocked"] is True and found["status"] == "locked"
    patch(admin, "projects", proj, status="template")
    found = get(admin, "projects", proj)
    assert (found["isLocked"], found["isTemplate"], found["status"]) == (False, True, "template")
    patch(admin, "projects", proj, status="archived")
    assert get(admin, "projects", proj)["isArchived"] is True
    patch(admin, "projects", proj, status="open")
    assert get(admin, "projects", proj)["status"] == "open"
    wp = work_package(admin, proj, status="closed", roleMaxEfforts=[{"x": 1}])
    found = get(admin, "workPackages", wp)
    assert (found["isApprovedForBilling"], found["isLocked"], found["status"]) == (
        True,
        True,
        "closed",
    )
    assert found["roleMaxEfforts"] == []
    patch(admin, "workPackages", wp, status="offer")
    assert get(admin, "workPackages", wp)["status"] == "offer"
    patch(admin, "workPackages", wp, status="notYetOpen")
    assert get(admin, "workPackages", wp)["status"] == "locked"
    # An explicit current flag in the same request wins over the deprecated status.
    patch(admin, "workPackages", wp, status="open", isLocked=True)
    found = get(admin, "workPackages", wp)
    assert found["isLocked"] is True and found["isOffer"] is False
    t1 = task(admin, wp, hasExternalAssignee=True)
    found = get(admin, "tasks", t1)
    assert found["hasExternalAssignee"] is True and found["definesOwnResponsible"] is True
    me = admin_uuid(admin)
    patch(admin, "tasks", t1, assignedUnits=[{"unitType": "user", "unitId": me}])
    found = get(admin, "tasks", t1)
    assert found["responsibleUsers"] == [me]
    assert found["assignedUnits"] == [{"unitType": "user", "unitId": me}]
    assert found["hasExternalAssignee"] is False
    bad = admin.patch(f"{API}/tasks/{t1}", json={"assignedUnits": [{"type": "robot"}]})
    error(bad, 400, "assignedUnits[0].unitType")


def test_completion_stamps(admin: TestClient) -> None:
    wp = work_package(admin, project(admin), isCompleted=True)
    found = get(admin, "workPackages", wp)
    assert found["completedBy"] == admin_uuid(admin) and found["completedOn"] is not None
    patch(admin, "workPackages", wp, isCompleted=False)
    found = get(admin, "workPackages", wp)
    assert found["completedBy"] is None and found["completedOn"] is None
    t1 = task(admin, wp)
    patch(admin, "tasks", t1, status="complete")
    assert get(admin, "tasks", t1)["completedOn"] is not None
    assert admin.get(f"{API}/tasks/search/status/complete").json() == [t1]
    error(admin.get(f"{API}/tasks/search/status/done"), 400, code="invalid_search")


def test_customer_lock_and_customer_change(admin: TestClient) -> None:
    locked = customer(admin, name="Locked Ltd", isLocked=True)
    open_one = customer(admin, name="Open Ltd")
    response = admin.post(f"{API}/projects", json={"name": "P", "flowCustomer": locked})
    error(response, 409, code="customer_locked")
    error(
        admin.post(f"{API}/projects", json={"name": "P", "flowCustomer": MISSING}),
        400,
        "flowCustomer",
    )
    proj = project(admin, open_one)
    wp = work_package(admin, group(admin, proj))
    error(
        admin.patch(f"{API}/projects/{proj}", json={"flowCustomer": locked}),
        409,
        code="customer_locked",
    )
    other = customer(admin, name="Other Ltd")
    patch(admin, "projects", proj, flowCustomer=other)
    assert get(admin, "workPackages", wp)["flowCustomer"] == other
    assert admin.get(f"{API}/workPackages/search/customerId/{other}").json() == [wp]
    assert admin.get(f"{API}/workPackages/search/customerId/{open_one}").json() == []


@pytest.mark.parametrize(
    "field,value",
    [
        ("maxEffort", -1),
        ("maxEffort", 1_000_000),
        ("maxEffort", "5"),
        ("isLocked", "yes"),
        ("timeControl", {"from": "2021-02-29"}),
        ("description", "x" * 5001),
        ("referenceNumber", "r" * 192),
        ("groupType", "team"),
    ],
)
def test_invalid_values_name_the_field(env: Any, admin: TestClient, field: str, value: Any) -> None:
    proj = project(admin)
    before = count(env, "flow_nodes")
    response = admin.post(f"{API}/groups", json={"name": "G", "parentNodeId": proj, field: value})
    body = error(response, 400)
    assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert count(env, "flow_nodes") == before


def test_decimals_and_time_control(admin: TestClient) -> None:
    proj = project(
        admin,
        maxEffort=12.345,
        maxPrice=100,
        timeControl={"from": "2024-01-01", "to": "2024-02-01"},
    )
    found = get(admin, "projects", proj)
    assert found["maxEffort"] == 12.35 and found["maxPrice"] == 100
    patch(admin, "projects", proj, timeControl={"to": None, "mode": "x"})
    assert get(admin, "projects", proj)["timeControl"] == {"from": "2024-01-01", "mode": "x"}
    patch(admin, "projects", proj, timeControl=None, maxEffort=None)
    found = get(admin, "projects", proj)
    assert found["timeControl"] is None and found["maxEffort"] is None
    bad = admin.patch(
        f"{API}/projects/{proj}", json={"timeControl": {"from": "2024-02-01", "to": "2024-01-01"}}
    )
    error(bad, 400, "timeControl.to")
    wp = admin.post(
        f"{API}/workPackages",
        json={"name": "w", "parentNodeId": proj, "effortFrom": 10, "effortTo": 5},
    )
    error(wp, 400, "effortFrom")
    fixed = admin.post(
        f"{API}/workPackages",
        json={
            "name": "w",
            "parentNodeId": proj,
            "billingType": "fixedPrice",
            "usePriceCategoryPerTimeTracking": True,
        },
    )
    error(fixed, 400, "usePriceCategoryPerTimeTracking")


def test_labels_on_nodes(admin: TestClient) -> None:
    red = new(admin, "labels", name="Red", color="ff0000")
    blue = new(admin, "labels", name="Blue")
    node = new(admin, "projectFolders", name="L", labels=[blue, red, blue])
    assert get(admin, "projectFolders", node)["labels"] == [blue, red]
    assert admin.delete(f"{API}/labels/{blue}").status_code == 204
    assert get(admin, "projectFolders", node)["labels"] == [red]


@pytest.mark.parametrize("subtree_limit", [1, 10_000])
def test_descendant_searches_answer_the_same_whichever_way_sqlite_walks(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch, subtree_limit: int
) -> None:
    """On SQLite a search limited to a subtree starts from the subtree when it is small and
    asks each node otherwise; both ways give the same nodes in the same order."""
    from officina.flow import search

    proj = project(admin)
    grp = group(admin, proj, name="Bern group")
    inside = [
        work_package(admin, grp, name="Bern east"),
        work_package(admin, grp, name="bern West"),
        work_package(admin, proj, name="Zurich"),
        work_package(admin, proj, name="Alpha Bern"),
    ]
    outside = work_package(admin, project(admin), name="Bern elsewhere")
    by_name = sorted(inside, key=lambda i: (get(admin, "workPackages", i)["name"].casefold(), i))
    bern = [i for i in by_name if i != inside[2]]

    def named(word: str) -> dict[str, str]:
        return {"ident": "name", "value": word}

    searches: list[tuple[Any, list[str]]] = [
        ({"ident": "descendantsOf", "value": proj}, by_name),
        ({"and": [{"ident": "descendantsOf", "value": proj}, named("bern")]}, bern),
        (
            {"and": [named("BERN"), {"ident": "descendantsOf", "value": grp}]},
            [i for i in bern if i in inside[:2]],
        ),
        (
            {"or": [{"ident": "descendantsOf", "value": grp}, named("zur")]},
            [i for i in by_name if i in inside[:3]],
        ),
        ({"not": {"ident": "descendantsOf", "value": proj}}, None),
    ]
    monkeypatch.setattr(search, "SMALL_SUBTREE", subtree_limit)
    for body, expected in searches:
        found = admin.post(f"{API}/workPackages/search", json=body)
        assert found.status_code == 200, found.text
        ids = found.json()
        if expected is None:
            assert outside in ids and not set(inside) & set(ids)
            continue
        assert ids == expected, body
        objects = admin.post(f"{API}/workPackages/search?yieldObjects=1", json=body).json()
        assert [o["id"] for o in objects] == expected
