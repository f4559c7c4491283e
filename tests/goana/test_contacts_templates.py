"""Contacts and job templates of the jobs face."""

from __future__ import annotations

from sqlalchemy import delete, insert

from officina.core.schema import instance_settings
from tests.conftest import Env
from tests.goana.fixtures import address, pizza_template
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def test_contact_add_change_rename_delete(env: Env) -> None:
    c = admin(env)
    body = {
        "reference": "K-1",
        "salutation": "mr",
        "FirstName": "Max",
        "Name": "Muster",
        "Location": address(),
        "ContactDetails": [
            {"Type": "EMAIL", "Value": "max@example.com"},
            {"Type": "Phone", "Value": "1"},
        ],
    }
    r = c.post(f"{BASE}/contacts", json=body)
    assert r.status_code == 201, r.text
    k = r.json()
    assert k["Salutation"] == "Mr" and k["DisplayName"] == "Max Muster"
    assert [d["Type"] for d in k["ContactDetails"]] == ["Email", "Phone"]
    r = c.post(f"{BASE}/contacts", json={"Reference": "K-1", "CompanyName": "Acme"})
    assert r.status_code == 200 and r.json()["DisplayName"] == "Acme Max Muster"
    assert r.json()["ContactDetails"] == k["ContactDetails"]
    assert c.post(f"{BASE}/contacts", json=r.json()).status_code == 200
    assert [x["Reference"] for x in c.get(f"{BASE}/contacts", params={"q": "acme"}).json()] == [
        "K-1"
    ]
    assert c.get(f"{BASE}/contacts", params={"city": "zürich"}).headers["x-total-count"] == "1"
    c.post(f"{BASE}/contacts", json={"Reference": "K-2", "Name": "Other", "Location": address()})
    assert c.put(f"{BASE}/contacts/K-1", json={"Reference": "K-2"}).status_code == 409
    r = c.put(f"{BASE}/contacts/K-1", json={"Reference": "K/3"})
    assert r.status_code == 200
    assert c.get(f"{BASE}/contacts/K%2F3").json()["Reference"] == "K/3"
    assert c.delete(f"{BASE}/contacts/K%2F3").status_code == 204
    assert c.get(f"{BASE}/contacts/K%2F3").status_code == 404


def test_contact_validation(env: Env) -> None:
    c = admin(env)
    r = c.post(
        f"{BASE}/contacts",
        json={
            "Reference": "B",
            "Salutation": "Dr",
            "Location": {"City": "X", "CountryIsoCode": "Germany"},
            "ContactDetails": [{"Type": "Email", "Value": "no-at-sign"}],
        },
    )
    assert r.status_code == 400
    assert problem_fields(r) == {
        "Salutation",
        "Name",
        "Location.Zip",
        "Location.CountryIsoCode",
        "ContactDetails[0].Value",
    }
    assert c.get(f"{BASE}/contacts").json() == []


def test_team_contacts_are_visible_to_the_team(env: Env) -> None:
    c = admin(env)
    c.post(
        f"{BASE}/contacts",
        json={"Reference": "T1", "Name": "A", "Team": "Red", "Location": address()},
    )
    c.post(f"{BASE}/contacts", json={"Reference": "T2", "Name": "B", "Location": address()})
    _, contacts_role = person(env, roles=("Contacts",))
    assert len(client(env, contacts_role).get(f"{BASE}/contacts").json()) == 2
    _, nobody = person(env)
    assert client(env, nobody).get(f"{BASE}/contacts").status_code == 403
    # With roles not enforced, everyone reads contacts, but a team's contacts only its members.
    _, blue = person(env, teams=("Blue",))
    _, red = person(env, teams=("Red",))
    with env.store.write() as conn:
        conn.execute(insert(instance_settings).values(key="goana.enforce_roles", value=False))
    try:
        assert [x["Reference"] for x in client(env, blue).get(f"{BASE}/contacts").json()] == ["T2"]
        assert client(env, blue).get(f"{BASE}/contacts/T1").status_code == 404
        assert len(client(env, red).get(f"{BASE}/contacts").json()) == 2
    finally:
        with env.store.write() as conn:
            conn.execute(
                delete(instance_settings).where(instance_settings.c.key == "goana.enforce_roles")
            )


