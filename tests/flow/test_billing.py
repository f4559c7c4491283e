"""Billings BI1–BI4 and officina's additions, with the scripted monthly-billing scenario:
customer → project → groups → work packages → sub work packages → time by two users →
billing for April, whose sums must equal the calculation written out below."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

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
    new,
    patch,
    project,
    record,
    sub_work_package,
    user_uuid,
    work_package,
)

BILLING_KEYS = [
    "id",
    "createdOn",
    "createdBy",
    "projectId",
    "customerId",
    "journeyBillingMode",
    "flatRateJourneyPrice",
    "sums",
    "timeRecordIds",
    "workPackageIds",
    "interval",
    "intervalFrom",
    "intervalTo",
    "internalComment",
    "publicNote",
    "erpStatus",
    "erpReference",
    "erpMessage",
]


def at(day: str, hhmm: str) -> int:
    """A wall-clock time encoded as if it were UTC, as Flow clients send it."""
    moment = dt.datetime.fromisoformat(f"{day}T{hhmm}:00")
    return calendar.timegm(moment.timetuple())


def setup_scenario(env: Any, admin: TestClient) -> dict[str, Any]:
    assert (
        admin.patch(f"{API}/settings", json={"billing.flatRateJourneyPrice": 40}).status_code == 204
    )
    senior = new(admin, "priceCategories", name="Senior", hourlyRate=120)
    junior = new(admin, "priceCategories", name="Junior", hourlyRate=60)
    weekend = new(admin, "priceSurcharges", name="Weekend", percentage=50)
    acme = customer(admin, name="ACME", priceCategoryOverrides={senior: {"hourlyRate": 100}})
    proj = project(admin, acme, name="Website")
    design, build = group(admin, proj, name="Design"), group(admin, proj, name="Build")
    wp_a = work_package(admin, design, name="Concept", priceCategory=senior)
    wp_b = work_package(
        admin, design, name="Layouts", billingType="effortCap", maxEffort=2, priceCategory=junior
    )
    wp_c = work_package(admin, build, name="Setup", billingType="fixedPrice", fixedPrice=500)
    wp_d = work_package(
        admin,
        build,
        name="Warranty fixes",
        billingType="freeOfCharge",
        freeOfChargeReason="warranty",
    )
    swp_a1 = sub_work_package(admin, wp_a, name="Workshop")
    other_wp = work_package(admin, project(admin, acme, name="Other"), priceCategory=senior)
    u1 = admin_uuid(admin)
    u2 = user_uuid(env, env.user({"flow": True})[0])
    r = {
        1: record(
            admin,
            u1,
            referenceNode=swp_a1,
            workTimeStart=at("2021-04-05", "09:00"),
            workTimeEnd=at("2021-04-05", "11:00"),
        ),
        2: record(
            admin,
            u2,
            referenceNode=wp_a,
            workTimeStart=at("2021-04-06", "13:10"),
            workTimeEnd=at("2021-04-06", "14:20"),
            priceSurcharge=weekend,
        ),
        3: record(
            admin,
            u1,
            referenceNode=wp_b,
            workTimeStart=at("2021-04-07", "08:00"),
            workTimeEnd=at("2021-04-07", "10:00"),
        ),
        4: record(
            admin,
            u2,
            referenceNode=wp_b,
            workTimeStart=at("2021-04-08", "08:00"),
            workTimeEnd=at("2021-04-08", "09:30"),
        ),
        5: record(
            admin,
            u1,
            referenceNode=wp_c,
            workTimeStart=at("2021-04-09", "10:00"),
            workTimeEnd=at("2021-04-09", "12:00"),
        ),
        6: record(
            admin,
            u2,
            referenceNode=wp_d,
            workTimeStart=at("2021-04-30", "22:00"),
            workTimeEnd=at("2021-04-30", "23:00"),
        ),
        7: record(
            admin,
            u1,
            referenceNode=wp_a,
            isJourney=True,
            workTimeStart=at("2021-04-05", "08:00"),
            workTimeEnd=at("2021-04-05", "08:40"),
        ),
        8: record(
            admin,
            u1,
            referenceNode=wp_a,
            workTimeStart=at("2021-05-03", "09:00"),
            workTimeEnd=at("2021-05-03", "10:00"),
        ),
        9: record(admin, u2, referenceNode=wp_a, workTimeStart=at("2021-04-20", "09:00")),
        10: record(
            admin,
            u1,
            referenceNode=other_wp,
            workTimeStart=at("2021-04-12", "09:00"),
            workTimeEnd=at("2021-04-12", "10:00"),
        ),
    }
    return {
        "customer": acme,
        "project": proj,
        "wps": [wp_a, wp_b, wp_c, wp_d],
        "other_wp": other_wp,
        "records": r,
        "u1": u1,
    }


def test_monthly_billing_scenario(env: Any, admin: TestClient) -> None:
    s = setup_scenario(env, admin)
    wp_a, wp_b, wp_c, wp_d = s["wps"]
    r = s["records"]
    billing_id = new(
        admin,
        "billings",
        projectId=s["project"],
        workPackageIds=[wp_a, wp_b, wp_c, wp_d, s["other_wp"], MISSING, wp_a],
        interval="month",
        intervalFrom="2021-04-01",
        intervalTo="2021-04-30",
        internalComment="April",
        publicNote="Thank you",
    )
    url = f"{API}/billings/{billing_id}?withSums=1&withTimeRecordIds=1&withWorkPackageIds=1"
    billing = admin.get(url).json()
    assert list(billing) == BILLING_KEYS
    assert billing["workPackageIds"] == [wp_a, wp_b, wp_c, wp_d]
    assert billing["timeRecordIds"] == [r[7], r[1], r[2], r[3], r[4], r[5], r[6]]
    assert billing["customerId"] == s["customer"] and billing["createdBy"] == s["u1"]
    assert billing["journeyBillingMode"] == "flatRate" and billing["flatRateJourneyPrice"] == 40
    assert (billing["interval"], billing["intervalFrom"], billing["intervalTo"]) == (
        "month",
        "2021-04-01",
        "2021-04-30",
    )
    # Hand calculation (15-minute rounding: start down, end up):
    #   r1 SWP of Concept  09:00–11:00  2.00 h × 100 (customer rate for Senior)  = 200
    #   r2 Concept         13:10–14:20 → 13:00–14:30  1.50 h × 100 × 1.5 (Weekend) = 225
    #   r3+r4 Layouts (effortCap 2 h): 2.00 h + 1.50 h at 60 = 210, capped: 210 × 2/3.5 = 120
    #   r5 Setup: fixed price 500 (first billing of the package)
    #   r6 Warranty fixes: free of charge, 0 (30 April 22:00 local: inside the month)
    #   r7 journey 08:00–08:40 → 0.75 h, flat rate 40
    #   amount = 200 + 225 + 120 + 500 + 0 + 40 = 1085
    #   workHours = 2 + 70/60 + 2 + 1.5 + 2 + 1 = 9.67; billingHours = 2+1.5+2+1.5+2+1 = 10
    assert billing["sums"] == {
        "timeRecordCount": 7,
        "workHours": 9.67,
        "billingHours": 10,
        "journeyCount": 1,
        "journeyHours": 0.75,
        "journeyAmount": 40,
        "amount": 1085,
    }
    plain = admin.get(f"{API}/billings/{billing_id}").json()
    assert "sums" not in plain and "timeRecordIds" not in plain and "workPackageIds" not in plain
    for n in (1, 2, 3, 4, 5, 6, 7):
        assert get(admin, "timeTrackingRecords", r[n])["billedOn"] == billing["createdOn"]
    for n in (8, 9, 10):
        assert get(admin, "timeTrackingRecords", r[n])["billedOn"] is None
    billed = admin.get(f"{API}/timeTrackingRecords/search/isBilled").json()
    assert sorted(billed) == sorted(r[n] for n in range(1, 8))

    # Billed records are immutable.
    error(
        admin.patch(f"{API}/timeTrackingRecords/{r[1]}", json={"message": "x"}),
        409,
        code="record_billed",
    )
    error(
        admin.put(f"{API}/timeTrackingRecords/{r[1]}", json={"user": s["u1"]}),
        409,
        code="record_billed",
    )
    error(admin.delete(f"{API}/timeTrackingRecords/{r[1]}"), 409, code="record_billed")
    error(admin.delete(f"{API}/workPackages/{wp_c}"), 409, code="in_use")

    # A second billing without interval takes only what is finished and not billed yet.
    second = new(admin, "billings", projectId=s["project"], workPackageIds=[wp_a, wp_c])
    again = admin.get(f"{API}/billings/{second}?withSums=1&withTimeRecordIds=1").json()
    assert again["timeRecordIds"] == [r[8]]
    assert again["interval"] is None
    #   r8 Concept 09:00–10:00 = 1 h × 100 = 100; Setup's fixed price went to the first billing.
    assert again["sums"]["amount"] == 100 and again["sums"]["timeRecordCount"] == 1
    both = admin.get(f"{API}/billings?ids[]={second}&ids[]={billing_id}&withSums=1").json()
    assert [b["id"] for b in both] == [second, billing_id]
    assert [b["sums"]["amount"] for b in both] == [100, 1085]

    # Cancelling a billing (officina extension) makes its records editable again.
    assert admin.delete(f"{API}/billings/{second}").status_code == 204
    assert get(admin, "timeTrackingRecords", r[8])["billedOn"] is None
    patch(admin, "timeTrackingRecords", r[8], message="editable again")
    error(admin.get(f"{API}/billings/{second}"), 404)


def test_billing_validation_writes_nothing(env: Any, admin: TestClient) -> None:
    proj = project(admin)
    wp = work_package(admin, proj)
    before = count(env, "flow_billings")
    cases = [
        ({"workPackageIds": []}, "projectId"),
        ({"projectId": proj}, "workPackageIds"),
        ({"projectId": MISSING, "workPackageIds": []}, "projectId"),
        ({"projectId": wp, "workPackageIds": []}, "projectId"),
        ({"projectId": proj, "workPackageIds": ["abc"]}, "workPackageIds[0]"),
        ({"projectId": proj, "workPackageIds": [], "intervalFrom": "2021-04-01"}, "intervalTo"),
        ({"projectId": proj, "workPackageIds": [], "interval": "month"}, "interval"),
        (
            {
                "projectId": proj,
                "workPackageIds": [],
                "intervalFrom": "2021-05-01",
                "intervalTo": "2021-04-30",
            },
            "intervalTo",
        ),
        (
            {
                "projectId": proj,
                "workPackageIds": [],
                "intervalFrom": "2021-02-29",
                "intervalTo": "2021-03-01",
            },
            "intervalFrom",
        ),
        ({"projectId": proj, "workPackageIds": [], "interval": "fortnight"}, "interval"),
        ({"projectId": proj, "workPackageIds": [], "publicNote": "p" * 5001}, "publicNote"),
    ]
    for body, field in cases:
        error(admin.post(f"{API}/billings", json=body), 400, field)
    assert count(env, "flow_billings") == before


def test_billing_with_id_flags_and_extensions(admin: TestClient) -> None:
    proj = project(admin)
    wp = work_package(admin, proj)
    chosen = "B" * 32
    made = admin.put(
        f"{API}/billings/{chosen}",
        json={
            "projectId": proj,
            "workPackageIds": [wp],
            "intervalFrom": "2021-01-01",
            "intervalTo": "2021-01-31",
        },
    )
    assert made.status_code == 201 and made.json() == {"id": chosen}
    error(
        admin.put(f"{API}/billings/{chosen}", json={"projectId": proj, "workPackageIds": []}),
        409,
        code="id_exists",
    )
    found = get(admin, "billings", chosen)
    assert found["interval"] == "custom" and found["erpStatus"] == "none"
    empty = admin.get(f"{API}/billings/{chosen}?withSums=1").json()["sums"]
    assert empty["timeRecordCount"] == 0 and empty["amount"] == 0
    error(admin.get(f"{API}/billings/{chosen}?withSums=2"), 400, "withSums", "bad_request")
    error(admin.get(f"{API}/billings"), 400, "ids[]")
    patch(
        admin, "billings", chosen, erpStatus="transferred", erpReference="INV-7", publicNote="Paid"
    )
    found = get(admin, "billings", chosen)
    assert (found["erpStatus"], found["erpReference"], found["publicNote"]) == (
        "transferred",
        "INV-7",
        "Paid",
    )
    error(admin.delete(f"{API}/billings/{chosen}"), 409, code="in_use")
    assert admin.get(f"{API}/billings/search/projectId/{proj}").json() == [chosen]
    assert admin.get(f"{API}/billings/search/erpStatus/transferred").json() == [chosen]
    error(admin.get(f"{API}/billings/search/erpStatus/lost"), 400, "value")
    customer_id = get(admin, "projects", proj)["flowCustomer"]
    tree_query = {
        "and": [
            {"ident": "customerId", "value": customer_id},
            {"not": {"ident": "erpStatus", "value": "none"}},
        ]
    }
    objects = admin.post(
        f"{API}/billings/search?yieldObjects=1&withWorkPackageIds=1", json=tree_query
    ).json()
    assert [b["workPackageIds"] for b in objects] == [[wp]]
    error(admin.delete(f"{API}/projects/{proj}"), 409, code="in_use")


def test_internal_customer_is_not_charged(env: Any, admin: TestClient) -> None:
    category = new(admin, "priceCategories", name="Std", hourlyRate=80)
    internal = customer(admin, name="Own dept", isInternal=True)
    wp = work_package(admin, project(admin, internal), priceCategory=category)
    record(
        admin,
        admin_uuid(admin),
        referenceNode=wp,
        workTimeStart=at("2021-04-01", "09:00"),
        workTimeEnd=at("2021-04-01", "10:00"),
    )
    billing_id = new(
        admin,
        "billings",
        projectId=get(admin, "workPackages", wp)["projectId"],
        workPackageIds=[wp],
    )
    sums = admin.get(f"{API}/billings/{billing_id}?withSums=1").json()["sums"]
    assert sums["amount"] == 0 and sums["billingHours"] == 1
    patch(admin, "customers", internal, requiresInternalCharge=True)
    sums = admin.get(f"{API}/billings/{billing_id}?withSums=1").json()["sums"]
    assert sums["amount"] == 80
    no_category = work_package(admin, project(admin, internal))
    record(
        admin,
        admin_uuid(admin),
        referenceNode=no_category,
        workTimeStart=at("2021-04-01", "09:00"),
        workTimeEnd=at("2021-04-01", "10:00"),
    )
    missing = new(
        admin,
        "billings",
        projectId=get(admin, "workPackages", no_category)["projectId"],
        workPackageIds=[no_category],
    )
    assert admin.get(f"{API}/billings/{missing}?withSums=1").json()["sums"]["amount"] is None


def test_billing_needs_the_billing_grant(env: Any, admin: TestClient) -> None:
    proj = project(admin)
    _, headers = env.user({"flow": True})
    writer = env.client(headers)
    denied = writer.post(f"{API}/billings", json={"projectId": proj, "workPackageIds": []})
    error(denied, 403, code="forbidden")
    _, billing_headers = env.user({"flow": True, "flow.billing": True})
    allowed = env.client(billing_headers).post(
        f"{API}/billings", json={"projectId": proj, "workPackageIds": []}
    )
    assert allowed.status_code == 201
