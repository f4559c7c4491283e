"""Customers CU1–CU8, locations, price overrides, and the customer↔account mapping."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.flow.helpers import (
    API,
    MISSING,
    count,
    customer,
    error,
    get,
    new,
    patch,
    project,
)

RECORDS = "/main/api/v1"
KEYS = [
    "id",
    "customerNumber",
    "defaultBillingType",
    "journeyBillingMode",
    "fileExportLanguage",
    "isLocked",
    "isInternal",
    "locations",
    "name",
    "requiresInternalCharge",
    "priceCategoryOverrides",
    "priceSurchargeOverrides",
    "showSignatureFieldInPdfTimeSheets",
]


def test_create_get_list(admin: TestClient) -> None:
    first = customer(
        admin,
        name="beta GmbH",
        customerNumber="C-2",
        isInternal=True,
        defaultBillingType="fixedPrice",
        journeyBillingMode="none",
        fileExportLanguage="de",
    )
    second = customer(admin, name="Alpha AG")
    found = get(admin, "customers", first)
    assert list(found) == KEYS
    assert found["customerNumber"] == "C-2" and found["isInternal"] is True
    assert found["defaultBillingType"] == "fixedPrice" and found["fileExportLanguage"] == "de"
    assert found["showSignatureFieldInPdfTimeSheets"] is False
    assert get(admin, "customers", second)["fileExportLanguage"] == "en"
    everyone = admin.get(f"{API}/customers").json()
    assert [c["id"] for c in everyone] == [second, first]
    some = admin.get(f"{API}/customers?ids[]={first}&ids[]={MISSING}&ids[]={second}").json()
    assert [c["id"] for c in some] == [first, second]
    assert admin.get(f"{API}/customers/{first}").headers["etag"]


def test_put_with_id_and_conflicts(admin: TestClient) -> None:
    chosen = "C" * 32
    response = admin.put(f"{API}/customers/{chosen}", json={"name": "Chosen"})
    assert response.status_code == 201 and response.json() == {"id": chosen}
    error(admin.put(f"{API}/customers/{chosen}", json={"name": "Again"}), 409, code="id_exists")
    reserved = admin.put(f"{API}/customers/{'0' * 31}1", json={"name": "Reserved"})
    error(reserved, 400, "customerId")
    error(admin.put(f"{API}/customers/{chosen.lower()}", json={"name": "x"}), 400, "customerId")


def test_patch_and_locations(env: Any, admin: TestClient) -> None:
    cid = customer(
        admin,
        locations=[
            {"number": "HQ", "city": "Berlin", "street": "Main 1"},
            {"number": "B2", "city": "Hamburg"},
            {"number": "B3", "city": "Munich"},
        ],
    )
    locations = get(admin, "customers", cid)["locations"]
    assert [loc["number"] for loc in locations] == ["B2", "B3", "HQ"]
    hq = next(loc for loc in locations if loc["number"] == "HQ")
    patch(
        admin,
        "customers",
        cid,
        name="Renamed",
        locations=[
            {"id": hq["id"], "city": "Potsdam"},
            {"number": "B2", "zip": "20095"},
            {"number": "NEW", "city": "Cologne"},
        ],
    )
    found = get(admin, "customers", cid)
    by_number = {loc["number"]: loc for loc in found["locations"]}
    assert set(by_number) == {"HQ", "B2", "NEW"}  # B3 was not named: deleted
    assert by_number["HQ"]["city"] == "Potsdam" and by_number["HQ"]["street"] == "Main 1"
    assert by_number["B2"]["zip"] == "20095" and by_number["B2"]["city"] == "Hamburg"
    assert found["name"] == "Renamed"
    before = count(env, "flow_customer_locations")
    bad = admin.patch(
        f"{API}/customers/{cid}",
        json={"name": "Never", "locations": [{"id": MISSING}, {"city": "nowhere"}]},
    )
    error(bad, 400, "locations[0].id")
    dup = admin.patch(
        f"{API}/customers/{cid}", json={"locations": [{"number": "HQ"}, {"id": hq["id"]}]}
    )
    error(dup, 400, "locations[1]")
    clash = admin.patch(
        f"{API}/customers/{cid}",
        json={
            "locations": [
                {"number": "HQ", "name": "x"},
                {"number": "B2", "zip": "1"},
                {"id": hq["id"]},
            ]
        },
    )
    error(clash, 400)
    assert get(admin, "customers", cid)["name"] == "Renamed"
    assert count(env, "flow_customer_locations") == before
    error(admin.patch(f"{API}/customers/{cid}", json={"locations": None}), 400, "locations")
    patch(admin, "customers", cid, locations=[])
    assert get(admin, "customers", cid)["locations"] == []
    missing_number = admin.post(f"{API}/customers", json={"name": "x", "locations": [{}]})
    error(missing_number, 400, "locations[0].number")


def test_price_overrides(admin: TestClient) -> None:
    category = new(admin, "priceCategories", name="Senior", hourlyRate=120)
    surcharge = new(admin, "priceSurcharges", name="Night", percentage=50)
    cid = customer(
        admin,
        priceCategoryOverrides={category: {"hourlyRate": 95, "note": "deal"}},
        priceSurchargeOverrides={surcharge: {"percentage": 25}},
    )
    found = get(admin, "customers", cid)
    assert found["priceCategoryOverrides"] == {category: {"hourlyRate": 95, "note": "deal"}}
    assert found["priceSurchargeOverrides"] == {surcharge: {"percentage": 25}}
    unknown = admin.patch(
        f"{API}/customers/{cid}", json={"priceCategoryOverrides": {MISSING: {"hourlyRate": 1}}}
    )
    error(unknown, 400, f"priceCategoryOverrides.{MISSING}")
    negative = admin.patch(
        f"{API}/customers/{cid}", json={"priceCategoryOverrides": {category: {"hourlyRate": -5}}}
    )
    error(negative, 400, f"priceCategoryOverrides.{category}.hourlyRate")
    not_object = admin.patch(
        f"{API}/customers/{cid}", json={"priceSurchargeOverrides": {surcharge: 5}}
    )
    error(not_object, 400, f"priceSurchargeOverrides.{surcharge}")
    error(admin.delete(f"{API}/priceCategories/{category}"), 409, code="in_use")
    error(admin.delete(f"{API}/priceSurcharges/{surcharge}"), 409, code="in_use")
    patch(admin, "customers", cid, priceCategoryOverrides={}, priceSurchargeOverrides={})
    assert admin.delete(f"{API}/priceCategories/{category}").status_code == 204


def test_delete_customer(env: Any, admin: TestClient) -> None:
    used = customer(admin, name="Used")
    project(admin, used)
    error(admin.delete(f"{API}/customers/{used}"), 409, code="in_use")
    spare = customer(admin, name="Spare", locations=[{"number": "1"}])
    accounts_before = count(env, "accounts")
    assert admin.delete(f"{API}/customers/{spare}").status_code == 204
    assert count(env, "accounts") == accounts_before - 1
    error(admin.get(f"{API}/customers/{spare}"), 404, code="not_found")
    error(admin.delete(f"{API}/customers/{spare}"), 404)


def test_search_customers(admin: TestClient) -> None:
    internal = customer(
        admin, name="In-house", isInternal=True, requiresInternalCharge=True, customerNumber="K-100"
    )
    plain = customer(admin, name="Outside 100% Ltd", isLocked=True)
    free = customer(admin, name="Free", isInternal=True)
    assert admin.get(f"{API}/customers/search/name/HOUSE").json() == [internal]
    assert admin.get(f"{API}/customers/search/name/100%25").json() == [plain]
    assert admin.get(f"{API}/customers/search/customerNumber/k-100").json() == [internal]
    assert admin.get(f"{API}/customers/search/isLocked/1").json() == [plain]
    assert sorted(admin.get(f"{API}/customers/search/isInternal/1").json()) == sorted(
        [internal, free]
    )
    assert admin.get(f"{API}/customers/search/requiresInternalCharge/1").json() == [internal]
    assert admin.get(f"{API}/customers/search/requiresInternalCharge/0").json() == [free]
    objects = admin.get(f"{API}/customers/search/isLocked/1?yieldObjects=1").json()
    assert objects == [get(admin, "customers", plain)]
    found = admin.post(
        f"{API}/customers/search",
        json={"or": [{"ident": "name", "value": "free"}, {"ident": "isLocked", "value": "1"}]},
    )
    assert sorted(found.json()) == sorted([free, plain])
    error(admin.get(f"{API}/customers/search/isLocked/yes"), 400, "value", "invalid_search")
    error(admin.get(f"{API}/customers/search/name"), 400, "value", "invalid_search")
    error(admin.get(f"{API}/customers/search/colour/red"), 400, "ident", "invalid_search")


def test_flow_customer_is_a_records_account(admin: TestClient) -> None:
    cid = customer(admin, name="Shared Inc", customerNumber="S-1", isLocked=True)
    accounts = admin.post(f"{RECORDS}/accounts", json={"filters": {"lastname": "Shared Inc"}})
    assert accounts.status_code == 200, accounts.text
    [account] = accounts.json()
    assert account["customernum"] == "S-1" and account["locked"] == 1
    assert account["currency"] == "EUR" and account["type"] == 1
    one = admin.get(f"{RECORDS}/accounts/{account['ID']}")
    etag = one.headers["etag"]
    patch(admin, "customers", cid, name="Shared Corp")
    again = admin.get(f"{RECORDS}/accounts/{account['ID']}")
    assert again.json()["lastname"] == "Shared Corp"
    assert again.headers["etag"] != etag
    # … and a change made through the records face shows in Flow.
    changed = admin.patch(f"{RECORDS}/accounts/{account['ID']}", json={"customernum": "S-2"})
    assert changed.status_code == 200, changed.text
    assert get(admin, "customers", cid)["customerNumber"] == "S-2"


def test_records_account_is_a_flow_customer(admin: TestClient) -> None:
    made = admin.put(
        f"{RECORDS}/accounts",
        json={"lastname": "Records Only", "currency": "EUR", "customernum": "R-9", "type": 1},
    )
    assert made.status_code == 201, made.text
    account_id = made.json()["ID"]
    supplier = admin.put(
        f"{RECORDS}/accounts", json={"lastname": "Supplier", "currency": "EUR", "type": 2}
    )
    assert supplier.status_code == 201
    listed = admin.get(f"{API}/customers").json()
    [found] = [c for c in listed if c["name"] == "Records Only"]
    assert found["customerNumber"] == "R-9"
    assert found["id"] == f"{account_id:032X}"
    assert "Supplier" not in [c["name"] for c in listed]
    # The derived id is stable: Flow writes keep it, projects can use it.
    patch(admin, "customers", found["id"], isInternal=True)
    assert get(admin, "customers", found["id"])["isInternal"] is True
    proj = project(admin, found["id"])
    assert get(admin, "projects", proj)["flowCustomer"] == found["id"]
    assert admin.get(f"{API}/projects/search/customerId/{found['id']}").json() == [proj]


def test_bad_customer_bodies_write_nothing(env: Any, admin: TestClient) -> None:
    before = count(env, "accounts")
    error(admin.post(f"{API}/customers", json={"name": "x" * 192}), 400, "name")
    error(admin.post(f"{API}/customers", json={}), 400, "name")
    error(
        admin.post(f"{API}/customers", json={"name": "x", "fileExportLanguage": "nl"}),
        400,
        "fileExportLanguage",
    )
    error(admin.post(f"{API}/customers", json={"name": "x", "isLocked": 1}), 400, "isLocked")
    error(
        admin.post(f"{API}/customers", json={"name": "x", "customerNumber": "9" * 192}),
        400,
        "customerNumber",
    )
    assert count(env, "accounts") == before


def test_account_deleted_through_records_face(admin: TestClient) -> None:
    cid = customer(admin, name="Gone Soon", locations=[{"number": "1"}])
    proj = project(admin, cid)
    [account] = admin.post(
        f"{RECORDS}/accounts", json={"filters": {"lastname": "Gone Soon"}}
    ).json()
    # In use by a project: refused as the projects face refuses it, nothing changed.
    refused = admin.delete(f"{RECORDS}/accounts/{account['ID']}")
    assert (refused.status_code, refused.text) == (409, "Conflict: Record in use (flow_nodes: 1)")
    assert get(admin, "projects", proj)["flowCustomer"] == cid
    assert admin.get(f"{API}/customers/{cid}").status_code == 200
    # Unused, it goes with what Flow keeps about it (the customer and its locations).
    spare = customer(admin, name="Spare Soon", locations=[{"number": "1"}])
    [unused] = admin.post(
        f"{RECORDS}/accounts", json={"filters": {"lastname": "Spare Soon"}}
    ).json()
    assert admin.delete(f"{RECORDS}/accounts/{unused['ID']}").status_code == 204
    error(admin.get(f"{API}/customers/{spare}"), 404)
