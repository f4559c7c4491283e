"""The six operations over HTTP, with status codes, headers and no partial writes."""

from __future__ import annotations

import email.utils

from tests.zeyos.helpers import API, account, contact, create, error, listing


def test_create_returns_record_and_headers(admin):
    response = admin.put(f"{API}/accounts", json={"lastname": "Lightexx AG", "currency": "EUR"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["lastname"] == "Lightexx AG"
    assert list(body)[:3] == ["ID", "fork", "ownergroup"]
    assert len(body) == 19
    assert body["visibility"] == 0 and body["type"] == 0 and body["locked"] == 0
    assert body["creator"] == admin_user_id(admin)
    assert response.headers["content-location"] == f"/main/api/v1/accounts/{body['ID']}"
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 34
    parsed = email.utils.parsedate_to_datetime(response.headers["last-modified"])
    assert int(parsed.timestamp()) == body["lastmodified"]


def test_create_answers_what_a_read_answers(env, admin):
    """The answer to a create is the stored row, whoever creates it: administrators get it
    from the INSERT itself, other callers from a read after it."""
    import base64

    _, headers = env.user({"accounts": True, "contacts": True})
    member = env.client(headers)
    picture = {"content": base64.b64encode(b"a picture").decode()}
    for client in (admin, member):
        person = contact(client, lastname="Pic", type=1, picbinfile=picture, tags=["x"])
        owner = account(client, lastname="Owner")
        made = [
            ("accounts", {"lastname": "Acme", "currency": "EUR", "extdata": {"k": "v"}}),
            ("contacts", {"lastname": "Plain", "email": "a@example.com"}),
            ("addresses", {"account": owner["ID"], "contact": person["ID"]}),
        ]
        for entity, body in made:
            created = client.put(f"{API}/{entity}", json=body)
            assert created.status_code == 201, created.text
            read = client.get(f"{API}/{entity}/{created.json()['ID']}")
            assert created.json() == read.json()
            for header in ("etag", "last-modified"):
                assert created.headers.get(header) == read.headers.get(header)


def admin_user_id(client) -> int:
    return client.get("/main/auth/v1/").json()["user"]


def test_create_without_required_field_is_400_and_writes_nothing(admin):
    text = error(admin.put(f"{API}/accounts", json={"lastname": "X"}), 400)
    assert text == "Bad Request: Missing field 'currency'"
    assert listing(admin, "accounts", {"count": True}) == {"count": 0}


def test_create_rejects_unknown_and_bad_values(admin):
    cases = [
        ({"lastname": "X", "currency": "EUR", "nosuch": 1}, "Invalid field 'nosuch'"),
        ({"lastname": "X", "currency": "euro"}, "Invalid value for field 'currency'"),
        ({"lastname": "X", "currency": "EUR", "type": 9}, "Invalid value for field 'type'"),
        ({"lastname": "X", "currency": "EUR", "type": "abc"}, "Invalid value for field 'type'"),
        ({"lastname": "a\nb", "currency": "EUR"}, "Invalid value for field 'lastname'"),
        ({"lastname": "", "firstname": "", "currency": "EUR"}, "Missing field 'lastname'"),
        ({"lastname": "X", "currency": "EUR", "contact": 99999}, "Invalid reference 'contact'"),
        ({"lastname": "X", "currency": "EUR", "fork": 3}, "Invalid value for field 'fork'"),
        (
            {"lastname": "X", "currency": "EUR", "type": 2, "customernum": "C1"},
            "Invalid value for field 'customernum'",
        ),
    ]
    for body, message in cases:
        response = admin.put(f"{API}/accounts", json=body)
        assert response.status_code in (400, 410), (body, response.text)
        assert message in response.text, (body, response.text)
    assert listing(admin, "accounts", {"count": True}) == {"count": 0}


def test_dangling_reference_is_410(admin):
    text = error(
        admin.put(f"{API}/accounts", json={"lastname": "X", "currency": "EUR", "contact": 424242}),
        410,
    )
    assert text == "Gone: Invalid reference 'contact'"


def test_text_is_trimmed_and_multiline_allowed_where_declared(admin):
    acc = account(admin, lastname="  Spaced  ", description=" line one\nline two ")
    assert acc["lastname"] == "Spaced"
    assert acc["description"] == "line one\nline two"


def test_create_with_explicit_id_and_conflicts(admin):
    acc = account(admin, ID=500, lastname="Explicit")
    assert acc["ID"] == 500
    text = error(
        admin.put(f"{API}/accounts", json={"ID": 500, "lastname": "Again", "currency": "EUR"}), 409
    )
    assert text == "Conflict: ID present"
    # the next automatic ID continues after the explicit one
    assert account(admin)["ID"] > 500
    assert admin.delete(f"{API}/accounts/500").status_code == 204
    # IDs of deleted rows are never handed out again
    error(
        admin.put(f"{API}/accounts", json={"ID": 500, "lastname": "Reuse", "currency": "EUR"}), 409
    )


def test_form_encoded_create(admin):
    response = admin.put(
        f"{API}/accounts",
        content="lastname=Form+GmbH&currency=CHF&type=1&extdata[nickname]=Formy&tags[]=a",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["lastname"], body["currency"], body["type"]) == ("Form GmbH", "CHF", 1)
    got = admin.get(f"{API}/accounts/{body['ID']}?extdata=1&tags=1").json()
    assert got["extdata"] == {"nickname": "Formy"}
    assert got["tags"] == ["a"]


def test_missing_and_malformed_bodies(admin):
    assert error(admin.put(f"{API}/accounts"), 400) == "Bad Request: Missing body"
    response = admin.put(
        f"{API}/accounts", content=b'{"lastname": ', headers={"Content-Type": "application/json"}
    )
    assert error(response, 400).startswith("Bad Request: Malformed JSON")
    response = admin.put(
        f"{API}/accounts", content=b"[1,2]", headers={"Content-Type": "application/json"}
    )
    assert error(response, 400).startswith("Bad Request: Malformed JSON")


def test_get_head_and_conditional_reads(admin):
    acc = account(admin)
    url = f"{API}/accounts/{acc['ID']}"
    got = admin.get(url)
    assert got.status_code == 200 and got.json() == acc
    tag = got.headers["etag"]
    head = admin.head(url)
    assert head.status_code == 204 and head.content == b""
    assert head.headers["etag"] == tag
    assert admin.get(url, headers={"If-None-Match": tag}).status_code == 304
    assert admin.get(url, headers={"If-None-Match": f"W/{tag}"}).status_code == 304
    assert admin.get(url, headers={"If-None-Match": '"other", *'}).status_code == 304
    assert admin.head(url, headers={"If-None-Match": tag}).status_code == 304
    assert admin.get(url, headers={"If-None-Match": '"nope"'}).status_code == 200
    later = email.utils.formatdate(acc["lastmodified"] + 10, usegmt=True)
    earlier = email.utils.formatdate(acc["lastmodified"] - 10, usegmt=True)
    assert admin.get(url, headers={"If-Modified-Since": later}).status_code == 304
    assert admin.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    assert admin.get(url, headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_update_changes_etag_and_guards_lost_updates(admin):
    acc = account(admin, lastname="Before")
    url = f"{API}/accounts/{acc['ID']}"
    tag = admin.get(url).headers["etag"]
    response = admin.patch(url, json={"lastname": "After"}, headers={"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json()["lastname"] == "After"
    assert response.json()["currency"] == "EUR"
    new_tag = response.headers["etag"]
    assert new_tag != tag
    stale = admin.patch(url, json={"lastname": "Lost"}, headers={"If-Match": tag})
    assert error(stale, 412) == "Precondition Failed: Non-matching ETag"
    assert admin.get(url).json()["lastname"] == "After"
    old = email.utils.formatdate(acc["lastmodified"] - 100, usegmt=True)
    error(admin.patch(url, json={"lastname": "Lost"}, headers={"If-Unmodified-Since": old}), 412)
    assert admin.patch(url, json={"lastname": "Star"}, headers={"If-Match": "*"}).status_code == 200


def test_update_rules(admin):
    acc = account(admin)
    url = f"{API}/accounts/{acc['ID']}"
    assert error(admin.patch(url, json={"ID": acc["ID"] + 1}), 409) == "Conflict: Non-matching ID"
    assert admin.patch(url, json={"ID": acc["ID"], "lastname": "Same"}).status_code == 200
    error(admin.patch(url, json={"currency": "xx"}), 400)
    error(admin.patch(url, json={"contact": 77777}), 410)
    error(admin.patch(url, json={"lastname": "", "firstname": ""}), 400)
    # nothing of a failing request is written
    assert admin.get(url).json()["lastname"] == "Same"
    tag = admin.get(url).headers["etag"]
    empty = admin.patch(url, json={})
    assert empty.status_code == 200 and empty.headers["etag"] == tag
    assert error(admin.patch(f"{API}/accounts/999999", json={"lastname": "x"}), 404)


def test_update_echoing_record_back_is_accepted(admin):
    acc = account(admin, lastname="Echo")
    acc["lastname"] = "Echoed"
    response = admin.patch(f"{API}/accounts/{acc['ID']}", json=acc)
    assert response.status_code == 200, response.text
    assert response.json()["lastname"] == "Echoed"


def test_delete(admin):
    acc = account(admin)
    url = f"{API}/accounts/{acc['ID']}"
    tag = admin.get(url).headers["etag"]
    error(admin.delete(url, headers={"If-Match": '"stale"'}), 412)
    assert admin.delete(url, headers={"If-Match": tag}).status_code == 204
    error(admin.get(url), 404)
    error(admin.delete(url), 404)


def test_delete_cascades_and_detaches(admin):
    person = contact(admin, lastname="Person", type=1)
    acc = account(admin, contact=person["ID"], extdata={"k": "v"}, tags=["t"])
    address = create(admin, "addresses", account=acc["ID"], contact=person["ID"], type=1)
    assert admin.delete(f"{API}/contacts/{person['ID']}").status_code == 204
    # the address depends on the contact: gone; the account only referenced it: detached
    error(admin.get(f"{API}/addresses/{address['ID']}"), 404)
    assert admin.get(f"{API}/accounts/{acc['ID']}").json()["contact"] is None
    assert admin.delete(f"{API}/accounts/{acc['ID']}").status_code == 204
    # re-creating with the same ID is refused, and no extension data is left behind
    error(
        admin.put(f"{API}/accounts", json={"ID": acc["ID"], "lastname": "x", "currency": "EUR"}),
        409,
    )


def test_routing_errors(admin):
    error(admin.post(f"{API}/nosuchentity", json={}), 404)
    error(admin.get(f"{API}/accounts/abc"), 404)
    error(admin.get(f"{API}/accounts/0"), 404)
    error(admin.get(f"{API}/accounts/-1"), 404)
    response = admin.get(f"{API}/accounts")
    error(response, 405)
    assert "POST" in response.headers["allow"] and "PUT" in response.headers["allow"]
    response = admin.put(f"{API}/users", json={"name": "x"})
    error(response, 405)
    assert response.headers["allow"] == "POST"
    error(admin.patch(f"{API}/users/1", json={"name": "x"}), 405)
    error(admin.put(f"{API}/accounts/5", json={}), 405)
    error(admin.post("/nosuchinstance/api/v1/accounts", json={}), 404)
    # trailing slashes are the same resource, never a redirect
    assert admin.post(f"{API}/accounts/", json={}).status_code == 200
    acc = account(admin)
    assert admin.get(f"{API}/accounts/{acc['ID']}/").status_code == 200


def test_authentication_required(env):
    anonymous = env.client()
    response = anonymous.post(f"{API}/accounts", json={})
    assert error(response, 401) == "Unauthorized: Missing credentials"
    assert response.headers["www-authenticate"] == 'Bearer realm="main"'
    bad = env.client({"Authorization": "Bearer " + "0" * 40})
    response = bad.post(f"{API}/accounts", json={})
    assert error(response, 401) == "Unauthorized: Invalid bearer token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    head = bad.head(f"{API}/accounts/1")
    assert head.status_code == 401 and head.content == b""


def test_read_only_core_entities(admin, env):
    users = listing(admin, "users", {"fields": ["ID", "name", "email"]})
    assert {"ID": env.admin.user_id, "name": "admin", "email": "admin@example.com"} in users
    user = admin.get(f"{API}/users/{env.admin.user_id}").json()
    assert list(user) == [
        "ID",
        "creator",
        "creationdate",
        "lastmodified",
        "contact",
        "activity",
        "name",
        "email",
        "nopublic",
        "apionly",
        "expdate",
    ]
    groups = listing(admin, "groups", {"filters": {"name": "Administrators"}})
    assert len(groups) == 1 and groups[0]["activity"] == 0
    memberships = listing(admin, "groups2users", {"filters": {"user": env.admin.user_id}})
    assert memberships and memberships[0]["group"] == groups[0]["ID"]


def test_config_and_settings(admin, env):
    config = admin.get(f"{API}/config").json()
    assert config["instance"] == "main" and config["currency"] == "EUR"
    assert "accounts" in config["modules"]
    response = admin.get(f"{API}/settings")
    assert error(response, 403) == "Forbidden: Invalid application context"
    error(env.client().get(f"{API}/config"), 401)


def test_served_openapi_describes_the_served_entities(admin):
    doc = admin.get(f"{API}/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]["/accounts"]) == {"post", "put"}
    assert set(doc["paths"]["/accounts/{ID}"]) >= {"get", "head", "patch", "delete"}
    assert set(doc["paths"]["/users"]) == {"post"}
    props = doc["components"]["schemas"]["accounts"]["properties"]
    assert props["currency"]["pattern"] == "^[A-Z]{3}$"


def test_session_cookie_writes_need_the_same_origin(env, admin):
    from officina.core.sessions import create_session

    with env.store.write() as conn:
        sid = create_session(conn, env.admin.user_id, "127.0.0.1")
    browser = env.client()
    browser.cookies.set("ZEYOSID", sid)
    body = {"lastname": "Via cookie", "currency": "EUR"}
    evil = browser.put(f"{API}/accounts", json=body, headers={"Origin": "https://evil.example"})
    assert error(evil, 403) == "Forbidden: Cross-origin request with a session cookie"
    same = browser.put(f"{API}/accounts", json=body, headers={"Origin": "http://testserver"})
    assert same.status_code == 201
    # programs send no Origin; reads are never blocked
    assert browser.post(f"{API}/accounts", json={"count": True}).json() == {"count": 1}
    assert (
        browser.get(
            f"{API}/accounts/{same.json()['ID']}", headers={"Origin": "https://evil.example"}
        ).status_code
        == 200
    )
