"""Rules of the wider catalogue: JSON and array columns, files, polymorphic links, checks."""

from __future__ import annotations

import base64

from officina.zeyos.limits import LIMITS
from tests.zeyos.helpers import API, account, create, error, listing


def test_json_column_is_text_unless_expanded(admin):
    items = [{"type": 0, "name": "Widget", "amount": 2}]
    tx = create(admin, "transactions", transactionnum="INV-1", currency="EUR", type=3, items=items)
    assert isinstance(tx["items"], str)
    plain = listing(admin, "transactions", {"fields": ["items"]})
    assert plain == [{"items": tx["items"]}]
    expanded = listing(admin, "transactions", {"fields": ["items"], "expand": ["items"]})
    assert expanded == [{"items": items}]
    got = admin.get(f"{API}/transactions/{tx['ID']}?expand=items").json()
    assert got["items"] == items
    # the JSON text form is accepted on write too; a wrong shape is not
    again = create(
        admin,
        "transactions",
        transactionnum="INV-2",
        currency="EUR",
        type=3,
        items='[{"name": "Text form"}]',
    )
    assert again["items"] == '[{"name":"Text form"}]'
    error(
        admin.put(
            f"{API}/transactions",
            json={"transactionnum": "X", "currency": "EUR", "items": {"not": "a list"}},
        ),
        400,
    )
    error(admin.post(f"{API}/transactions", json={"sort": ["items"]}), 400)
    error(admin.post(f"{API}/transactions", json={"filters": {"items": "x"}}), 400)


def test_array_column_is_a_postgres_literal_unless_expanded(admin):
    note = create(admin, "notes", name="With files", attachments=["a.pdf", "b c.pdf"])
    assert note["attachments"] == '{a.pdf,"b c.pdf"}'
    got = admin.get(f"{API}/notes/{note['ID']}?expand=attachments").json()
    assert got["attachments"] == ["a.pdf", "b c.pdf"]
    # the literal form round-trips
    copy = create(admin, "notes", name="Copy", attachments=note["attachments"])
    assert copy["attachments"] == note["attachments"]


def test_message_binfile_expand_and_binfiles_listing(admin):
    payload = base64.b64encode(b"Hello World!").decode()
    message = create(admin, "messages", subject="Hi", binfile={"content": payload})
    rows = listing(admin, "messages", {"fields": ["binfile"], "expand": ["binfile"]})
    assert rows == [{"binfile": {"content": payload}}]
    files = listing(admin, "binfiles")
    assert files == [
        {"ID": message["binfile"], "size": 12, "hash": "\\xed076287532e86365e841e92bfc50d8c"}
    ]
    error(admin.put(f"{API}/binfiles", json={}), 405)


def test_binfile_size_limit(admin, monkeypatch):
    monkeypatch.setattr(LIMITS, "binfile_bytes", 10)
    payload = base64.b64encode(b"x" * 11).decode()
    response = admin.put(
        f"{API}/messages", json={"subject": "big", "binfile": {"content": payload}}
    )
    assert response.status_code == 413
    assert listing(admin, "messages", {"count": 1}) == {"count": 0}


def test_advertised_but_unstored_extension_data(admin, env):
    record = create(admin, "records", text="note")
    got = admin.get(f"{API}/records/{record['ID']}?tags=1&extdata=1").json()
    assert got["tags"] == []
    assert "extdata" not in got
    error(admin.patch(f"{API}/records/{record['ID']}", json={"tags": ["x"]}), 400)


def test_polymorphic_links_are_removed_with_their_target(admin):
    acc = account(admin)
    other = account(admin, lastname="Other")
    link = create(
        admin,
        "associations",
        entity1="accounts",
        index1=acc["ID"],
        entity2="accounts",
        index2=other["ID"],
    )
    channel = create(admin, "channels", name="News")
    pinned = create(
        admin, "entities2channels", entity="accounts", index=acc["ID"], channel=channel["ID"]
    )
    history = create(admin, "records", text="called", entity="accounts", index=acc["ID"])
    assert admin.delete(f"{API}/accounts/{acc['ID']}").status_code == 204
    error(admin.get(f"{API}/associations/{link['ID']}"), 404)
    error(admin.get(f"{API}/entities2channels/{pinned['ID']}"), 404)
    # activity history stays
    assert admin.get(f"{API}/records/{history['ID']}").status_code == 200


def test_catalogue_checks(admin):
    error(
        admin.put(
            f"{API}/associations",
            json={"entity1": "nosuch", "index1": 1, "entity2": "accounts", "index2": 1},
        ),
        400,
    )
    error(
        admin.put(f"{API}/opportunities", json={"name": "Deal", "status": 5, "probability": 50}),
        400,
    )
    assert (
        admin.put(
            f"{API}/opportunities", json={"name": "Deal", "status": 5, "probability": 100}
        ).status_code
        == 201
    )
    error(admin.put(f"{API}/appointments", json={"name": "A", "datefrom": 20, "dateto": 10}), 400)
    error(admin.put(f"{API}/records", json={"text": "x", "entity": "accounts"}), 400)
    item = create(admin, "items", name="Part")
    error(admin.put(f"{API}/components", json={"item": item["ID"], "component": item["ID"]}), 400)
    error(admin.put(f"{API}/stocktransactions", json={"item": item["ID"], "amount": 0}), 400)
    error(
        admin.put(
            f"{API}/transactions",
            json={"transactionnum": "P", "currency": "EUR", "type": 3, "item": item["ID"]},
        ),
        400,
    )
    ticket = create(admin, "tickets", name="T")
    project = create(admin, "projects", name="P")
    error(
        admin.put(
            f"{API}/tasks", json={"name": "x", "ticket": ticket["ID"], "project": project["ID"]}
        ),
        400,
    )
    error(admin.put(f"{API}/devices", json={"item": item["ID"]}), 400)
    assert (
        admin.put(f"{API}/devices", json={"item": item["ID"], "serialnum": "S1"}).status_code == 201
    )


