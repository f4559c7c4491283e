"""Responsible users (RU1), planning dates (PD1), and officina's extension routes (§9):
labels, price categories and surcharges, users, user groups, settings, project roles."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.flow.helpers import (
    API,
    MISSING,
    admin_uuid,
    error,
    get,
    group,
    group_uuid,
    new,
    patch,
    project,
    sub_work_package,
    task,
    user_uuid,
    work_package,
)

LOOKUPS = [
    ("labels", {"name": "Urgent", "color": "ff0000"}, {"name": "Later"}, "color", "#f00"),
    (
        "priceCategories",
        {"name": "Senior", "hourlyRate": 120.5},
        {"hourlyRate": 99},
        "hourlyRate",
        -1,
    ),
    (
        "priceSurcharges",
        {"name": "Night", "percentage": 25},
        {"isDisabled": True},
        "percentage",
        "25",
    ),
    (
        "projectRoles",
        {"name": "Lead", "isProjectManager": True},
        {"name": "Owner"},
        "isProjectManager",
        "yes",
    ),
]


@pytest.mark.parametrize("collection,body,change,bad_field,bad_value", LOOKUPS)
def test_lookup_resources(
    admin: TestClient,
    collection: str,
    body: dict[str, Any],
    change: dict[str, Any],
    bad_field: str,
    bad_value: Any,
) -> None:
    item = new(admin, collection, **body)
    found = get(admin, collection, item)
    assert found["id"] == item
    assert all(found[k] == v for k, v in body.items())
    chosen = "D" * 32
    made = admin.put(f"{API}/{collection}/{chosen}", json=body)
    assert made.status_code == 201 and made.json() == {"id": chosen}
    error(admin.put(f"{API}/{collection}/{chosen}", json=body), 409, code="id_exists")
    patch(admin, collection, item, **change)
    assert all(get(admin, collection, item)[k] == v for k, v in change.items())
    listed = admin.get(f"{API}/{collection}").json()
    assert {o["id"] for o in listed} == {item, chosen}
    some = admin.get(f"{API}/{collection}?ids[]={chosen}&ids[]={MISSING}").json()
    assert [o["id"] for o in some] == [chosen]
    error(admin.post(f"{API}/{collection}", json={**body, bad_field: bad_value}), 400, bad_field)
    error(admin.post(f"{API}/{collection}", json={}), 400, "name")
    assert admin.delete(f"{API}/{collection}/{item}").status_code == 204
    error(admin.get(f"{API}/{collection}/{item}"), 404)


def test_users_and_groups_views(env: Any, admin: TestClient) -> None:
    uid, _ = env.user({"flow": True})
    member = user_uuid(env, uid)
    gid = env.group()
    from officina.core import people

    with env.store.write() as conn:
        people.add_member(conn, gid, uid, writable=False)
    team = group_uuid(env, gid)
    found = get(admin, "users", member)
    assert list(found) == ["id", "name", "email", "isActive"] and found["isActive"] is True
    assert member in [u["id"] for u in admin.get(f"{API}/users").json()]
    assert admin.get(f"{API}/users?ids[]={member}").json() == [found]
    assert get(admin, "userGroups", team)["memberIds"] == [member]
    error(admin.get(f"{API}/users/{MISSING}"), 404)
    error(admin.get(f"{API}/userGroups/{MISSING}"), 404)


def test_settings(admin: TestClient) -> None:
    found = admin.get(f"{API}/settings").json()
    assert found == {
        "billingRoundingMinutes": 15,
        "fileExports.timeSheets.showSignatureField": False,
        "billing.journeyBillingMode": "flatRate",
        "billing.flatRateJourneyPrice": 0,
        "fileExports.defaultLanguage": "en",
    }
    assert (
        admin.patch(
            f"{API}/settings",
            json={
                "fileExports.defaultLanguage": "fr",
                "fileExports.timeSheets.showSignatureField": True,
                "unknown.key": 1,
            },
        ).status_code
        == 204
    )
    cid = new(admin, "customers", name="Settings Ltd")
    found = get(admin, "customers", cid)
    assert found["fileExportLanguage"] == "fr"
    assert found["showSignatureFieldInPdfTimeSheets"] is True
    patch(admin, "customers", cid, showSignatureFieldInPdfTimeSheets=False)
    assert get(admin, "customers", cid)["showSignatureFieldInPdfTimeSheets"] is False
    admin.patch(f"{API}/settings", json={"fileExports.defaultLanguage": None})
    assert admin.get(f"{API}/settings").json()["fileExports.defaultLanguage"] == "en"
    for key, value in (
        ("billing.journeyBillingMode", "bus"),
        ("billing.flatRateJourneyPrice", -2),
        ("fileExports.timeSheets.showSignatureField", "yes"),
    ):
        error(admin.patch(f"{API}/settings", json={key: value}), 400, key)


def test_planning_dates_and_due_date(admin: TestClient) -> None:
    proj = project(admin)
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    swp = sub_work_package(admin, wp)
    t1 = task(admin, wp)
    before = get(admin, "projects", proj)["lastChanged"]
    kickoff = new(
        admin,
        "planningDates",
        nodeId=wp,
        name="Kick-off",
        plannedStart="2024-03-01",
        plannedEnd="2024-03-02",
    )
    late = new(
        admin, "planningDates", nodeId=t1, plannedStart="2024-05-01", plannedEnd="2024-05-20"
    )
    mid = new(
        admin, "planningDates", nodeId=swp, plannedStart="2024-04-01", plannedEnd="2024-04-10"
    )
    assert get(admin, "projects", proj)["dueDate"] == "2024-05-20"
    assert get(admin, "groups", grp)["dueDate"] == "2024-05-20"
    assert get(admin, "projects", proj)["lastChanged"] >= before
    assert get(admin, "workPackages", wp)["planningDates"] == [get(admin, "planningDates", kickoff)]
    listed = admin.get(f"{API}/planningDates?ids[]={t1}&ids[]={wp}&ids[]={proj}&ids[]={swp}")
    assert [p["id"] for p in listed.json()] == [late, kickoff, mid]
    patch(admin, "planningDates", late, plannedEnd="2024-06-30")
    assert get(admin, "projects", proj)["dueDate"] == "2024-06-30"
    error(admin.patch(f"{API}/planningDates/{late}", json={"nodeId": wp}), 400, "nodeId")
    error(
        admin.patch(f"{API}/planningDates/{late}", json={"plannedEnd": "2024-01-01"}),
        400,
        "plannedEnd",
    )
    error(
        admin.post(
            f"{API}/planningDates",
            json={"nodeId": grp, "plannedStart": "2024-01-01", "plannedEnd": "2024-01-02"},
        ),
        400,
        "nodeId",
    )
    assert admin.delete(f"{API}/planningDates/{late}").status_code == 204
    assert get(admin, "projects", proj)["dueDate"] == "2024-04-10"
    error(admin.get(f"{API}/planningDates"), 400, "ids[]")


def test_responsible_users_resolution(env: Any, admin: TestClient) -> None:
    me = admin_uuid(admin)
    a_id, _ = env.user({"flow": True})
    b_id, _ = env.user({"flow": True})
    a, b = user_uuid(env, a_id), user_uuid(env, b_id)
    gid = env.group()
    from officina.core import people

    with env.store.write() as conn:
        people.add_member(conn, gid, b_id, writable=False)
    team = group_uuid(env, gid)
    proj = project(admin, responsibleUsers=[me], responsibleGroups=[team])
    wp = work_package(admin, group(admin, proj))
    lead = new(admin, "projectRoles", name="Lead", isProjectManager=True)
    helper = new(admin, "projectRoles", name="Helper")
    assert (
        admin.put(
            f"{API}/nodes/{proj}/roleAssignments",
            json=[{"roleId": lead, "userId": a}, {"roleId": helper, "groupId": team}],
        ).status_code
        == 204
    )
    assert admin.get(f"{API}/nodes/{proj}/roleAssignments").json() == [
        {"roleId": lead, "userId": a},
        {"roleId": helper, "groupId": team},
    ]
    base = f"{API}/responsibleUsers?ids[]={wp}&ids[]={MISSING}"
    default = admin.get(base).json()
    assert default == {wp: sorted([me, a, b]), MISSING: []}
    assert admin.get(base + "&responsible=1").json()[wp] == sorted([me, b])
    assert admin.get(base + "&projectManager=1").json()[wp] == [a]
    assert admin.get(base + "&roleType=projectManager").json()[wp] == [a]
    assert admin.get(base + "&roleType=executing").json()[wp] == sorted([me, b])
    assert admin.get(base + f"&roleId={helper}").json()[wp] == [b]
    assert admin.get(base + "&anyProjectRole=1").json()[wp] == sorted([a, b])
    error(admin.get(base + "&roleType=boss"), 400, "roleType")
    error(admin.get(base + "&responsible=yes"), 400, "responsible")
    error(admin.get(f"{API}/responsibleUsers"), 400, "ids[]")
    bad = admin.put(f"{API}/nodes/{proj}/roleAssignments", json=[{"roleId": MISSING, "userId": a}])
    error(bad, 400, "[0].roleId")
    assert admin.get(f"{API}/nodes/{proj}/roleAssignments").json() != []
    assert admin.delete(f"{API}/projectRoles/{lead}").status_code == 204
    assert admin.get(base + "&projectManager=1").json()[wp] == []
