"""Jobs over HTTP: add-or-change, merge semantics, parameters, references, concurrency,
visibility, paging and the one-statement list."""

from __future__ import annotations

import base64

from sqlalchemy import event, func, select

from officina.core.etags import version_tag
from officina.goana.tables import job_parameter, template
from tests.conftest import Env, basic
from tests.goana.fixtures import address, pizza_template
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def test_add_then_change_only_sent_fields(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "Pizza delivery")
    email, _ = person(env)
    r = c.post(
        f"{BASE}/jobs",
        json={
            "Key": "2024/0001",
            "JobTemplateTitle": "Pizza delivery",
            "PlannedTime": "2024-03-05T11:30:00",
            "Duration": "00:30:00",
            "UserEmail": email.upper(),
            "Parameters": [
                {"Name": "ADDRESS", "Location": address()},
                {"Name": "PIZZA", "Key": "M"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith("/jobs/2024%2F0001")
    assert r.headers["etag"] == version_tag("jobs", 1)  # the one ETag format of every face
    job = r.json()
    assert job["Status"] == "Open" and job["UserEmail"] == email
    assert job["Title"] == "9.50"  # the UseAsJobTitle parameter's value
    notes = [p for p in job["Parameters"] if p["Name"] == "NOTE"]
    assert notes and notes[0]["Value"] == "none"  # default value filled on creation

    r = c.post(f"{BASE}/jobs", json={"Key": "2024/0001", "PlannedTime": "2024-03-06T08:00:00"})
    assert r.status_code == 200
    changed = r.json()
    assert changed["PlannedTime"] == "2024-03-06T08:00:00"
    assert changed["Duration"] == "00:30:00" and changed["UserEmail"] == email
    assert changed["Parameters"] == job["Parameters"]
    assert r.headers["etag"] == version_tag("jobs", 2)

    r = c.post(f"{BASE}/jobs", json={"Key": "2024/0001", "UserEmail": ""})
    assert r.status_code == 200 and r.json()["UserEmail"] is None
    r = c.post(f"{BASE}/jobs", json={"Key": "2024/0001", "UserEmail": "nobody@example.com"})
    assert r.status_code == 400 and problem_fields(r) == {"UserEmail"}


def test_lower_case_properties_and_round_trip(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "Pizza delivery")
    r = c.post(
        f"{BASE}/jobs",
        json={
            "key": "a/b/c",
            "jobtemplatetitle": "Pizza delivery",
            "REGIONS": ["x"],
            "parameters": [{"name": "pizza", "value": "Funghi"}],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert "Key" in body and "key" not in body
    assert [p["Key"] for p in body["Parameters"] if p["Name"] == "PIZZA"] == ["F"]
    got = c.get(f"{BASE}/jobs/a%2Fb%2Fc")
    assert got.status_code == 200 and got.json() == body
    again = c.post(f"{BASE}/jobs", json=got.json())
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items() if k != "Modified"} == {
        k: v for k, v in body.items() if k != "Modified"
    }
    r = c.put(f"{BASE}/jobs/a%2Fb%2Fc", json={"Duration": "01:00:00"})
    assert r.status_code == 200 and r.json()["Duration"] == "01:00:00"
    assert c.delete(f"{BASE}/jobs/a%2Fb%2Fc").status_code == 204
    assert c.get(f"{BASE}/jobs/a%2Fb%2Fc").status_code == 404


def test_unknown_template_simple_vs_full_shape(env: Env) -> None:
    c = admin(env)
    r = c.post(
        f"{BASE}/jobs", json={"JobTemplateTitle": "Window cleaning", "Parameters": [{"Name": "X"}]}
    )
    assert r.status_code == 400 and problem_fields(r) == {"JobTemplateTitle"}
    full = {
        "Key": "W1",
        "JobTemplateTitle": "Window cleaning",
        "ColorCode": "#CACACA",
        "Parameters": [
            {"Name": "FLOORS", "Type": "Number", "Title": "Floors", "Value": "3"},
            {"Name": "SITE", "Type": "Location", "Title": "Site", "Location": address()},
        ],
    }
    # A bad value in the full shape writes neither the template nor the job.
    bad = {
        **full,
        "Parameters": [{**full["Parameters"][0], "Value": "three"}, full["Parameters"][1]],
    }
    r = c.post(f"{BASE}/jobs", json=bad)
    assert r.status_code == 400 and problem_fields(r) == {"Parameters[0].Value"}
    with env.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(template)).scalar_one() == 0
    r = c.post(f"{BASE}/jobs", json=full)
    assert r.status_code == 201, r.text
    tid = r.json()["JobTemplateId"]
    t = c.get(f"{BASE}/jobtemplates/{tid}").json()
    assert t["Title"] == "Window cleaning" and t["ColorCode"] == "#CACACA"
    assert [p["Name"] for p in t["Parameters"]] == ["FLOORS", "SITE"]


def test_template_references_must_agree_and_never_change(env: Env) -> None:
    c = admin(env)
    a = pizza_template(c, "A")
    b = pizza_template(c, "B")
    r = c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "A", "JobTemplateId": b})
    assert r.status_code == 400 and problem_fields(r) == {"JobTemplateTitle", "JobTemplateId"}
    r = c.post(f"{BASE}/jobs", json={"JobTemplateId": 999999})
    assert r.status_code == 400 and problem_fields(r) == {"JobTemplateId"}
    assert c.post(f"{BASE}/jobs", json={"Key": "K", "JobTemplateId": a}).status_code == 201
    r = c.post(f"{BASE}/jobs", json={"Key": "K", "JobTemplateTitle": "B"})
    assert r.status_code == 400 and problem_fields(r) == {"JobTemplateTitle"}


def test_parameter_rules(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    cases = [
        ({"Name": "NOPE", "Value": "x"}, "Parameters[0].Name"),
        ({"Name": "NOTE", "Variant": 4, "Value": "x"}, "Parameters[0].Variant"),
        ({"Name": "PIZZA", "Key": "Z"}, "Parameters[0].Key"),
        ({"Name": "NOTE", "Contact": {"Reference": "r"}}, "Parameters[0].Contact"),
        ({"Name": "ADDRESS", "Location": {"City": "X"}}, "Parameters[0].Location.Zip"),
        ({"Name": "CUSTOMER", "Key": "unknown-ref"}, "Parameters[0].Key"),
        ({"Name": "PHOTO", "Value": "***"}, "Parameters[0].Value"),
        ({"Name": "NOTE", "Value": 5}, "Parameters[0].Value"),
    ]
    for param, field in cases:
        r = c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "P", "Parameters": [param]})
        assert r.status_code == 400, (param, r.text)
        assert field in problem_fields(r), (param, r.json())
    r = c.post(
        f"{BASE}/jobs",
        json={
            "JobTemplateTitle": "P",
            "Parameters": [{"Name": "NOTE", "Value": "a"}, {"Name": "note", "Value": "b"}],
        },
    )
    assert r.status_code == 400 and problem_fields(r) == {"Parameters[1].Variant"}
    with env.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(job_parameter)).scalar_one() == 0


