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
