"""The records face's writes through core: one change entry per written row, the cascade's
rights rule, the account-in-use rule shared with the projects face, and the bookkeeping
(tombstones, revisions, modification times) of every row a cascade touches."""

from __future__ import annotations

import gzip
import time
from typing import Any

import orjson
from sqlalchemy import select, update

from officina.core.backup import backup
from officina.core.schema import changes
from officina.zeyos.tables import table, tombstones
from tests.flow.helpers import customer, new, project, work_package
from tests.zeyos.helpers import API, account, contact, create, error

FLOW = "/main/flow/api/v1"


def entries(env: Any) -> list[dict[str, Any]]:
    with env.store.read() as conn:
        rows = conn.execute(select(changes).order_by(changes.c.ID)).mappings().all()
    return [dict(r) for r in rows]


def stored(env: Any, entity: str, row_id: int) -> dict[str, Any] | None:
    t = table(entity)
    with env.store.read() as conn:
        row = conn.execute(select(t).where(t.c.ID == row_id)).mappings().first()
    return None if row is None else dict(row)


def buried(env: Any) -> set[tuple[str, int]]:
    with env.store.read() as conn:
        return {(r.entity, r.ID) for r in conn.execute(select(tombstones))}


def age(env: Any, entity: str, row_id: int) -> None:
    """Pretend the row was last written long ago, so a new lastmodified is visible."""
    t = table(entity)
    with env.store.write() as conn:
        conn.execute(update(t).where(t.c.ID == row_id).values(lastmodified=1_000))


def fields_of(row: dict[str, Any], old: bool) -> dict[str, list[Any]]:
    return {k: ([v, None] if old else [None, v]) for k, v in row.items() if k != "_rev"}


def test_create_logs_one_entry_with_the_stored_values(env, admin):
    before = int(time.time())
    acc = account(admin, lastname="Acme", extdata={"size": "7"}, tags=["b", "a"])
    [entry] = entries(env)
    row = stored(env, "accounts", acc["ID"])
    assert {k: entry[k] for k in ("instance", "entity", "row_id", "action", "actor", "face")} == {
        "instance": "main",
        "entity": "accounts",
        "row_id": str(acc["ID"]),
        "action": "create",
        "actor": env.admin.user_id,
        "face": "records",
    }
    assert entry["time"] >= before
    assert entry["fields"] == {
        **fields_of(row, old=False),
        "extdata": [None, {"size": "7"}],
        "tags": [None, ["a", "b"]],
    }


def test_update_logs_changed_fields_with_old_and_new_values(env, admin):
    acc = account(admin, lastname="Old", extdata={"k": "1"}, tags=["t"])
    age(env, "accounts", acc["ID"])
    start = len(entries(env))
    url = f"{API}/accounts/{acc['ID']}"
    body = {"lastname": "New", "firstname": "", "extdata": {"k": "2", "n": "x"}, "+tags": ["u"]}
    assert admin.patch(url, json=body).status_code == 200
    [entry] = entries(env)[start:]
    row = stored(env, "accounts", acc["ID"])
    assert row is not None and row["_rev"] == 2
    assert (entry["action"], entry["row_id"]) == ("update", str(acc["ID"]))
    # firstname was already empty: not a change
    assert entry["fields"] == {
        "lastname": ["Old", "New"],
        "lastmodified": [1_000, row["lastmodified"]],
        "extdata": [{"k": "1", "n": None}, {"k": "2", "n": "x"}],
        "tags": [["t"], ["t", "u"]],
    }
    # nothing changed: no entry, no new revision
    assert admin.patch(url, json={"lastname": "New", "tags": ["t", "u"]}).status_code == 200
    assert len(entries(env)) == start + 1
    assert stored(env, "accounts", acc["ID"])["_rev"] == 2


