"""Time tracking records TR1–TR8: rounding, references, locks, effort limits, immutability."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.flow.helpers import (
    API,
    MISSING,
    admin_uuid,
    count,
    error,
    get,
    group,
    new,
    patch,
    project,
    record,
    sub_work_package,
    work_package,
)

KEYS = [
    "billedOn",
    "id",
    "user",
    "workTimeStart",
    "workTimeEnd",
    "billingStart",
    "billingEnd",
    "message",
    "isJourney",
    "referenceNode",
    "workPackage",
    "priceCategory",
    "priceSurcharge",
]
START, END = 1586004000, 1586005800  # 2020-04-04 12:40 and 13:10 (wall clock)


@pytest.fixture
def me(admin: TestClient) -> str:
    return admin_uuid(admin)


def test_seed_sample_is_rounded_and_derived(admin: TestClient, me: str) -> None:
    category = new(admin, "priceCategories", name="Standard", hourlyRate=80)
    default = new(admin, "priceCategories", name="Junior", hourlyRate=60)
    surcharge = new(admin, "priceSurcharges", name="Weekend", percentage=25)
    wp = work_package(
        admin, project(admin), priceCategory=category, usePriceCategoryPerTimeTracking=True
    )
    swp = sub_work_package(admin, wp, defaultPriceCategory=default)
    rid = record(
        admin,
        me,
        workTimeStart=START,
        workTimeEnd=END,
        message="Briefing about Octaved Flow",
        isJourney=False,
        referenceNode=swp,
        priceSurcharge=surcharge,
    )
    found = get(admin, "timeTrackingRecords", rid)
    assert list(found) == KEYS
    assert found["billingStart"] == 1586003400 and found["billingEnd"] == 1586006100
    assert found["workPackage"] == wp and found["referenceNode"] == swp
    assert found["priceCategory"] == default and found["billedOn"] is None
    assert found["priceSurcharge"] == surcharge and found["user"] == me


def test_rounding_setting_and_explicit_billing_times(admin: TestClient, me: str) -> None:
    wp = work_package(admin, project(admin))
    assert admin.patch(f"{API}/settings", json={"billingRoundingMinutes": 0}).status_code == 204
    exact = get(
        admin,
        "timeTrackingRecords",
        record(admin, me, workPackage=wp, workTimeStart=START, workTimeEnd=END),
    )
    assert (exact["billingStart"], exact["billingEnd"]) == (START, END)
    assert exact["referenceNode"] == wp
    admin.patch(f"{API}/settings", json={"billingRoundingMinutes": 60})
    hourly = get(
        admin, "timeTrackingRecords", record(admin, me, workTimeStart=START, workTimeEnd=END)
    )
    assert (hourly["billingStart"], hourly["billingEnd"]) == (1586001600, 1586008800)
    sent = get(
        admin,
        "timeTrackingRecords",
        record(
            admin,
            me,
            workTimeStart=START,
            workTimeEnd=END,
            billingStart=START + 7,
            billingEnd=END + 7,
        ),
    )
    assert (sent["billingStart"], sent["billingEnd"]) == (START + 7, END + 7)
    # An end rounded up past midnight lands on the next day.
    late = get(
        admin,
        "timeTrackingRecords",
        record(admin, me, workTimeStart=1586043000, workTimeEnd=1586044799),
    )
    assert late["billingEnd"] == 1586044800
    error(
        admin.patch(f"{API}/settings", json={"billingRoundingMinutes": 2000}),
        400,
        "billingRoundingMinutes",
    )


def test_put_patch_delete(admin: TestClient, me: str) -> None:
    wp = work_package(admin, project(admin))
    rid = record(
        admin,
        me,
        workTimeStart=START,
        workTimeEnd=END,
        message="first",
        referenceNode=wp,
        isJourney=True,
    )
    # PATCH changes what is given; a new work start recomputes the billing start.
    patch(admin, "timeTrackingRecords", rid, workTimeStart=START - 900)
    found = get(admin, "timeTrackingRecords", rid)
    assert found["billingStart"] == 1586002500 and found["message"] == "first"
    assert found["billingEnd"] == 1586006100
    # PUT replaces: absent fields go back to their defaults.
    replaced = admin.put(f"{API}/timeTrackingRecords/{rid}", json={"user": me, "message": "new"})
    assert replaced.status_code == 204
    found = get(admin, "timeTrackingRecords", rid)
    assert found["message"] == "new" and found["isJourney"] is False
    assert found["workTimeStart"] is None and found["referenceNode"] is None
    # PUT on an unknown id creates it.
    chosen = "7" * 32
    made = admin.put(f"{API}/timeTrackingRecords/{chosen}", json={"user": me})
    assert made.status_code == 201 and made.json() == {"id": chosen}
    listed = admin.get(f"{API}/timeTrackingRecords?ids[]={chosen}&ids[]={rid}").json()
    assert [r["id"] for r in listed] == [chosen, rid]
    assert admin.delete(f"{API}/timeTrackingRecords/{rid}").status_code == 204
    error(admin.get(f"{API}/timeTrackingRecords/{rid}"), 404)
    error(admin.delete(f"{API}/timeTrackingRecords/{rid}"), 404)
    error(admin.patch(f"{API}/timeTrackingRecords/{rid}", json={"message": "x"}), 404)
    error(admin.get(f"{API}/timeTrackingRecords"), 400, "ids[]")


def test_references_and_reference_node_type(env: Any, admin: TestClient, me: str) -> None:
    proj = project(admin)
    grp = group(admin, proj)
    only_subs = work_package(admin, grp, timeTrackingReferenceNodeType="subWorkPackages")
    only_self = work_package(admin, grp, timeTrackingReferenceNodeType="workPackages")
    swp = sub_work_package(admin, only_subs)
    before = count(env, "flow_time_records")
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "referenceNode": only_subs}),
        400,
        "referenceNode",
    )
    error(
        admin.post(
            f"{API}/timeTrackingRecords",
            json={"user": me, "referenceNode": sub_work_package(admin, only_self)},
        ),
        400,
        "referenceNode",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "referenceNode": grp}),
        400,
        "referenceNode",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "workPackage": swp}),
        400,
        "workPackage",
    )
    error(admin.post(f"{API}/timeTrackingRecords", json={"user": MISSING}), 400, "user")
    error(admin.post(f"{API}/timeTrackingRecords", json={"user": me.lower()}), 400, "user")
    error(admin.post(f"{API}/timeTrackingRecords", json={}), 400, "user")
    error(
        admin.post(
            f"{API}/timeTrackingRecords",
            json={"user": me, "workTimeStart": END, "workTimeEnd": START},
        ),
        400,
        "workTimeEnd",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "workTimeEnd": END}),
        400,
        "workTimeEnd",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "workTimeStart": 1.5}),
        400,
        "workTimeStart",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "message": "m" * 5001}),
        400,
        "message",
    )
    error(
        admin.post(f"{API}/timeTrackingRecords", json={"user": me, "priceSurcharge": MISSING}),
        400,
        "priceSurcharge",
    )
    assert count(env, "flow_time_records") == before
    ok = get(
        admin, "timeTrackingRecords", record(admin, me, referenceNode=swp, workPackage=only_self)
    )
    assert ok["workPackage"] == only_subs
    unassigned = get(admin, "timeTrackingRecords", record(admin, me, referenceNode=None))
    assert unassigned["referenceNode"] is None and unassigned["workPackage"] is None
    with_float = get(admin, "timeTrackingRecords", record(admin, me, workTimeStart=1.0e9))
    assert with_float["workTimeStart"] == 1000000000


def test_price_category_required_and_switching(admin: TestClient, me: str) -> None:
    category = new(admin, "priceCategories", name="Std", hourlyRate=100)
    wp = work_package(admin, project(admin), usePriceCategoryPerTimeTracking=True)
    missing = admin.post(f"{API}/timeTrackingRecords", json={"user": me, "referenceNode": wp})
    error(missing, 400, "priceCategory")
    rid = record(admin, me, referenceNode=wp, priceCategory=category)
    assert get(admin, "timeTrackingRecords", rid)["priceCategory"] == category
    patch(admin, "workPackages", wp, usePriceCategoryPerTimeTracking=False)
    assert get(admin, "timeTrackingRecords", rid)["priceCategory"] is None
    patch(admin, "workPackages", wp, usePriceCategoryPerTimeTracking=True, priceCategory=category)
    assert get(admin, "timeTrackingRecords", rid)["priceCategory"] == category
    plain = work_package(admin, project(admin))
    ignored = record(admin, me, referenceNode=plain, priceCategory=category)
    assert get(admin, "timeTrackingRecords", ignored)["priceCategory"] is None
    disabled = new(admin, "priceCategories", name="Old", hourlyRate=1, isDisabled=True)
    error(
        admin.post(
            f"{API}/timeTrackingRecords",
            json={"user": me, "referenceNode": wp, "priceCategory": disabled},
        ),
        400,
        "priceCategory",
    )


def test_locks_block_time_tracking(admin: TestClient, me: str) -> None:
    proj = project(admin)
    grp = group(admin, proj)
    wp = work_package(admin, grp)
    rid = record(admin, me, referenceNode=wp, workTimeStart=START, workTimeEnd=END)
    patch(admin, "projects", proj, isLocked=True)
    blocked = admin.post(f"{API}/timeTrackingRecords", json={"user": me, "referenceNode": wp})
    error(blocked, 409, code="locked_for_time_tracking")
    error(
        admin.patch(f"{API}/timeTrackingRecords/{rid}", json={"message": "x"}),
        409,
        code="locked_for_time_tracking",
    )
    error(admin.delete(f"{API}/timeTrackingRecords/{rid}"), 409, code="locked_for_time_tracking")
    patch(admin, "projects", proj, isLocked=False)
    # Moving a record out of a locked work package is refused too.
    other = work_package(admin, grp)
    patch(admin, "workPackages", wp, isLocked=True)
    error(admin.patch(f"{API}/timeTrackingRecords/{rid}", json={"referenceNode": other}), 409)
    # Approval, closing, completion and archiving do not lock.
    patch(admin, "workPackages", other, isApprovedForBilling=True, isClosed=True, isCompleted=True)
    assert admin.put(f"{API}/nodes/{other}/archive/1").status_code == 204
    record(admin, me, referenceNode=other)


def test_max_effort_is_enforced_on_projects_and_groups(admin: TestClient, me: str) -> None:
    admin.patch(f"{API}/settings", json={"billingRoundingMinutes": 0})
    proj = project(admin, maxEffort=1)
    grp = group(admin, proj, maxEffort=10, enforceMaxEffort=False)
    wp = work_package(admin, grp, maxEffort=0.1)
    first = record(admin, me, referenceNode=wp, workTimeStart=START, workTimeEnd=START + 2700)
    too_much = admin.post(
        f"{API}/timeTrackingRecords",
        json={"user": me, "referenceNode": wp, "workTimeStart": END, "workTimeEnd": END + 1800},
    )
    body = error(too_much, 409, code="max_effort_exceeded")
    assert "1.25 h" in body["message"]
    record(admin, me, referenceNode=wp, workTimeStart=END, workTimeEnd=END + 900)
    # Running records count 0 until stopped; stopping one over the limit is refused.
    running = record(admin, me, referenceNode=wp, workTimeStart=END + 3600)
    error(
        admin.patch(f"{API}/timeTrackingRecords/{running}", json={"workTimeEnd": END + 3660}), 409
    )
    # Lower the limit below the booked effort: shortening is still allowed, growing is not.
    patch(admin, "projects", proj, maxEffort=0.5)
    patch(admin, "timeTrackingRecords", first, workTimeEnd=START + 1800)
    error(
        admin.patch(f"{API}/timeTrackingRecords/{first}", json={"workTimeEnd": START + 2000}), 409
    )
    patch(admin, "timeTrackingRecords", first, message="just a note")
    patch(admin, "projects", proj, enforceMaxEffort=False)
    patch(admin, "timeTrackingRecords", first, workTimeEnd=START + 9000)


def test_search_idents(admin: TestClient, me: str, env: Any) -> None:
    from tests.flow.helpers import user_uuid

    other = user_uuid(env, env.user({"flow": True})[0])
    proj = project(admin)
    wp = work_package(admin, group(admin, proj))
    swp = sub_work_package(admin, wp)
    day1 = record(admin, me, referenceNode=swp, workTimeStart=START, workTimeEnd=END)
    day2 = record(admin, other, referenceNode=wp, workTimeStart=START + 86400, isJourney=True)
    loose = record(admin, me, billingStart=START - 86400 * 3, billingEnd=START - 86400 * 3 + 60)
    search = f"{API}/timeTrackingRecords/search"
    assert admin.get(f"{search}/date/2020-04-04").json() == [day1]
    assert admin.get(f"{search}/dateRange/2020-04-01-2020-04-05").json() == [loose, day1, day2]
    assert admin.get(f"{search}/isJourney").json() == [day2]
    assert admin.get(f"{search}/isOpen").json() == [day2]
    assert admin.get(f"{search}/userId/{other}").json() == [day2]
    assert admin.get(f"{search}/workPackageId/{wp}").json() == [day1, day2]
    assert admin.get(f"{search}/rootNodeId/{proj}").json() == [day1, day2]
    assert admin.get(f"{search}/rootNodeId/{swp}").json() == [day1]
    assert admin.get(f"{search}/isBilled").json() == []
    objects = admin.get(f"{search}/userId/{other}?yieldObjects=1").json()
    assert objects == [get(admin, "timeTrackingRecords", day2)]
    unbilled_mine = admin.post(
        search,
        json={
            "and": [
                {"ident": "userId", "value": me},
                {"not": {"ident": "isBilled"}},
                {"not": {"ident": "workPackageId", "value": wp}},
            ]
        },
    )
    assert unbilled_mine.json() == [loose]
    error(admin.get(f"{search}/date/1999-01-01"), 400, "value", "invalid_search")
    error(admin.get(f"{search}/date/2020-02-30"), 400, "value")
    error(admin.get(f"{search}/dateRange/2020-04-05-2020-04-01"), 400, "value")
    error(admin.get(f"{search}/userId/abc"), 400, "value")
    assert admin.get(f"{search}/userId/{MISSING}").json() == []
    error(admin.get(f"{search}/isJourney?yieldObjects=yes"), 400, "yieldObjects", "bad_request")
