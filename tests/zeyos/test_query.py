"""The list query language: fields, joins, filters, search, sort, paging, count, distinct."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.zeyos.helpers import API, account, contact, create, error, listing

CITIES = [
    # lastname, city, country, type
    ("Lightexx AG", "Munich", "DE", 1),
    ("BEQ Building Equipment", "London", "GB", 1),
    ("CleanTexx", "London", "GB", 0),
    ("Österreich Handel", "Wien", "AT", 2),
    ("zeta corp", "Paris", "FR", 4),
    ("alpha ltd", None, None, 0),
]


@pytest.fixture
def data(admin, env):
    rows = {}
    for i, (name, city, country, kind) in enumerate(CITIES):
        person = None
        if city is not None:
            person = contact(admin, lastname=f"{name} contact", city=city, country=country)
        acc = account(
            admin,
            lastname=name,
            type=kind,
            contact=person["ID"] if person else None,
            assigneduser=env.admin.user_id if i % 2 == 0 else None,
            extdata={"nickname": name.split()[0].lower(), "rank": str(i * 10)},
            tags=[f"t{i % 3}"],
        )
        rows[name] = acc
    return rows


def names(rows):
    return [r["lastname"] for r in rows]


def q(admin, **body):
    return listing(admin, "accounts", body)


def test_default_list_is_every_column_in_id_order(admin, data):
    rows = q(admin)
    assert len(rows) == len(CITIES)
    assert [r["ID"] for r in rows] == sorted(r["ID"] for r in rows)
    assert len(rows[0]) == 19 and next(iter(rows[0])) == "ID"


def test_fields_array_and_alias_object(admin, data, env):
    rows = q(
        admin,
        fields=["ID", "lastname", "contact.city", "assigneduser.name", "extdata.nickname"],
        sort=["+ID"],
        limit=1,
    )
    assert rows == [
        {
            "ID": data["Lightexx AG"]["ID"],
            "lastname": "Lightexx AG",
            "contact.city": "Munich",
            "assigneduser.name": "admin",
            "extdata.nickname": "lightexx",
        }
    ]
    rows = q(
        admin,
        fields={"Id": "ID", "Town": "contact.city", "0": "lastname", "Nick": "extdata.missing"},
        limit=1,
    )
    assert list(rows[0]) == ["Id", "Town", "lastname", "Nick"]
    assert rows[0]["Nick"] is None


def test_invalid_paths_are_400(admin, data):
    for body, message in [
        ({"fields": ["nosuch"]}, "Invalid selection field 'nosuch'"),
        ({"fields": ["contact.account.x"]}, "Invalid selection field"),
        ({"fields": ["contact.nosuch"]}, "Invalid selection field"),
        ({"fields": ["lastname.x"]}, "Invalid selection field"),
        ({"fields": {"0": ["lastname"]}}, "Invalid selection field"),
        ({"fields": {"0": {"a": 1}, "1": None}}, "Invalid selection field"),
        ({"filters": {"nosuch": 1}}, "Invalid filter field 'nosuch'"),
        ({"filters": {"lastname": {"LIKE": "x"}}}, "Invalid filter operator 'LIKE'"),
        ({"filters": {"type": "abc"}}, "Invalid filter value"),
        ({"filters": {"type": {"~": "1"}}}, "Invalid filter operator"),
        ({"filters": {"lastname": {"~": "("}}}, "Invalid filter value"),
        ({"filters": {"2": 5}}, "Invalid filter group"),
        ({"filters": ["XOR", {"type": 1}]}, "Invalid filter logic"),
        ({"filters": ["OR"]}, "empty group"),
        ({"sort": ["-nosuch"]}, "Invalid sort field 'nosuch'"),
        ({"expand": ["lastname"]}, "Invalid expand field 'lastname'"),
        ({"limit": 0}, "Invalid limit"),
        ({"limit": "ten"}, "Invalid limit"),
        ({"offset": -1}, "Invalid offset"),
        ({"count": "maybe"}, "Invalid count"),
    ]:
        text = error(admin.post(f"{API}/accounts", json=body), 400)
        assert text.startswith("Bad Request:"), text
        if message:
            assert message in text, (body, text)


def test_duplicate_output_keys_are_400(admin, data):
    text = error(admin.post(f"{API}/accounts", json={"fields": ["ID", "ID"]}), 400)
    assert "duplicate" in text


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": 1}, ["Lightexx AG", "BEQ Building Equipment"]),
        ({"type": "1"}, ["Lightexx AG", "BEQ Building Equipment"]),
        ({"type": {"=": 0}}, ["CleanTexx", "alpha ltd"]),
        (
            {"type": {"!=": 0}},
            ["Lightexx AG", "BEQ Building Equipment", "Österreich Handel", "zeta corp"],
        ),
        ({"type": {"<>": 1, "<": 3}}, ["CleanTexx", "Österreich Handel", "alpha ltd"]),
        ({"type": {">": 1}}, ["Österreich Handel", "zeta corp"]),
        ({"type": {">=": 2, "<=": 2}}, ["Österreich Handel"]),
        ({"type": [0, 4]}, ["CleanTexx", "zeta corp", "alpha ltd"]),
        ({"type": {"in": [2]}}, ["Österreich Handel"]),
        ({"type": {"!IN": [0, 1]}}, ["Österreich Handel", "zeta corp"]),
        ({"type": {"IN": []}}, []),
        ({"contact": None}, ["alpha ltd"]),
        (
            {"contact": {"!=": None}},
            [
                "Lightexx AG",
                "BEQ Building Equipment",
                "CleanTexx",
                "Österreich Handel",
                "zeta corp",
            ],
        ),
        (
            {"contact.city": {"IN": ["London", None]}},
            ["BEQ Building Equipment", "CleanTexx", "alpha ltd"],
        ),
        ({"contact.city": {"!IN": ["London"]}}, ["Lightexx AG", "Österreich Handel", "zeta corp"]),
        (
            {"contact.city": {"!IN": ["London", None]}},
            ["Lightexx AG", "Österreich Handel", "zeta corp"],
        ),
        ({"contact.city": {"!=": "London"}}, ["Lightexx AG", "Österreich Handel", "zeta corp"]),
        ({"lastname": {"~": "^[A-C]"}}, ["BEQ Building Equipment", "CleanTexx"]),
        ({"lastname": {"~*": "^[a-c]"}}, ["BEQ Building Equipment", "CleanTexx", "alpha ltd"]),
        (
            {"lastname": {"!~": "x"}},
            ["BEQ Building Equipment", "Österreich Handel", "zeta corp", "alpha ltd"],
        ),
        ({"lastname": {"!~*": "[lx]"}}, ["zeta corp"]),
        ({"lastname": {"~": "[[:digit:]]"}}, []),
        ({"lastname": {"~~": "%texx%"}}, ["Lightexx AG"]),
        ({"lastname": {"~~": "%Texx%"}}, ["CleanTexx"]),
        ({"lastname": {"~~*": "%TEXX%"}}, ["Lightexx AG", "CleanTexx"]),
        ({"lastname": {"~~*": "österreich%"}}, ["Österreich Handel"]),
        ({"lastname": {"!~~": "%e%"}}, ["alpha ltd"]),
        (
            {"lastname": {"!~~": "%E%"}},
            ["Lightexx AG", "CleanTexx", "Österreich Handel", "zeta corp", "alpha ltd"],
        ),
        ({"lastname": {"!~~*": "%E%"}}, ["alpha ltd"]),
        ({"lastname": {"~~": "alpha\\_ltd"}}, []),
        ({"extdata.nickname": "cleantexx"}, ["CleanTexx"]),
        ({"extdata.rank": {">": 20}}, ["Österreich Handel", "zeta corp", "alpha ltd"]),
        (
            {"extdata.rank": {">": "100"}},
            ["CleanTexx", "Österreich Handel", "zeta corp", "alpha ltd"],
        ),
        ({"extdata.rank": {">": 100}}, []),
        ({"extdata.rank": {"IN": [0, 10]}}, ["Lightexx AG", "BEQ Building Equipment"]),
        ({"extdata.missing": None}, [n for n, *_ in CITIES]),
        ({"2": ["OR", {"type": 2}, {"contact.country": "FR"}]}, ["Österreich Handel", "zeta corp"]),
        (
            ["OR", {"type": 2}, ["AND", {"type": 1}, {"contact.city": "London"}]],
            ["BEQ Building Equipment", "Österreich Handel"],
        ),
        (
            ["NOT", {"type": 0}, {"contact": None}],
            [
                "Lightexx AG",
                "BEQ Building Equipment",
                "CleanTexx",
                "Österreich Handel",
                "zeta corp",
            ],
        ),
        ({"type": 0, "0": ["not", {"lastname": "CleanTexx"}]}, ["alpha ltd"]),
    ],
)
def test_filter_operators(admin, data, condition, expected):
    rows = q(admin, filters=condition, fields=["lastname"])
    assert names(rows) == expected
    legacy = q(admin, filter=condition, fields=["lastname"])
    assert names(legacy) == expected


def test_filter_and_filters_are_anded(admin, data):
    rows = q(admin, filter={"contact.city": "London"}, filters={"type": 1}, fields=["lastname"])
    assert names(rows) == ["BEQ Building Equipment"]


def test_search_query(admin, data):
    assert names(q(admin, query="texx", fields=["lastname"])) == ["Lightexx AG", "CleanTexx"]
    assert names(q(admin, query="  light  AG ", fields=["lastname"])) == ["Lightexx AG"]
    assert names(q(admin, query='"building equipment"', fields=["lastname"])) == [
        "BEQ Building Equipment"
    ]
    assert q(admin, query="100%", fields=["lastname"]) == []
    assert len(q(admin, query="   ")) == len(CITIES)


def test_sort_with_nulls_case_and_joined_columns(admin, data):
    rows = q(admin, fields=["lastname"], sort=["+lastname"])
    assert names(rows) == [
        "alpha ltd",
        "BEQ Building Equipment",
        "CleanTexx",
        "Lightexx AG",
        "zeta corp",
        "Österreich Handel",
    ]
    rows = q(admin, fields=["lastname", "contact.city"], sort=["+contact.city", "-lastname"])
    assert [r["contact.city"] for r in rows] == [
        "London",
        "London",
        "Munich",
        "Paris",
        "Wien",
        None,
    ]
    assert names(rows)[:2] == ["CleanTexx", "BEQ Building Equipment"]
    rows = q(admin, fields=["lastname", "contact.city"], sort="-contact.city")
    assert rows[0]["contact.city"] is None
    rows = q(admin, fields={"Name": "lastname"}, sort=["-Name"], limit=2)
    assert [r["Name"] for r in rows] == ["Österreich Handel", "zeta corp"]
    rows = q(admin, fields=["lastname"], sort=["-extdata.nickname"], limit=2)
    assert names(rows) == ["Österreich Handel", "zeta corp"]


def test_limit_offset_count(admin, data):
    all_rows = q(admin, fields=["ID"])
    page = q(admin, fields=["ID"], limit=2, offset=2)
    assert page == all_rows[2:4]
    assert q(admin, fields=["ID"], limit=20000) == all_rows
    assert q(admin, count=True) == {"count": len(CITIES)}
    assert q(admin, count=1, filters={"type": 1}, limit=1, sort=["-ID"]) == {"count": 2}
    assert q(admin, count="true", distinct=True, fields=["type"]) == {"count": 4}


def test_distinct(admin, data):
    rows = q(admin, distinct=True, fields=["contact.country"], sort=["-contact.country"])
    assert rows == [
        {"contact.country": None},
        {"contact.country": "GB"},
        {"contact.country": "FR"},
        {"contact.country": "DE"},
        {"contact.country": "AT"},
    ]
    error(
        admin.post(
            f"{API}/accounts", json={"distinct": True, "fields": ["type"], "sort": ["lastname"]}
        ),
        400,
    )
    error(admin.post(f"{API}/accounts", json={"distinct": True, "extdata": 1}), 400)


def test_extdata_and_tags_pseudo_fields(admin, data):
    rows = q(admin, fields=["lastname", "extdata", "tags"], limit=1)
    assert rows == [
        {
            "lastname": "Lightexx AG",
            "extdata": {"nickname": "lightexx", "rank": "0"},
            "tags": ["t0"],
        }
    ]
    rows = q(admin, fields=["ID"], extdata=1, tags=1, limit=1)
    assert set(rows[0]) == {"ID", "extdata", "tags"}
    rows = q(admin, fields=["ID"], expand=["extdata"], limit=1)
    assert rows[0]["extdata"]["nickname"] == "lightexx"


def test_visibility_is_plain_data(admin, data):
    acc = data["CleanTexx"]
    admin.patch(f"{API}/accounts/{acc['ID']}", json={"visibility": 1})
    assert len(q(admin)) == len(CITIES)
    assert names(q(admin, filters={"visibility": 1}, fields=["lastname"])) == ["CleanTexx"]


def test_form_encoded_list_matches_json(admin, data):
    json_rows = q(
        admin,
        fields={"Town": "contact.city", "0": "lastname"},
        filters={
            "contact.country": {"IN": ["GB", "DE"]},
            "2": ["OR", {"type": 1}, {"lastname": {"~*": "clean"}}],
        },
        sort=["+lastname"],
        limit=10,
    )
    form = (
        "fields[Town]=contact.city&fields[0]=lastname"
        "&filters[contact.country][IN][]=GB&filters[contact.country][IN][]=DE"
        "&filters[2][0]=OR&filters[2][1][type]=1&filters[2][2][lastname][~*]=clean"
        "&sort[]=%2Blastname&limit=10"
    )
    response = admin.post(
        f"{API}/accounts",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == json_rows
    assert [r["Town"] for r in json_rows] == ["London", "London", "Munich"]
    # JSON text inside form values, and parameters in the query string
    form2 = urllib.parse.urlencode(
        {
            "fields": '{"Town": "contact.city", "0": "lastname"}',
            "filters": '{"contact.country": {"IN": ["GB", "DE"]}, "2": ["OR", {"type": 1},'
            ' {"lastname": {"~*": "clean"}}]}',
            "sort": "+lastname",
        }
    )
    response = admin.post(
        f"{API}/accounts?limit=10",
        content=form2,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == json_rows


def test_get_with_extdata_tags_and_expand(admin, data):
    acc = data["Lightexx AG"]
    got = admin.get(f"{API}/accounts/{acc['ID']}?extdata=1&tags=true").json()
    assert got["extdata"] == {"nickname": "lightexx", "rank": "0"}
    assert got["tags"] == ["t0"]
    error(admin.get(f"{API}/accounts/{acc['ID']}?expand=lastname"), 400)


def test_extdata_and_tag_writes(admin, data):
    acc = data["Lightexx AG"]
    url = f"{API}/accounts/{acc['ID']}"
    before = admin.get(url).headers["etag"]
    response = admin.patch(
        url,
        json={
            "extdata": {"nickname": None, "score": 7.5, "vip": True},
            "+tags": ["b", "A"],
            "-tags": ["t0"],
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != before
    got = admin.get(f"{url}?extdata=1&tags=1").json()
    assert got["extdata"] == {"rank": "0", "score": "7.5", "vip": "1"}
    assert got["tags"] == ["A", "b"]
    admin.patch(url, json={"tags": ["z"]})
    assert admin.get(f"{url}?tags=1").json()["tags"] == ["z"]
    error(admin.patch(url, json={"extdata": {"x": [1]}}), 400)
    error(admin.patch(url, json={"tags": ["/bad"]}), 400)
    error(admin.patch(url, json={"extdata": "nope"}), 400)
    # a failed side write changed nothing
    assert admin.get(f"{url}?tags=1").json()["tags"] == ["z"]


def test_contact_binfile_expand(admin):
    import base64

    payload = base64.b64encode(b"\x89PNG fake picture").decode()
    person = contact(admin, lastname="Pic", type=1, picbinfile={"content": payload})
    assert isinstance(person["picbinfile"], int)
    rows = listing(admin, "contacts", {"fields": ["picbinfile"], "expand": ["picbinfile"]})
    assert rows == [{"picbinfile": {"content": payload}}]
    got = admin.get(f"{API}/contacts/{person['ID']}?expand=picbinfile").json()
    assert got["picbinfile"] == {"content": payload}
    # echoing the integer back is fine; changing it by number is not
    assert (
        admin.patch(
            f"{API}/contacts/{person['ID']}", json={"picbinfile": person["picbinfile"]}
        ).status_code
        == 200
    )
    error(admin.patch(f"{API}/contacts/{person['ID']}", json={"picbinfile": 9999}), 400)
    same = contact(
        admin, lastname="Pic2", type=1, picbinfile={"uri": "data:image/png;base64," + payload}
    )
    assert same["picbinfile"] == person["picbinfile"]


def test_export_as_csv_is_admin_only_and_unbounded(admin, data, env):
    response = admin.post(
        f"{API}/accounts",
        json={
            "export": True,
            "fields": {"Name": "lastname", "Town": "contact.city", "Tags": "tags"},
            "sort": ["+lastname"],
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "Name;Town;Tags"
    assert lines[1] == 'alpha ltd;;"[""t2""]"'
    assert len(lines) == 1 + len(CITIES)
    limited = admin.post(f"{API}/accounts", json={"export": 1, "limit": 2, "fields": ["ID"]})
    assert len(limited.text.splitlines()) == 3
    _, headers = env.user({"accounts": True})
    error(env.client(headers).post(f"{API}/accounts", json={"export": True}), 403)


def test_query_searches_array_columns_as_text(admin) -> None:  # type: ignore[no-untyped-def]
    """Stock transactions search their serial numbers (a JSON array) too."""
    r = admin.post("/main/api/v1/stocktransactions", json={"query": "SN-1"})
    assert r.status_code == 200, r.text
    assert r.json() == []


def test_distinct_over_structured_fields(admin):
    """PostgreSQL cannot compare its json type: distinct rows of JSON and array fields must
    still come back, once each, on both stores."""
    rates = {"AT": 20, "CH": 8.1}
    for name in ("Screw", "Bolt", "Nut"):
        create(admin, "items", name=name, foreigntaxrates=rates if name != "Nut" else None)
    rows = listing(admin, "items", {"distinct": True, "fields": ["foreigntaxrates"]})
    assert sorted(rows, key=lambda r: r["foreigntaxrates"] is None) == [
        {"foreigntaxrates": '{"AT":20,"CH":8.1}'},
        {"foreigntaxrates": None},
    ]
    counted = listing(
        admin, "items", {"distinct": True, "count": True, "fields": ["foreigntaxrates"]}
    )
    assert counted == {"count": 2}
    both = listing(admin, "items", {"distinct": 1, "fields": ["name", "foreigntaxrates"]})
    assert len(both) == 3