def test_failed_requests_leave_no_entry(env, admin):
    acc = account(admin)
    url = f"{API}/accounts/{acc['ID']}"
    _, reader_h = env.user({"accounts": False})
    reader = env.client(reader_h)
    start = len(entries(env))
    error(admin.put(f"{API}/accounts", json={"lastname": "x", "nosuch": 1}), 400)
    error(admin.patch(url, json={"lastname": "x", "extdata": 5}), 400)
    error(reader.put(f"{API}/accounts", json={"lastname": "x", "currency": "EUR"}), 403)
    error(reader.patch(url, json={"lastname": "x"}), 403)
    error(reader.delete(url), 403)
    error(admin.put(f"{API}/accounts", json={"ID": acc["ID"], "lastname": "x"}), 409)
    error(admin.patch(url, json={"lastname": "x"}, headers={"If-Match": '"stale"'}), 412)
    error(admin.delete(url, headers={"If-Match": '"stale"'}), 412)
    error(admin.delete(f"{API}/accounts/{acc['ID'] + 1000}"), 404)
    assert len(entries(env)) == start
    assert stored(env, "accounts", acc["ID"])["_rev"] == 1


def test_delete_cascade_tombstones_revisions_and_one_entry_per_row(env, admin):
    person = contact(admin, lastname="Person", type=1)
    acc = account(admin, contact=person["ID"], extdata={"k": "v"}, tags=["t"])
    address = create(admin, "addresses", account=acc["ID"], contact=person["ID"], type=1)
    age(env, "accounts", acc["ID"])
    etag = admin.get(f"{API}/accounts/{acc['ID']}").headers["etag"]
    old_person = stored(env, "contacts", person["ID"])
    old_address = stored(env, "addresses", address["ID"])
    old_account = stored(env, "accounts", acc["ID"])
    start = len(entries(env))
    before = int(time.time())
    assert admin.delete(f"{API}/contacts/{person['ID']}").status_code == 204
    # the contact and the address that depends on it are gone and buried
    assert stored(env, "contacts", person["ID"]) is None
    assert stored(env, "addresses", address["ID"]) is None
    assert {("contacts", person["ID"]), ("addresses", address["ID"])} <= buried(env)
    # the account only referred to it: detached, with a new revision and modification time
    detached = stored(env, "accounts", acc["ID"])
    assert detached["contact"] is None
    assert detached["_rev"] == old_account["_rev"] + 1
    assert detached["lastmodified"] >= before
    logged = {(e["entity"], e["row_id"], e["action"]): e["fields"] for e in entries(env)[start:]}
    assert logged == {
        ("contacts", str(person["ID"]), "delete"): fields_of(old_person, old=True),
        ("addresses", str(address["ID"]), "delete"): fields_of(old_address, old=True),
        ("accounts", str(acc["ID"]), "update"): {
            "contact": [person["ID"], None],
            "lastmodified": [1_000, detached["lastmodified"]],
        },
    }
    assert len(entries(env)) == start + 3
    # the detached account's ETag changed with its revision
    assert admin.get(f"{API}/accounts/{acc['ID']}").headers["etag"] != etag


def _production_order(admin: Any, item: int, group: int) -> dict[str, Any]:
    return create(
        admin,
        "transactions",
        transactionnum="P-1",
        currency="EUR",
        type=10,
        item=item,
        ownergroup=group,
    )


def test_cascade_into_rows_the_caller_may_not_write_is_refused_whole(env, admin):
    other = env.group()
    item = create(admin, "items", name="Bolt")
    order = _production_order(admin, item["ID"], other)
    url = f"{API}/items/{item['ID']}"
    # no production permission at all
    _, stock_h = env.user({"inventory": True})
    # production permission, but the order belongs to a group the caller cannot see
    _, outsider_h = env.user({"inventory": True, "production": True})
    # sees the order through a read-only membership: still not theirs to delete
    _, reader_h = env.user({"inventory": True, "production": True}, groups={other: False})
    _, member_h = env.user({"inventory": True, "production": True}, groups={other: True})
    start = len(entries(env))
    assert error(env.client(stock_h).delete(url), 403) == "Forbidden: Lacking access permission"
    error(env.client(outsider_h).delete(url), 403)
    error(env.client(reader_h).delete(url), 403)
    assert stored(env, "items", item["ID"]) is not None
    assert stored(env, "transactions", order["ID"]) is not None
    assert len(entries(env)) == start
    assert buried(env) == set()
    # a writable member may: the order goes with the item
    assert env.client(member_h).delete(url).status_code == 204
    assert stored(env, "transactions", order["ID"]) is None
    assert buried(env) == {("items", item["ID"]), ("transactions", order["ID"])}
    assert sorted((e["entity"], e["action"]) for e in entries(env)[start:]) == [
        ("items", "delete"),
        ("transactions", "delete"),
    ]