def test_parameters_merge_by_name_and_variant(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    photo = base64.b64encode(b"\x89PNG fake").decode()
    r = c.post(
        f"{BASE}/jobs",
        json={
            "Key": "M1",
            "JobTemplateTitle": "P",
            "Parameters": [
                {"Name": "NOTE", "Variant": 1, "Value": "one"},
                {"Name": "NOTE", "Variant": 2, "Value": "two"},
                {"Name": "PHOTO", "Value": photo},
                {
                    "Name": "CUSTOMER",
                    "Contact": {"Reference": "C-9", "CompanyName": "Acme", "Location": address()},
                },
            ],
        },
    )
    assert r.status_code == 201, r.text
    r = c.post(
        f"{BASE}/jobs",
        json={
            "Key": "M1",
            "Parameters": [
                {"Name": "NOTE", "Variant": 2, "Value": "zwei"},
                {"Name": "NOTE", "Variant": 1, "Value": None},
            ],
        },
    )
    notes = {p["Variant"]: p["Value"] for p in r.json()["Parameters"] if p["Name"] == "NOTE"}
    assert notes == {2: "zwei"}
    one = c.get(f"{BASE}/jobs/M1").json()
    assert [p["Value"] for p in one["Parameters"] if p["Name"] == "PHOTO"] == [photo]
    listed = c.get(f"{BASE}/jobs").json()[0]
    assert [p["Value"] for p in listed["Parameters"] if p["Name"] == "PHOTO"] == [None]
    with_binary = c.get(f"{BASE}/jobs", params={"includeBinary": "true"}).json()[0]
    assert [p["Value"] for p in with_binary["Parameters"] if p["Name"] == "PHOTO"] == [photo]
    customer = next(p for p in one["Parameters"] if p["Name"] == "CUSTOMER")
    assert customer["Key"] == "C-9"
    stored = c.get(f"{BASE}/contacts/C-9").json()
    assert customer["Contact"] == stored
    assert c.delete(f"{BASE}/contacts/C-9").status_code == 409


def test_if_match_and_if_none_match(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    etag = c.post(f"{BASE}/jobs", json={"Key": "E1", "JobTemplateTitle": "P"}).headers["etag"]
    assert c.get(f"{BASE}/jobs/E1", headers={"If-None-Match": etag}).status_code == 304
    assert (
        c.put(
            f"{BASE}/jobs/E1", json={"Duration": "00:20:00"}, headers={"If-Match": etag}
        ).status_code
        == 200
    )
    for method, path, body in (
        ("PUT", "/jobs/E1", {"Duration": "00:45:00"}),
        ("POST", "/jobs", {"Key": "E1", "Duration": "00:45:00"}),
        ("POST", "/jobs/E1/status", {"Status": "Done"}),
        ("DELETE", "/jobs/E1", None),
    ):
        r = c.request(method, f"{BASE}{path}", json=body, headers={"If-Match": etag})
        assert r.status_code == 412, (method, path)
    job = c.get(f"{BASE}/jobs/E1").json()
    assert job["Duration"] == "00:20:00" and job["Status"] == "Open"


def test_status_route(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    c.post(f"{BASE}/jobs", json={"Key": "S1", "JobTemplateTitle": "P"})
    r = c.post(f"{BASE}/jobs/S1/status", json={"status": "done"})
    assert r.status_code == 200 and r.json()["Status"] == "Done"
    r = c.post(f"{BASE}/jobs/S1/status", json={"Status": "Erledigt"})
    assert r.status_code == 400 and problem_fields(r) == {"Status"}
    assert c.post(f"{BASE}/jobs/none/status", json={"Status": "Done"}).status_code == 404


def test_roles_and_field_worker_visibility(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    worker, worker_headers = person(env, teams=("North",))
    _, other_headers = person(env, teams=("South",))
    _, overview = person(env, roles=("JobsOverview",))
    c.post(f"{BASE}/jobs", json={"Key": "mine", "JobTemplateTitle": "P", "UserEmail": worker})
    c.post(f"{BASE}/jobs", json={"Key": "north", "JobTemplateTitle": "P", "Team": "North"})
    c.post(f"{BASE}/jobs", json={"Key": "south", "JobTemplateTitle": "P", "Team": "South"})
    w = client(env, worker_headers)
    assert sorted(j["Key"] for j in w.get(f"{BASE}/jobs").json()) == ["mine", "north"]
    assert w.get(f"{BASE}/jobs/south").status_code == 404
    assert w.post(f"{BASE}/jobs/north/status", json={"Status": "In Progress"}).status_code == 200
    assert w.post(f"{BASE}/jobs", json={"Key": "x", "JobTemplateTitle": "P"}).status_code == 403
    assert client(env, other_headers).get(f"{BASE}/jobs/mine").status_code == 404
    o = client(env, overview)
    assert len(o.get(f"{BASE}/jobs").json()) == 3
    assert o.put(f"{BASE}/jobs/mine", json={"Duration": "00:10:00"}).status_code == 403
    assert o.get(f"{BASE}/jobtemplates").status_code == 403


def test_credentials(env: Env) -> None:
    from officina.core import people

    email, headers = person(env, roles=("Jobs",))
    with env.store.write() as conn:
        key = people.create_api_key(conn, people.user_id_by_email(conn, email))
    for h in (headers, basic("API", key), basic(email.upper(), "pass-word-1")):
        r = client(env, h).get(f"{BASE}/jobs")
        assert r.status_code == 200, h
    for h in ({}, basic(email, "wrong"), basic("api", "nokey"), {"Authorization": "Basic !!"}):
        r = client(env, h).get(f"{BASE}/jobs")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Basic ")
        assert r.headers["content-type"].startswith("application/problem+json")


def test_password_with_colon(env: Env) -> None:
    from officina.core import people

    with env.store.write() as conn:
        people.create_user(conn, email="colon@example.com", password="a:b:c:d:e", name="colon-user")
    r = client(env, basic("colon@example.com", "a:b:c:d:e")).get(f"{BASE}/statuses")
    assert r.status_code == 200


def test_plain_http_from_afar_is_refused(env: Env) -> None:
    r = env.client(env.admin_headers).get(f"{BASE}/statuses")
    assert r.status_code == 403 and r.json()["detail"] == "HTTPS required"


def test_paging_and_sorting(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    for i in range(5):
        c.post(
            f"{BASE}/jobs",
            json={
                "Key": f"k{i}",
                "JobTemplateTitle": "P",
                "PlannedTime": f"2024-01-0{5 - i}T10:00:00",
            },
        )
    r = c.get(f"{BASE}/jobs", params={"pageSize": 2, "page": 2})
    assert [j["Key"] for j in r.json()] == ["k2", "k1"]
    assert r.headers["x-total-count"] == "5"
    assert 'rel="next"' in r.headers["link"] and 'rel="prev"' in r.headers["link"]
    r = c.get(f"{BASE}/jobs", params={"sort": "-key", "take": 2})
    assert [j["Key"] for j in r.json()] == ["k4", "k3"]
    r = c.get(f"{BASE}/jobs", params={"pageSize": 1001})
    assert r.status_code == 400 and problem_fields(r) == {"pageSize"}
    r = c.get(f"{BASE}/jobs", params={"plannedFrom": "2024-01-02", "plannedTo": "2024-01-04"})
    assert sorted(j["Key"] for j in r.json()) == ["k2", "k3"]
    assert c.get(f"{BASE}/jobs", params={"sort": "title"}).status_code == 400


def test_a_page_of_jobs_is_one_statement(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "P")
    for i in range(4):
        c.post(
            f"{BASE}/jobs",
            json={
                "Key": f"q{i}",
                "JobTemplateTitle": "P",
                "Parameters": [
                    {"Name": "ADDRESS", "Location": address()},
                    {
                        "Name": "CUSTOMER",
                        "Contact": {
                            "Reference": f"R{i}",
                            "Name": "N",
                            "Location": address(),
                            "ContactDetails": [{"Type": "Phone", "Value": "1"}],
                        },
                    },
                ],
            },
        )
    engine = env.store.engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "goana_job" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        r = c.get(f"{BASE}/jobs", params={"statusName": "Open"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 200 and len(r.json()) == 4
    assert all(len(j["Parameters"][1]["Contact"]["ContactDetails"]) == 1 for j in r.json())
    assert len(seen) == 1, seen


def test_value_types_and_more_filters(env: Env) -> None:
    c = admin(env)
    made = c.post(
        f"{BASE}/jobtemplates",
        json={
            "Title": "Typed",
            "Parameters": [
                {"Name": "WHEN", "Type": "date", "Title": "When"},
                {"Name": "COUNT", "Type": "NUMBER", "Title": "Count"},
                {
                    "Name": "PARTS",
                    "Type": "Multiselect",
                    "Title": "Parts",
                    "DataCollectionValues": [
                        {"Key": "A", "Label": "Pipe"},
                        {"Key": "B", "Label": "Valve"},
                    ],
                },
            ],
        },
    )
    assert made.status_code == 201
    assert [p["Type"] for p in made.json()["Parameters"]] == ["Date", "Number", "Multiselect"]
    body = {
        "Key": "T1",
        "JobTemplateTitle": "Typed",
        "Team": "Typed crew",
        "Parameters": [
            {"Name": "WHEN", "Value": "2024-05-01"},
            {"Name": "COUNT", "Value": "2.5"},
            {"Name": "PARTS", "Key": "A;B"},
        ],
    }
    r = c.post(f"{BASE}/jobs", json=body)
    assert r.status_code == 201, r.text
    parts = next(p for p in r.json()["Parameters"] if p["Name"] == "PARTS")
    assert parts["Key"] == "A;B" and parts["Value"] == "A;B"
    for name, value in (("WHEN", "May 1st"), ("COUNT", "2,5")):
        bad = c.post(
            f"{BASE}/jobs",
            json={
                "Key": "T2",
                "JobTemplateTitle": "Typed",
                "Parameters": [{"Name": name, "Value": value}],
            },
        )
        assert bad.status_code == 400 and problem_fields(bad) == {"Parameters[0].Value"}
    bad = c.post(
        f"{BASE}/jobs",
        json={
            "Key": "T2",
            "JobTemplateTitle": "Typed",
            "Parameters": [{"Name": "PARTS", "Key": "A;Z"}],
        },
    )
    assert bad.status_code == 400 and problem_fields(bad) == {"Parameters[0].Key"}
    assert [j["Key"] for j in c.get(f"{BASE}/jobs", params={"team": "typed CREW"}).json()] == ["T1"]
    assert c.get(f"{BASE}/jobs", params={"team": "elsewhere"}).json() == []
    assert len(c.get(f"{BASE}/jobs", params={"modifiedSince": "2000-01-01"}).json()) == 1
    assert c.get(f"{BASE}/jobs", params={"modifiedSince": "2999-01-01"}).json() == []
    assert [
        j["Key"] for j in c.get(f"{BASE}/jobs", params=[("key", "T1"), ("key", "nope")]).json()
    ] == ["T1"]
    assert c.get(f"{BASE}/jobs", params={"userEmail": ""}).headers["x-total-count"] == "1"
    r = c.get(f"{BASE}/jobs", params={"userEmail": "ghost@example.com"})
    assert r.status_code == 400 and problem_fields(r) == {"userEmail"}


def test_teams_are_not_created_when_the_setting_is_off(env: Env) -> None:
    from sqlalchemy import delete, insert

    from officina.core.schema import instance_settings

    c = admin(env)
    pizza_template(c, "P")
    with env.store.write() as conn:
        conn.execute(insert(instance_settings).values(key="goana.auto_create_teams", value=False))
    try:
        r = c.post(f"{BASE}/jobs", json={"JobTemplateTitle": "P", "Team": "Nonexistent team"})
        assert r.status_code == 400 and problem_fields(r) == {"Team"}
    finally:
        with env.store.write() as conn:
            conn.execute(
                delete(instance_settings).where(
                    instance_settings.c.key == "goana.auto_create_teams"
                )
            )
