"""Module permissions, row ownership and visibility, with users of different rights."""

from __future__ import annotations

from tests.zeyos.helpers import API, account, contact, create, error, listing


def test_module_permission_decides_403_and_head_404(env, admin):
    acc = account(admin)
    _, none = env.user({})
    nobody = env.client(none)
    assert error(nobody.post(f"{API}/accounts", json={}), 403) == (
        "Forbidden: Lacking access permission"
    )
    error(nobody.get(f"{API}/accounts/{acc['ID']}"), 403)
    head = nobody.head(f"{API}/accounts/{acc['ID']}")
    assert head.status_code == 404 and head.content == b""
    error(nobody.put(f"{API}/accounts", json={"lastname": "x", "currency": "EUR"}), 403)


def test_read_only_permission_cannot_write(env, admin):
    acc = account(admin)
    _, headers = env.user({"accounts": False})
    reader = env.client(headers)
    assert len(listing(reader, "accounts")) == 1
    assert reader.get(f"{API}/accounts/{acc['ID']}").status_code == 200
    error(reader.put(f"{API}/accounts", json={"lastname": "x", "currency": "EUR"}), 403)
    error(reader.patch(f"{API}/accounts/{acc['ID']}", json={"lastname": "y"}), 403)
    error(reader.delete(f"{API}/accounts/{acc['ID']}"), 403)
    assert admin.get(f"{API}/accounts/{acc['ID']}").json()["lastname"] == acc["lastname"]


def test_group_owned_rows_visible_to_members_only(env, admin):
    sales = env.group()
    _, member_h = env.user({"accounts": True, "contacts": True}, groups={sales: True})
    _, reader_h = env.user({"accounts": True}, groups={sales: False})
    _, outsider_h = env.user({"accounts": True, "contacts": True})
    member, reader, outsider = env.client(member_h), env.client(reader_h), env.client(outsider_h)

    owned = account(member, lastname="Owned", ownergroup=sales)
    public = account(member, lastname="Public")
    assert {r["lastname"] for r in listing(outsider, "accounts")} == {"Public"}
    error(outsider.get(f"{API}/accounts/{owned['ID']}"), 404)
    error(outsider.patch(f"{API}/accounts/{owned['ID']}", json={"lastname": "x"}), 404)
    error(outsider.delete(f"{API}/accounts/{owned['ID']}"), 404)
    # an outsider cannot hand a row to a group they do not write for
    error(
        outsider.put(
            f"{API}/accounts", json={"lastname": "x", "currency": "EUR", "ownergroup": sales}
        ),
        403,
    )
    # a member with a read-only membership sees the row but cannot change it
    assert reader.get(f"{API}/accounts/{owned['ID']}").status_code == 200
    error(reader.patch(f"{API}/accounts/{owned['ID']}", json={"lastname": "x"}), 403)
    assert (
        member.patch(f"{API}/accounts/{owned['ID']}", json={"lastname": "Mine"}).status_code == 200
    )
    # joins to an invisible row behave like a null reference
    person = contact(member, lastname="Hidden person", ownergroup=sales)
    linked = account(member, lastname="Linked", contact=person["ID"])
    rows = listing(
        outsider,
        "accounts",
        {"fields": ["lastname", "contact.lastname"], "filters": {"ID": linked["ID"]}},
    )
    assert rows == [{"lastname": "Linked", "contact.lastname": None}]
    # and an invisible target is a dangling reference for writes
    error(outsider.patch(f"{API}/accounts/{public['ID']}", json={"contact": person["ID"]}), 410)
    # admins see everything
    assert len(listing(admin, "accounts")) == 3


def test_private_rows_and_nopublic(env, admin):
    uid, owner_h = env.user({"contacts": True})
    _, other_h = env.user({"contacts": True})
    _, nopublic_h = env.user({"contacts": True}, nopublic=True)
    owner, other, nopublic = env.client(owner_h), env.client(other_h), env.client(nopublic_h)
    private = contact(owner, lastname="Private", owneruser=uid)
    contact(owner, lastname="Everyone")
    assert [r["lastname"] for r in listing(other, "contacts")] == ["Everyone"]
    error(other.get(f"{API}/contacts/{private['ID']}"), 404)
    assert listing(nopublic, "contacts") == []
    # someone else may not be made the owner
    error(other.put(f"{API}/contacts", json={"lastname": "x", "owneruser": uid}), 403)
    error(
        owner.put(
            f"{API}/contacts", json={"lastname": "x", "owneruser": uid, "ownergroup": env.group()}
        ),
        400,
    )