def test_rows_about_the_deleted_row_do_not_stop_it(env, admin):
    uid, author_h = env.user({"messages": True})
    _, reader_h = env.user({"messages": True})
    author, reader = env.client(author_h), env.client(reader_h)
    message = create(author, "messages", subject="Hello")
    seen = create(reader, "messagereads", message=message["ID"])
    start = len(entries(env))
    assert author.delete(f"{API}/messages/{message['ID']}").status_code == 204
    assert stored(env, "messagereads", seen["ID"]) is None
    assert {("messages", message["ID"]), ("messagereads", seen["ID"])} <= buried(env)
    assert sorted((e["entity"], e["action"], e["actor"]) for e in entries(env)[start:]) == [
        ("messagereads", "delete", uid),
        ("messages", "delete", uid),
    ]


def test_account_used_by_flow_is_refused_on_the_records_face(env, admin):
    cid = customer(admin, name="Busy Customer", locations=[{"number": "1"}])
    proj = project(admin, cid)
    [acc] = admin.post(f"{API}/accounts", json={"filters": {"lastname": "Busy Customer"}}).json()
    start = len(entries(env))
    rev = stored(env, "accounts", acc["ID"])["_rev"]
    assert error(admin.delete(f"{API}/accounts/{acc['ID']}"), 409) == (
        "Conflict: Record in use (flow_nodes: 1)"
    )
    # the projects face gives the same answer for the same account
    flow = admin.delete(f"{FLOW}/customers/{cid}")
    assert (flow.status_code, flow.json()["code"]) == (409, "in_use")
    assert stored(env, "accounts", acc["ID"])["_rev"] == rev
    assert admin.get(f"{FLOW}/projects/{proj}").json()["flowCustomer"] == cid
    assert len(entries(env)) == start
    assert buried(env) == set()


def test_account_billed_by_flow_is_refused_on_the_records_face(env, admin):
    billed = customer(admin, name="Billed Customer")
    proj = project(admin, billed)
    package = work_package(admin, proj, name="Work")
    new(admin, "billings", projectId=proj, workPackageIds=[package])
    # the project moves to another customer; the billing still names the first one
    assert (
        admin.patch(f"{FLOW}/projects/{proj}", json={"flowCustomer": customer(admin)}).status_code
        == 204
    )
    [acc] = admin.post(f"{API}/accounts", json={"filters": {"lastname": "Billed Customer"}}).json()
    start = len(entries(env))
    assert error(admin.delete(f"{API}/accounts/{acc['ID']}"), 409) == (
        "Conflict: Record in use (flow_billings: 1)"
    )
    assert stored(env, "accounts", acc["ID"]) is not None
    assert len(entries(env)) == start


def test_account_cascade_logs_the_rows_of_other_faces_it_takes_along(env, admin):
    cid = customer(admin, name="Spare Customer", locations=[{"number": "1"}])
    [acc] = admin.post(f"{API}/accounts", json={"filters": {"lastname": "Spare Customer"}}).json()
    start = len(entries(env))
    assert admin.delete(f"{API}/accounts/{acc['ID']}").status_code == 204
    assert admin.get(f"{FLOW}/customers/{cid}").status_code == 404
    assert sorted((e["entity"], e["action"]) for e in entries(env)[start:]) == [
        ("accounts", "delete"),
        ("flow_customer_locations", "delete"),
        ("flow_customers", "delete"),
    ]
    # only the records face's own rows leave tombstones
    assert buried(env) == {("accounts", acc["ID"])}


def test_backup_carries_the_change_log(env, admin, tmp_path):
    acc = account(admin, lastname="Kept")
    path = tmp_path / "main.backup.gz"
    backup(env.store, path, None)
    with gzip.open(path, "rb") as src:
        src.readline()
        logged = [row for name, row in map(orjson.loads, src) if name == "changes"]
    assert [(r["entity"], r["row_id"], r["action"]) for r in logged] == [
        ("accounts", str(acc["ID"]), "create")
    ]
    assert logged[0]["fields"]["lastname"] == [None, "Kept"]
