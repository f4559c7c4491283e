"""A row reached through a reference obeys the same rights as the row read directly: a module
the caller may not read, or a row its owner group hides, is null through the join (whatever
the request does with the field), and is a dangling reference when written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from officina.core.schema import users
from tests.zeyos.helpers import API, account, contact, create, error, listing

PICTURE = {"content": "iVBORw0KGgo="}


def _people(env: Any, admin: Any) -> tuple[int, int]:
    """Two users whose contacts hold different details (first ID < second ID)."""
    zed = contact(admin, lastname="Zed", email="zed@example.com", phone="111", picbinfile=PICTURE)
    adam = contact(admin, lastname="Adam", email="adam@example.com", phone="222")
    first, _ = env.user({})
    second, _ = env.user({})
    with env.store.write() as conn:
        conn.execute(update(users).where(users.c.ID == first).values(contact=zed["ID"]))
        conn.execute(update(users).where(users.c.ID == second).values(contact=adam["ID"]))
    return first, second


def _only(ids: tuple[int, int], body: dict[str, Any]) -> dict[str, Any]:
    """``body`` restricted to the two users (other tests leave users behind)."""
    restrict = {"ID": list(ids)}
    given = body.get("filter")
    return {**body, "filter": [restrict, given] if given is not None else restrict}


def test_users_do_not_leak_contact_details_without_the_contacts_module(env, admin):
    ids = _people(env, admin)
    _, nobody_h = env.user({})
    nobody = env.client(nobody_h)
    error(nobody.post(f"{API}/contacts", json={}), 403)
    rows = listing(
        nobody, "users", _only(ids, {"fields": ["ID", "contact.email", "contact.phone"]})
    )
    assert rows == [
        {"ID": ids[0], "contact.email": None, "contact.phone": None},
        {"ID": ids[1], "contact.email": None, "contact.phone": None},
    ]
    # the same request with the module reads the details
    _, reader_h = env.user({"contacts": False})
    rows = listing(
        env.client(reader_h),
        "users",
        _only(ids, {"fields": ["ID", "contact.email", "contact.phone"]}),
    )
    assert rows == [
        {"ID": ids[0], "contact.email": "zed@example.com", "contact.phone": "111"},
        {"ID": ids[1], "contact.email": "adam@example.com", "contact.phone": "222"},
    ]


def test_filters_on_a_hidden_join_answer_as_on_null(env, admin):
    ids = _people(env, admin)
    _, nobody_h = env.user({})
    _, reader_h = env.user({"contacts": False})
    nobody, reader = env.client(nobody_h), env.client(reader_h)

    def answers(client: Any, condition: Any) -> tuple[Any, Any]:
        body = _only(ids, {"fields": ["ID"], "filter": condition})
        rows = [r["ID"] for r in listing(client, "users", body)]
        return rows, listing(client, "users", {**body, "count": 1})

    # without the module: two different hidden values give identical answers, those of null
    nothing = ([], {"count": 0})
    both = (list(ids), {"count": 2})
    assert answers(nobody, {"contact.email": "zed@example.com"}) == nothing
    assert answers(nobody, {"contact.email": "adam@example.com"}) == nothing
    assert answers(nobody, {"contact.email": {"~~": "zed%"}}) == nothing
    assert answers(nobody, {"contact.phone": {">": "150"}}) == nothing
    assert answers(nobody, {"contact.email": None}) == both
    assert answers(nobody, {"contact.lastname": {"!=": None}}) == nothing
    assert answers(nobody, {"contact.ID": {"IN": [None]}}) == both
    # with the module the same filters do tell the rows apart
    assert answers(reader, {"contact.email": "zed@example.com"}) == ([ids[0]], {"count": 1})
    assert answers(reader, {"contact.phone": {">": "150"}}) == ([ids[1]], {"count": 1})
    assert answers(reader, {"contact.email": None}) == nothing


def test_sort_and_distinct_on_a_hidden_join_see_null(env, admin):
    ids = _people(env, admin)
    _, nobody_h = env.user({})
    _, reader_h = env.user({"contacts": False})
    nobody, reader = env.client(nobody_h), env.client(reader_h)
    for sort in (["contact.lastname"], ["-contact.lastname"], ["contact.phone", "-ID"]):
        body = _only(ids, {"fields": ["ID"], "sort": sort})
        expected = list(ids) if sort[-1] != "-ID" else [ids[1], ids[0]]
        assert [r["ID"] for r in listing(nobody, "users", body)] == expected
    body = _only(ids, {"fields": ["ID"], "sort": ["contact.lastname"]})
    assert [r["ID"] for r in listing(reader, "users", body)] == [ids[1], ids[0]]

    distinct = _only(ids, {"fields": ["contact.lastname"], "distinct": 1})
    assert listing(nobody, "users", distinct) == [{"contact.lastname": None}]
    assert listing(nobody, "users", {**distinct, "count": 1}) == {"count": 1}
    assert listing(reader, "users", distinct) == [
        {"contact.lastname": "Adam"},
        {"contact.lastname": "Zed"},
    ]


def test_expand_through_a_hidden_join_is_null(env, admin):
    ids = _people(env, admin)
    _, nobody_h = env.user({})
    _, reader_h = env.user({"contacts": False})
    body = _only(
        ids, {"fields": {"ID": "ID", "picture": "contact.picbinfile"}, "expand": ["picture"]}
    )
    assert listing(env.client(nobody_h), "users", body) == [
        {"ID": ids[0], "picture": None},
        {"ID": ids[1], "picture": None},
    ]
    assert listing(env.client(reader_h), "users", body) == [
        {"ID": ids[0], "picture": PICTURE},
        {"ID": ids[1], "picture": None},
    ]


def test_a_row_of_a_foreign_owner_group_is_null_through_a_join(env, admin):
    sales = env.group()
    _, member_h = env.user({"accounts": True, "contacts": True}, groups={sales: True})
    _, outsider_h = env.user({"accounts": True, "contacts": True})
    member, outsider = env.client(member_h), env.client(outsider_h)
    hidden = contact(member, lastname="Hidden", email="h@example.com", ownergroup=sales)
    shown = contact(member, lastname="Shown", email="s@example.com")
    first = account(member, lastname="First", contact=hidden["ID"])
    second = account(member, lastname="Second", contact=shown["ID"])
    fields = {"fields": ["lastname", "contact.email"], "sort": ["-contact.email"]}
    assert listing(outsider, "accounts", fields) == [
        {"lastname": "First", "contact.email": None},
        {"lastname": "Second", "contact.email": "s@example.com"},
    ]
    assert listing(member, "accounts", fields) == [
        {"lastname": "Second", "contact.email": "s@example.com"},
        {"lastname": "First", "contact.email": "h@example.com"},
    ]
    asked = {"filter": {"contact.email": "h@example.com"}, "count": 1}
    assert listing(outsider, "accounts", asked) == {"count": 0}
    assert listing(member, "accounts", asked) == {"count": 1}
    # the reference itself is the account's own column and stays as stored
    assert outsider.get(f"{API}/accounts/{first['ID']}").json()["contact"] == hidden["ID"]
    assert outsider.get(f"{API}/accounts/{second['ID']}").json()["contact"] == shown["ID"]


def test_a_reference_to_an_unreadable_row_is_refused_like_a_missing_one(env, admin):
    sales = env.group()
    _, member_h = env.user({"accounts": True, "contacts": True}, groups={sales: True})
    _, accounts_only_h = env.user({"accounts": True})
    _, outsider_h = env.user({"accounts": True, "contacts": True})
    member = env.client(member_h)
    accounts_only, outsider = env.client(accounts_only_h), env.client(outsider_h)
    public = contact(admin, lastname="Public")
    owned = contact(member, lastname="Owned", ownergroup=sales)
    missing = owned["ID"] + 1000
    mine = account(accounts_only, lastname="Mine")
    theirs = account(outsider, lastname="Theirs")

    def refused(client: Any, existing: int, target: int) -> None:
        body = {"lastname": "x", "currency": "EUR", "contact": target}
        assert error(client.put(f"{API}/accounts", json=body), 410) == (
            "Gone: Invalid reference 'contact'"
        )
        patch = client.patch(f"{API}/accounts/{existing}", json={"contact": target})
        assert error(patch, 410) == "Gone: Invalid reference 'contact'"

    # without the contacts module every contact is as good as missing
    for target in (public["ID"], owned["ID"], missing):
        refused(accounts_only, mine["ID"], target)
    # a contact of a group the caller is not in is as good as missing
    for target in (owned["ID"], missing):
        refused(outsider, theirs["ID"], target)
    linked = outsider.patch(f"{API}/accounts/{theirs['ID']}", json={"contact": public["ID"]})
    assert linked.json()["contact"] == public["ID"]
    allowed = create(member, "accounts", lastname="y", currency="EUR", contact=owned["ID"])
    assert allowed["contact"] == owned["ID"]
    # nothing was written by the refused requests
    assert accounts_only.get(f"{API}/accounts/{mine['ID']}").json()["contact"] is None
    names = {r["lastname"] for r in listing(admin, "accounts")}
    assert names == {"Mine", "Theirs", "y"}


def test_creator_and_dates_are_never_taken_from_a_body(env, admin):
    uid, writer_h = env.user({"accounts": True})
    writer = env.client(writer_h)
    forged = {"creator": env.admin.user_id, "creationdate": 1000, "lastmodified": 2000}
    made = account(writer, lastname="Forged", **forged)
    assert made["creator"] == uid
    assert made["creationdate"] > 1_600_000_000 and made["lastmodified"] >= made["creationdate"]
    stored = admin.get(f"{API}/accounts/{made['ID']}").json()
    assert (stored["creator"], stored["creationdate"]) == (uid, made["creationdate"])
    changed = writer.patch(f"{API}/accounts/{made['ID']}", json={**forged, "lastname": "Later"})
    assert changed.status_code == 200, changed.text
    stored = admin.get(f"{API}/accounts/{made['ID']}").json()
    assert stored["lastname"] == "Later"
    assert (stored["creator"], stored["creationdate"]) == (uid, made["creationdate"])
    assert stored["lastmodified"] >= made["creationdate"]
    # the same holds for administrators
    by_admin = account(admin, lastname="Admin forged", **forged)
    assert (by_admin["creator"], by_admin["creationdate"] > 1000) == (env.admin.user_id, True)


def test_a_polymorphic_reference_to_an_unreadable_row_is_refused_like_a_missing_one(env, admin):
    sales = env.group()
    _, nobody_h = env.user({})
    _, outsider_h = env.user({"accounts": True})
    _, member_h = env.user({"accounts": True}, groups={sales: True})
    nobody, outsider, member = env.client(nobody_h), env.client(outsider_h), env.client(member_h)
    public = account(admin, lastname="Public")
    owned = account(member, lastname="Owned", ownergroup=sales)
    missing = owned["ID"] + 1000

    def gone(client: Any, entity: str, body: dict[str, Any], name: str) -> None:
        response = client.put(f"{API}/{entity}", json=body)
        assert error(response, 410) == f"Gone: Invalid reference '{name}'"

    # an index beyond any ID of the target's table is missing too
    gone(nobody, "follows", {"entity": "accounts", "index": 2**40}, "index")
    for target in (public["ID"], owned["ID"], missing):
        gone(nobody, "records", {"text": "x", "entity": "accounts", "index": target}, "index")
        gone(nobody, "follows", {"entity": "accounts", "index": target}, "index")
    for target in (owned["ID"], missing):
        gone(outsider, "follows", {"entity": "accounts", "index": target}, "index")
        body = {"entity1": "accounts", "index1": public["ID"], "entity2": "accounts"}
        gone(outsider, "associations", {**body, "index2": target}, "index2")
    note = create(outsider, "records", text="x", entity="accounts", index=public["ID"])
    moved = outsider.patch(f"{API}/records/{note['ID']}", json={"index": owned["ID"]})
    assert error(moved, 410) == "Gone: Invalid reference 'index'"
    assert create(member, "follows", entity="accounts", index=owned["ID"])["index"] == owned["ID"]
    assert admin.get(f"{API}/records/{note['ID']}").json()["index"] == public["ID"]
    assert [r["ID"] for r in listing(admin, "records")] == [note["ID"]]
    assert len(listing(admin, "associations")) == 0


def test_owners_a_caller_may_not_assign_are_refused_alike_whether_they_exist_or_not(env, admin):
    sales = env.group()
    other, _ = env.user({})
    _, reader_h = env.user({"contacts": True}, groups={sales: False})
    reader = env.client(reader_h)
    for owner in ({"ownergroup": sales}, {"ownergroup": sales + 1000}):
        response = reader.put(f"{API}/contacts", json={"lastname": "x", **owner})
        assert error(response, 403) == "Forbidden: Lacking access permission"
    for owner in ({"owneruser": other}, {"owneruser": other + 1000}):
        response = reader.put(f"{API}/contacts", json={"lastname": "x", **owner})
        assert error(response, 403) == "Forbidden: Lacking access permission"
    # a system column the entity does not offer is refused, naming it
    response = reader.put(f"{API}/contacts", json={"lastname": "x", "_rev": 7})
    assert error(response, 400) == "Bad Request: Invalid field '_rev'"
    assert listing(admin, "contacts") == []


def test_a_kept_list_statement_never_serves_a_caller_of_other_rights(env, admin):
    ids = _people(env, admin)
    _, reader_h = env.user({"contacts": False})
    _, nobody_h = env.user({})
    reader, nobody = env.client(reader_h), env.client(nobody_h)
    # the same shape (other operands) asked first by a caller who may read contacts
    for client, email, expected in (
        (reader, "zed@example.com", [{"ID": ids[0], "contact.lastname": "Zed"}]),
        (nobody, "adam@example.com", []),
        (reader, "adam@example.com", [{"ID": ids[1], "contact.lastname": "Adam"}]),
        (nobody, "zed@example.com", []),
    ):
        body = _only(
            ids, {"fields": ["ID", "contact.lastname"], "filter": {"contact.email": email}}
        )
        assert listing(client, "users", body) == expected
    body = _only(ids, {"fields": ["ID", "contact.lastname"]})
    assert listing(nobody, "users", body) == [
        {"ID": ids[0], "contact.lastname": None},
        {"ID": ids[1], "contact.lastname": None},
    ]


def test_a_creator_bound_entity_takes_its_creator_as_sent_by_form(env):
    uid, writer_h = env.user({})
    writer = env.client(writer_h)
    made = writer.put(f"{API}/records", data={"text": "hello", "creator": str(uid)})
    assert made.status_code == 201, made.text
    assert made.json()["creator"] == uid
    forged = writer.put(f"{API}/records", data={"text": "x", "creator": str(uid + 1)})
    assert error(forged, 403) == "Forbidden: Lacking access permission"
