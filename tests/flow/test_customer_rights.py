"""A Flow customer is an account: the projects face answers exactly as the records face does.

Module permission ``accounts`` (read to see customers, writable to change them) and the
account's owner group decide; a customer the caller may not see is a missing one.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from officina.core import rights
from officina.zeyos.registry import ENTITIES
from tests.flow.helpers import API, count, error, new
from tests.zeyos.helpers import API as RECORDS
from tests.zeyos.helpers import account


def _flow_id(account_id: int) -> str:
    return f"{'0' * 16}{account_id:016X}"


def _setup(env: Any, admin: TestClient) -> dict[str, Any]:
    sales = env.group()
    public = account(admin, lastname="Public")
    owned = account(admin, lastname="Owned", ownergroup=sales)
    _, outsider_h = env.user({"flow": True, "accounts": True})
    _, reader_h = env.user({"flow": True, "accounts": True}, groups={sales: False})
    _, member_h = env.user({"flow": True, "accounts": True}, groups={sales: True})
    return {
        "sales": sales,
        "public": _flow_id(public["ID"]),
        "owned": _flow_id(owned["ID"]),
        "owned_id": owned["ID"],
        "outsider": env.client(outsider_h),
        "reader": env.client(reader_h),
        "member": env.client(member_h),
    }


def test_registry_and_core_agree_on_the_accounts_module() -> None:
    entity = ENTITIES["accounts"]
    assert entity.read_perms == rights.ACCOUNTS.read
    assert entity.write_perms == rights.ACCOUNTS.write


def test_hidden_customer_is_missing_for_an_outsider(env: Any, admin: TestClient) -> None:
    s = _setup(env, admin)
    outsider, owned = s["outsider"], s["owned"]
    # The records face hides the account ...
    assert outsider.get(f"{RECORDS}/accounts/{s['owned_id']}").status_code == 404
    # ... and so does every customer read of the projects face.
    assert [c["name"] for c in outsider.get(f"{API}/customers").json()] == ["Public"]
    assert (
        outsider.get(f"{API}/customers", params={"ids[]": [owned, s["public"]]}).json()[0]["id"]
        == s["public"]
    )
    assert len(outsider.get(f"{API}/customers", params={"ids[]": [owned]}).json()) == 0
    body = error(outsider.get(f"{API}/customers/{owned}"), 404, code="not_found")
    assert body["message"] == "customer not found"
    assert outsider.get(f"{API}/customers/search/name/Owned").json() == []
    found = outsider.post(f"{API}/customers/search", json={"ident": "name", "value": "wne"})
    assert found.status_code == 200 and found.json() == []


def test_hidden_customer_cannot_be_changed_or_deleted(env: Any, admin: TestClient) -> None:
    s = _setup(env, admin)
    outsider, owned = s["outsider"], s["owned"]
    for body in ({"name": "Mine"}, {"isLocked": True}):
        response = outsider.patch(f"{API}/customers/{owned}", json=body)
        assert error(response, 404, code="not_found")["message"] == "customer not found"
    error(outsider.delete(f"{API}/customers/{owned}"), 404, code="not_found")
    stored = admin.get(f"{RECORDS}/accounts/{s['owned_id']}").json()
    assert (stored["lastname"], stored["locked"]) == ("Owned", 0)
    # Taking the id for a new customer is no way round: derived ids are reserved.
    taken = outsider.put(f"{API}/customers/{owned}", json={"name": "x"})
    error(taken, 400, field="customerId", code="validation_error")


def test_hidden_customer_cannot_be_named_by_a_project(env: Any, admin: TestClient) -> None:
    s = _setup(env, admin)
    before = count(env, "flow_nodes")
    response = s["outsider"].post(f"{API}/projects", json={"name": "P", "flowCustomer": s["owned"]})
    body = error(response, 400, field="flowCustomer", code="validation_error")
    assert body["errors"] == [
        {"field": "flowCustomer", "message": f"unknown customer {s['owned']}"}
    ]
    assert count(env, "flow_nodes") == before
    # Nor moved onto one by a patch.
    proj = new(s["outsider"], "projects", name="P", flowCustomer=s["public"])
    moved = s["outsider"].patch(f"{API}/projects/{proj}", json={"flowCustomer": s["owned"]})
    error(moved, 400, field="flowCustomer")
    assert admin.get(f"{API}/projects/{proj}").json()["flowCustomer"] == s["public"]
    # A member sees it and may use it.
    assert new(s["member"], "projects", name="Q", flowCustomer=s["owned"])


def test_read_only_membership_sees_but_cannot_change(env: Any, admin: TestClient) -> None:
    s = _setup(env, admin)
    reader, owned = s["reader"], s["owned"]
    assert reader.get(f"{API}/customers/{owned}").json()["name"] == "Owned"
    assert {c["name"] for c in reader.get(f"{API}/customers").json()} == {"Owned", "Public"}
    denied = reader.patch(f"{API}/customers/{owned}", json={"isLocked": True})
    assert error(denied, 403, code="forbidden")["message"] == (
        "the customer belongs to a group you may not write for"
    )
    error(reader.delete(f"{API}/customers/{owned}"), 403, code="forbidden")
    # The records face answers the same.
    denied_records = reader.patch(f"{RECORDS}/accounts/{s['owned_id']}", json={"locked": 1})
    assert denied_records.status_code == 403
    assert admin.get(f"{RECORDS}/accounts/{s['owned_id']}").json()["locked"] == 0


def test_writable_member_changes_and_deletes(env: Any, admin: TestClient) -> None:
    s = _setup(env, admin)
    member, owned = s["member"], s["owned"]
    assert member.patch(f"{API}/customers/{owned}", json={"name": "Renamed"}).status_code == 204
    assert admin.get(f"{RECORDS}/accounts/{s['owned_id']}").json()["lastname"] == "Renamed"
    assert member.delete(f"{API}/customers/{owned}").status_code == 204
    assert admin.get(f"{RECORDS}/accounts/{s['owned_id']}").status_code == 404


def test_accounts_module_permission(env: Any, admin: TestClient) -> None:
    public = _flow_id(account(admin, lastname="Public")["ID"])
    _, flow_only_h = env.user({"flow": True})
    flow_only = env.client(flow_only_h)
    for response in (
        flow_only.get(f"{API}/customers"),
        flow_only.get(f"{API}/customers/{public}"),
        flow_only.get(f"{API}/customers/search/name/Public"),
    ):
        assert error(response, 403, code="forbidden")["message"] == (
            "the accounts permission is required"
        )
    before = count(env, "accounts")
    denied = flow_only.post(f"{API}/customers", json={"name": "New"})
    assert error(denied, 403, code="forbidden")["message"] == (
        "a writable accounts permission is required"
    )
    refused = flow_only.post(f"{API}/projects", json={"name": "P", "flowCustomer": public})
    error(refused, 400, field="flowCustomer")

    _, reader_h = env.user({"flow": True, "accounts": False})
    reader = env.client(reader_h)
    assert [c["name"] for c in reader.get(f"{API}/customers").json()] == ["Public"]
    error(reader.post(f"{API}/customers", json={"name": "New"}), 403, code="forbidden")
    error(reader.patch(f"{API}/customers/{public}", json={"name": "x"}), 403, code="forbidden")
    error(reader.delete(f"{API}/customers/{public}"), 403, code="forbidden")
    assert count(env, "accounts") == before
    assert admin.get(f"{API}/customers/{public}").json()["name"] == "Public"


def test_nopublic_caller_sees_no_unowned_customer(env: Any, admin: TestClient) -> None:
    account_id = account(admin, lastname="Public")["ID"]
    _, headers = env.user({"flow": True, "accounts": True}, nopublic=True)
    client = env.client(headers)
    assert client.get(f"{RECORDS}/accounts/{account_id}").status_code == 404
    assert client.get(f"{API}/customers").json() == []
    error(client.get(f"{API}/customers/{_flow_id(account_id)}"), 404, code="not_found")