def test_dependent_entity_follows_its_parent(env, admin):
    sales = env.group()
    _, member_h = env.user({"accounts": True, "contacts": True}, groups={sales: True})
    _, outsider_h = env.user({"accounts": True, "contacts": True})
    member, outsider = env.client(member_h), env.client(outsider_h)
    acc = account(member, lastname="Hidden", ownergroup=sales)
    person = contact(member, lastname="P")
    address = create(member, "addresses", account=acc["ID"], contact=person["ID"])
    assert listing(outsider, "addresses") == []
    error(outsider.get(f"{API}/addresses/{address['ID']}"), 404)
    assert len(listing(member, "addresses")) == 1


def test_admin_only_entity(env, admin):
    _, headers = env.user({"accounts": True})
    user = env.client(headers)
    error(user.post(f"{API}/groups2users", json={}), 403)
    assert listing(admin, "groups2users")
    # users and groups are readable by anyone signed in
    assert listing(user, "users", {"fields": ["ID"]})


def _transaction(client, kind: int):
    body = {"transactionnum": f"T-{kind}", "currency": "EUR", "type": kind}
    if kind in (10, 11):
        # the contract requires a production factor on production transactions
        body["productionfactor"] = 1
    return client.put(f"{API}/transactions", json=body)


def test_transactions_need_the_permission_of_their_type(env, admin):
    for kind in (0, 5, 10):
        assert _transaction(admin, kind).status_code == 201
    _, billing_h = env.user({"billing": True, "procurement": False})
    clerk = env.client(billing_h)
    seen = sorted(r["type"] for r in listing(clerk, "transactions", {"fields": ["type"]}))
    assert seen == [0, 5]
    assert _transaction(clerk, 3).status_code == 201
    error(_transaction(clerk, 6), 403)
    error(_transaction(clerk, 11), 403)
    invoice = listing(clerk, "transactions", {"filters": {"type": 3}})[0]
    # changing the type needs the permission of the new type too
    error(clerk.patch(f"{API}/transactions/{invoice['ID']}", json={"type": 7}), 403)
    production = listing(admin, "transactions", {"filters": {"type": 10}})[0]
    error(clerk.get(f"{API}/transactions/{production['ID']}"), 404)
    _, nothing_h = env.user({"notes": True})
    error(env.client(nothing_h).post(f"{API}/transactions", json={}), 403)


def test_participants_follow_their_parent_module(env, admin):
    mailing = create(admin, "mailinglists", name="Newsletter")
    campaign = create(admin, "campaigns", name="Spring")
    create(admin, "participants", name="On list", mailinglist=mailing["ID"])
    create(admin, "participants", name="In campaign", campaign=campaign["ID"])
    _, lists_h = env.user({"mailinglists": True})
    lists = env.client(lists_h)
    assert [r["name"] for r in listing(lists, "participants")] == ["On list"]
    error(lists.put(f"{API}/participants", json={"name": "x", "campaign": campaign["ID"]}), 403)
    error(lists.put(f"{API}/participants", json={"name": "x"}), 400)


def test_creator_bound_entities(env, admin):
    uid, first_h = env.user({})
    _, second_h = env.user({})
    first, second = env.client(first_h), env.client(second_h)
    record = create(first, "records", text="hello")
    assert record["creator"] == uid
    comment = create(first, "comments", record=record["ID"], text="mine")
    # another user sees them but may not change or delete them, nor write as someone else
    assert second.get(f"{API}/comments/{comment['ID']}").status_code == 200
    error(second.patch(f"{API}/comments/{comment['ID']}", json={"text": "x"}), 403)
    error(second.delete(f"{API}/records/{record['ID']}"), 403)
    error(second.put(f"{API}/records", json={"text": "x", "creator": uid}), 403)
    assert (
        first.patch(f"{API}/comments/{comment['ID']}", json={"text": "edited"}).json()["text"]
        == "edited"
    )


def test_developer_entities_are_read_only_and_need_dev(env, admin):
    _, user_h = env.user({"accounts": True})
    error(env.client(user_h).post(f"{API}/applications", json={}), 403)
    assert admin.post(f"{API}/applications", json={}).status_code == 200
    response = admin.put(f"{API}/applications", json={"name": "x"})
    error(response, 405)
    assert response.headers["allow"] == "POST"