def test_template_rules(env: Env) -> None:
    c = admin(env)
    tid = pizza_template(c, "Pizza")
    r = c.post(f"{BASE}/jobtemplates", json={"Title": "pizza ", "ColorCode": "#ABCDEF"})
    assert r.status_code == 200 and r.json()["Id"] == tid and r.json()["ColorCode"] == "#ABCDEF"
    other = pizza_template(c, "Pasta")
    r = c.put(f"{BASE}/jobtemplates/{other}", json={"Title": "PIZZA"})
    assert r.status_code == 409 and problem_fields(r) == {"Title"}
    bad = {
        "Title": "Bad",
        "ColorCode": "red",
        "Parameters": [
            {"Name": "A", "Type": "Gizmo", "Title": "a"},
            {"Name": "a", "Type": "Text", "Title": "b"},
            {"Name": "B", "Type": "Image", "Title": "c", "UseAsJobTitle": True},
            {"Name": "C", "Type": "Text", "Title": "d", "MinOcc": 2, "MaxOcc": 1},
            {
                "Name": "D",
                "Type": "Dropdown",
                "Title": "e",
                "DataCollectionValues": [
                    {"Key": "x", "ParentKey": "nope", "Label": "X"},
                    {"Key": "y"},
                ],
            },
        ],
    }
    r = c.post(f"{BASE}/jobtemplates", json=bad)
    assert r.status_code == 400
    assert problem_fields(r) == {
        "ColorCode",
        "Parameters[0].Type",
        "Parameters[1].Name",
        "Parameters[2].UseAsJobTitle",
        "Parameters[3].MaxOcc",
        "Parameters[4].DataCollectionValues[0].ParentKey",
        "Parameters[4].DataCollectionValues[1].Label",
    }
    assert c.get(f"{BASE}/jobtemplates", params={"title": "Bad"}).json() == []
    assert c.post(f"{BASE}/jobtemplates", json={"Id": 99999, "Title": "x"}).status_code == 404


def test_used_parameters_and_options_are_retired(env: Env) -> None:
    c = admin(env)
    tid = pizza_template(c, "P")
    c.post(
        f"{BASE}/jobs",
        json={"Key": "R1", "JobTemplateTitle": "P", "Parameters": [{"Name": "PIZZA", "Key": "M"}]},
    )
    r = c.put(
        f"{BASE}/jobtemplates/{tid}",
        json={"Parameters": [{"Name": "NOTE", "Type": "Text", "Title": "Note"}]},
    )
    assert [p["Name"] for p in r.json()["Parameters"]] == ["NOTE"]
    job = c.get(f"{BASE}/jobs/R1").json()
    assert [p["Value"] for p in job["Parameters"] if p["Name"] == "PIZZA"] == ["9.50"]
    r = c.post(f"{BASE}/jobs", json={"Key": "R1", "Parameters": [{"Name": "PIZZA", "Key": "F"}]})
    assert r.status_code == 400 and problem_fields(r) == {"Parameters[0].Name"}
    assert c.delete(f"{BASE}/jobtemplates/{tid}").status_code == 409
    assert c.delete(f"{BASE}/jobs/R1").status_code == 204
    assert c.delete(f"{BASE}/jobtemplates/{tid}").status_code == 204
    assert c.get(f"{BASE}/jobtemplates/{tid}").status_code == 404
    _, base = person(env, roles=("BaseData",))
    assert client(env, base).post(f"{BASE}/jobtemplates", json={"Title": "Mine"}).status_code == 201