def test_production_transactions_and_their_factor(admin):
    def put(**fields):
        return admin.put(
            f"{API}/transactions", json={"transactionnum": "P", "currency": "EUR", **fields}
        )

    text = error(put(type=10), 400)
    assert text == (
        "Bad Request: Invalid value for field 'productionfactor': "
        "a production transaction requires a production factor"
    )
    text = error(put(type=3, productionfactor=2), 400)
    assert text == (
        "Bad Request: Invalid value for field 'productionfactor': "
        "only production transactions have a production factor"
    )
    error(put(type=11, productionfactor=0), 400)
    assert listing(admin, "transactions", {"count": True}) == {"count": 0}
    made = create(
        admin, "transactions", transactionnum="P", currency="EUR", type=11, productionfactor=3
    )
    assert made["productionfactor"] == 3
    # an update is judged on the row it would produce: a production transaction keeps its factor
    text = error(
        admin.patch(f"{API}/transactions/{made['ID']}", json={"productionfactor": None}), 400
    )
    assert "requires a production factor" in text
    text = error(admin.patch(f"{API}/transactions/{made['ID']}", json={"type": 3}), 400)
    assert "only production transactions have a production factor" in text
    changed = admin.patch(
        f"{API}/transactions/{made['ID']}", json={"type": 3, "productionfactor": None}
    )
    assert changed.status_code == 200, changed.text
    assert admin.get(f"{API}/transactions/{made['ID']}").json()["productionfactor"] is None


def test_only_promotion_coupons_carry_a_code(admin):
    text = error(admin.put(f"{API}/coupons", json={"name": "C", "type": 1, "code": "XMAS"}), 400)
    assert text == (
        "Bad Request: Invalid value for field 'code': only a promotion coupon (type 0) has a code"
    )
    assert listing(admin, "coupons", {"count": True}) == {"count": 0}
    promotion = create(admin, "coupons", name="P", type=0, code="XMAS")
    assert promotion["code"] == "XMAS"
    individual = create(admin, "coupons", name="I", type=1)
    assert individual["type"] == 1
    text = error(admin.patch(f"{API}/coupons/{promotion['ID']}", json={"type": 1}), 400)
    assert "only a promotion coupon" in text


def test_cross_field_messages_name_the_rule(admin):
    ticket = create(admin, "tickets", name="T")
    project = create(admin, "projects", name="P")
    text = error(
        admin.put(
            f"{API}/tasks", json={"name": "x", "ticket": ticket["ID"], "project": project["ID"]}
        ),
        400,
    )
    assert text == (
        "Bad Request: Invalid value for field 'project': "
        "'ticket' and 'project' exclude each other"
    )
    item = create(admin, "items", name="Part")
    text = error(admin.put(f"{API}/devices", json={"item": item["ID"]}), 400)
    assert text == (
        "Bad Request: Invalid value for field 'serialnum': "
        "exactly one of 'serialnum' and 'chargenum' must be set"
    )


def test_slow_list_query_is_cancelled_with_503(admin, monkeypatch):
    for i in range(30):
        account(admin, lastname=f"Row {i}")
    monkeypatch.setattr(LIMITS, "statement_seconds", 0.000001)
    # a cross join of the table with itself twice keeps the store busy long enough
    body = {
        "filters": ["OR"] + [{"lastname": {"~*": f"^(a|b|c|r)+o*w {i}$"}} for i in range(200)],
        "count": True,
    }
    response = admin.post(f"{API}/accounts", json=body)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    monkeypatch.setattr(LIMITS, "statement_seconds", 30.0)
    assert admin.post(f"{API}/accounts", json=body).status_code == 200


def test_client_conventions(admin):
    # transactions have no visibility column: filtering on it is refused, not ignored
    text = error(admin.post(f"{API}/transactions", json={"filters": {"visibility": 0}}), 400)
    assert text == "Bad Request: Invalid filter field 'visibility'"
    # the CLI asks for an expansion as ?<column>=1 and sends self-aliased field objects
    payload = base64.b64encode(b"pic").decode()
    person = create(admin, "contacts", lastname="P", type=1, picbinfile={"content": payload})
    got = admin.get(f"{API}/contacts/{person['ID']}?picbinfile=1&positions=1").json()
    assert got["picbinfile"] == {"content": payload}
    rows = listing(admin, "contacts", {"fields": {"ID": "ID", "lastname": "lastname"}})
    assert rows == [{"ID": person["ID"], "lastname": "P"}]
