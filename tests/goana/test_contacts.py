"""Contacts of the jobs face over HTTP: add-or-change by Reference and every field rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert

from officina.core.schema import instance_settings
from tests.conftest import Env, unique
from tests.goana.fixtures import address, pizza_template
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def _contact(reference: str, **extra: Any) -> dict[str, Any]:
    return {"Reference": reference, "Name": "Muster", "Location": address(), **extra}


def _refs(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [x["Reference"] for x in response.json()]


def test_add_then_change_by_reference(env: Env) -> None:
    _, headers = person(env, roles=("Contacts",), lang="de")
    c = client(env, headers)
    r = c.post(f"{BASE}/contacts", json=_contact("K 1/a", FirstName="Max"))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{BASE}/contacts/K%201%2Fa" and r.headers["etag"]
    k = r.json()
    assert k["LanguageCode"] == "de" and k["Team"] is None and k["Salutation"] == ""
    assert k["DisplayName"] == "Max Muster" and k["CompanyName"] is None and k["Role"] is None
    assert k["ContactDetails"] == [] and k["Created"] and k["Modified"]
    assert k["Location"] == {
        "Street": "Bahnhofstrasse",
        "StreetNumber": None,
        "StreetSupplement": None,
        "Zip": "8001",
        "City": "Zürich",
        "CountryIsoCode": "CH",
        "Latitude": None,
        "Longitude": None,
    }
    assert c.get(r.headers["location"]).json() == k
    r = c.post(f"{BASE}/contacts", json={"Reference": "K 1/a", "Remarks": "gate code 12"})
    assert r.status_code == 200
    changed = r.json()
    assert changed["Remarks"] == "gate code 12" and changed["FirstName"] == "Max"
    assert changed["Location"] == k["Location"]
    # References are exact: another case is another contact.
    assert c.get(f"{BASE}/contacts/k%201%2Fa").status_code == 404
    r = c.post(f"{BASE}/contacts", json=_contact("k 1/a"))
    assert r.status_code == 201


def test_input_names_any_case_and_get_body_reposted(env: Env) -> None:
    c = admin(env)
    body = {
        "reference": "R-1",
        "SALUTATION": "mrs",
        "companyname": "Acme",
        "firstName": "Eva",
        "name": "Ernst",
        "role": "buyer",
        "languageCode": "FR",
        "remarks": "r",
        "location": {"zip": "1000", "CITY": "Lausanne", "countryisocode": "ch", "latitude": 46.5},
        "contactdetails": [{"type": "phone", "VALUE": "+41 21", "isPreferred": True}],
        "Regions": "ignored",
        "Created": "2000-01-01T00:00:00",
    }
    r = c.post(f"{BASE}/contacts", json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["Salutation"] == "Mrs" and got["LanguageCode"] == "fr" and got["Role"] == "buyer"
    assert got["DisplayName"] == "Acme Eva Ernst"
    assert got["Location"]["CountryIsoCode"] == "CH" and got["Location"]["Latitude"] == 46.5
    assert got["ContactDetails"] == [
        {"Name": None, "Type": "Phone", "Value": "+41 21", "IsPreferred": True}
    ]
    assert "Regions" not in got and got["Created"] != "2000-01-01T00:00:00"
    again = c.post(f"{BASE}/contacts", json=got)
    assert again.status_code == 200
    same = {k: v for k, v in again.json().items() if k != "Modified"}
    assert same == {k: v for k, v in got.items() if k != "Modified"}
    # The re-posted DisplayName was the computed one, so it still follows the names.
    r = c.post(f"{BASE}/contacts", json={"Reference": "R-1", "FirstName": None})
    assert r.json()["DisplayName"] == "Acme Ernst"


def test_display_name(env: Env) -> None:
    c = admin(env)
    r = c.post(
        f"{BASE}/contacts",
        json=_contact("D", CompanyName="  ", FirstName=" Ida ", Name="Holm"),
    )
    assert r.json()["DisplayName"] == "Ida Holm"
    r = c.put(f"{BASE}/contacts/D", json={"DisplayName": "Holm, Ida"})
    assert r.json()["DisplayName"] == "Holm, Ida"
    r = c.put(f"{BASE}/contacts/D", json={"Name": "Berg"})
    assert r.json()["DisplayName"] == "Holm, Ida"
    r = c.put(f"{BASE}/contacts/D", json={"DisplayName": ""})
    assert r.json()["DisplayName"] == "Ida Berg"
    r = c.put(f"{BASE}/contacts/D", json={"DisplayName": "x" * 501})
    assert r.status_code == 400 and problem_fields(r) == {"DisplayName"}
    r = c.post(f"{BASE}/contacts", json=_contact("Co", Name=None, CompanyName="Only Co"))
    assert r.status_code == 201 and r.json()["DisplayName"] == "Only Co"


def test_salutation_and_names_rules(env: Env) -> None:
    c = admin(env)
    c.post(f"{BASE}/contacts", json=_contact("S", Salutation="MR"))
    assert c.get(f"{BASE}/contacts/S").json()["Salutation"] == "Mr"
    for value in ("", None):
        r = c.put(f"{BASE}/contacts/S", json={"Salutation": value})
        assert r.status_code == 200 and r.json()["Salutation"] == ""
    wrong: list[object] = ["Dr", "Ms", "Mr.", 3]
    for bad in wrong:
        r = c.put(f"{BASE}/contacts/S", json={"Salutation": bad})
        assert r.status_code == 400 and problem_fields(r) == {"Salutation"}, bad
    r = c.put(f"{BASE}/contacts/S", json={"Name": None})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}
    r = c.put(f"{BASE}/contacts/S", json={"Name": "", "CompanyName": "Firm"})
    assert r.status_code == 200 and r.json()["Name"] == ""
    r = c.post(f"{BASE}/contacts", json={"Reference": "N", "FirstName": "F", "Location": address()})
    assert r.status_code == 400 and problem_fields(r) == {"Name"}


def test_location_rules(env: Env) -> None:
    c = admin(env)
    r = c.post(f"{BASE}/contacts", json={"Reference": "L", "Name": "N"})
    assert r.status_code == 400 and problem_fields(r) == {"Location"}
    r = c.post(
        f"{BASE}/contacts",
        json=_contact(
            "L",
            Location={"Zip": "", "CountryIsoCode": "CHE", "Latitude": 91, "Longitude": -181},
        ),
    )
    assert r.status_code == 400
    assert problem_fields(r) == {
        "Location.Zip",
        "Location.City",
        "Location.CountryIsoCode",
        "Location.Latitude",
        "Location.Longitude",
    }
    c.post(f"{BASE}/contacts", json=_contact("L"))
    r = c.put(f"{BASE}/contacts/L", json={"Location": {"StreetNumber": "12/13", "city": "Bern"}})
    loc = r.json()["Location"]
    assert loc["StreetNumber"] == "12/13" and loc["City"] == "Bern" and loc["Zip"] == "8001"
    r = c.put(f"{BASE}/contacts/L", json={"Location": None})
    assert r.status_code == 400 and problem_fields(r) == {"Location"}
    r = c.put(f"{BASE}/contacts/L", json={"Location": {"City": None}})
    assert r.status_code == 400 and problem_fields(r) == {"Location.City"}
    assert c.get(f"{BASE}/contacts/L").json()["Location"]["City"] == "Bern"


def test_contact_details(env: Env) -> None:
    c = admin(env)
    details = [
        {"Name": "Work", "Type": "email", "Value": "a@example.com"},
        {"Type": "PHONE", "Value": "1", "IsPreferred": True},
        {"Type": "Fax", "Value": "2"},
    ]
    r = c.post(f"{BASE}/contacts", json=_contact("CD", ContactDetails=details))
    assert [(d["Type"], d["Value"]) for d in r.json()["ContactDetails"]] == [
        ("Email", "a@example.com"),
        ("Phone", "1"),
        ("Fax", "2"),
    ]
    r = c.put(f"{BASE}/contacts/CD", json={"ContactDetails": [{"Type": "Phone", "Value": "3"}]})
    assert r.json()["ContactDetails"] == [
        {"Name": None, "Type": "Phone", "Value": "3", "IsPreferred": False}
    ]
    r = c.put(f"{BASE}/contacts/CD", json={"Remarks": "x"})
    assert len(r.json()["ContactDetails"]) == 1
    r = c.put(f"{BASE}/contacts/CD", json={"ContactDetails": None})
    assert r.json()["ContactDetails"] == []
    bad = [
        {"Type": "Email", "Value": "two@@example.com"},
        {"Type": "Email", "Value": "none.example.com"},
        {"Value": "x"},
        {"Type": "Phone"},
        {"Type": "Telephone!!", "Value": "1"},
        {"Type": "Phone", "Value": "1", "Name": "n" * 101},
        "not an object",
    ]
    r = c.put(f"{BASE}/contacts/CD", json={"ContactDetails": bad})
    assert r.status_code == 400
    assert problem_fields(r) == {
        "ContactDetails[0].Value",
        "ContactDetails[1].Value",
        "ContactDetails[2].Type",
        "ContactDetails[3].Value",
        "ContactDetails[4].Type",
        "ContactDetails[5].Name",
        "ContactDetails[6]",
    }
    assert c.get(f"{BASE}/contacts/CD").json()["ContactDetails"] == []


def test_other_field_rules(env: Env) -> None:
    c = admin(env)
    r = c.post(
        f"{BASE}/contacts",
        json=_contact("x" * 201, LanguageCode="xx", Team="t" * 201, Role=["r"]),
    )
    assert r.status_code == 400
    assert problem_fields(r) == {"Reference", "LanguageCode", "Team", "Role"}
    for body in ({"Name": "N", "Location": address()}, _contact("  ")):
        r = c.post(f"{BASE}/contacts", json=body)
        assert r.status_code == 400 and problem_fields(r) == {"Reference"}
    c.post(f"{BASE}/contacts", json=_contact("O"))
    r = c.put(f"{BASE}/contacts/O", json={"LanguageCode": None})
    assert r.status_code == 200 and r.json()["LanguageCode"] == "en"
    assert c.get(f"{BASE}/contacts").json()[0]["Reference"] == "O"


def test_list_filters_sorting_and_paging(env: Env) -> None:
    c = admin(env)
    team = unique("Red")
    bodies = [
        _contact("Z-1", Name="Zeta", Location=address(Zip="3000", City="Bern")),
        _contact("A-2", Name="Alpha", CompanyName="100% Pure", Team=team),
        _contact("M-3", Name="mu", FirstName="Anna", Location=address(Zip="3000", City="BERN")),
        _contact("B_4", Name="Beta", DisplayName="Kappa"),
    ]
    for body in bodies:
        assert c.post(f"{BASE}/contacts", json=body).status_code == 201
    r = c.get(f"{BASE}/contacts")
    # By DisplayName: "100% Pure Alpha", "Anna mu", "Kappa", "Zeta".
    assert _refs(r) == ["A-2", "M-3", "B_4", "Z-1"] and r.headers["x-total-count"] == "4"

    def listed(**params: Any) -> list[str]:
        return _refs(c.get(f"{BASE}/contacts", params=params))

    assert listed(q="ANNA") == ["M-3"]
    assert listed(q="pure") == ["A-2"]
    assert listed(q="kap") == ["B_4"]
    assert listed(q="z-") == ["Z-1"]
    assert listed(q="%") == ["A-2"]
    assert listed(q="_") == ["B_4"]
    assert listed(q="eta") == ["B_4", "Z-1"]
    assert listed(team=team.upper()) == ["A-2"]
    assert listed(team=unique("none")) == []
    assert listed(zip="3000") == ["M-3", "Z-1"]
    assert listed(city="bern") == ["M-3", "Z-1"]
    assert listed(city="Bern", q="zeta") == ["Z-1"]
    assert listed(reference="a-2") == []
    assert listed(reference=["A-2", "Z-1"]) == ["A-2", "Z-1"]
    assert listed(modifiedSince="2000-01-01") == ["A-2", "M-3", "B_4", "Z-1"]
    assert listed(modifiedSince="2999-12-31T23:59:59") == []
    r = c.get(f"{BASE}/contacts", params={"pageSize": 3})
    assert _refs(r) == ["A-2", "M-3", "B_4"] and r.headers["x-total-count"] == "4"
    assert 'rel="next"' in r.headers["link"] and "skip=3" in r.headers["link"]
    r = c.get(f"{BASE}/contacts", params={"q": "e", "page": 2, "pageSize": 1})
    assert r.headers["x-total-count"] == "3" and _refs(r) == ["B_4"]
    assert 'rel="prev"' in r.headers["link"] and "q=e" in r.headers["link"]
    r = c.get(f"{BASE}/contacts", params={"skip": 10})
    assert r.json() == [] and r.headers["x-total-count"] == "4"
    for name, value in (("pageSize", "1001"), ("take", "0"), ("modifiedSince", "soon")):
        r = c.get(f"{BASE}/contacts", params={name: value})
        assert r.status_code == 400 and problem_fields(r) == {name}


def test_put_rename_and_delete(env: Env) -> None:
    c = admin(env)
    c.post(f"{BASE}/contacts", json=_contact("P-1"))
    c.post(f"{BASE}/contacts", json=_contact("P-2"))
    r = c.put(f"{BASE}/contacts/P-1", json={"Reference": "P-2"})
    assert r.status_code == 409 and problem_fields(r) == {"Reference"}
    r = c.put(f"{BASE}/contacts/P-1", json={"reference": "P/3", "Name": "Neu"})
    assert r.status_code == 200 and r.json()["Reference"] == "P/3"
    assert c.get(f"{BASE}/contacts/P-1").status_code == 404
    assert c.get(f"{BASE}/contacts/P%2F3").json()["Name"] == "Neu"
    # PUT never creates.
    assert c.put(f"{BASE}/contacts/P-9", json=_contact("P-9")).status_code == 404
    assert c.delete(f"{BASE}/contacts/P-9").status_code == 404
    assert c.delete(f"{BASE}/contacts/P%2F3").status_code == 204
    assert c.get(f"{BASE}/contacts/P%2F3").status_code == 404
    assert _refs(c.get(f"{BASE}/contacts")) == ["P-2"]


def test_contacts_used_by_jobs(env: Env) -> None:
    c = admin(env)
    pizza_template(c, "Pizza")
    c.post(f"{BASE}/contacts", json=_contact("J-1"))
    r = c.post(
        f"{BASE}/jobs",
        json={"JobTemplateTitle": "Pizza", "Parameters": [{"Name": "CUSTOMER", "Key": "J-1"}]},
    )
    assert r.status_code == 201, r.text
    assert c.delete(f"{BASE}/contacts/J-1").status_code == 409
    assert c.get(f"{BASE}/contacts/J-1").status_code == 200
    # A contact embedded in a job is added or changed as by POST /contacts.
    embedded = {"reference": "J-2", "name": "Emb", "salutation": "mrs", "location": address()}
    r = c.post(f"{BASE}/jobs", json=_job_with(embedded))
    assert r.status_code == 201, r.text
    got = c.get(f"{BASE}/contacts/J-2").json()
    assert got["Salutation"] == "Mrs" and got["DisplayName"] == "Emb"
    broken = {"Reference": "J-3", "Location": {"City": "X", "CountryIsoCode": "CH"}}
    r = c.post(f"{BASE}/jobs", json=_job_with(broken))
    assert r.status_code == 400
    assert problem_fields(r) == {"Parameters[0].Contact.Name", "Parameters[0].Contact.Location.Zip"}
    assert c.get(f"{BASE}/contacts/J-3").status_code == 404


def _job_with(contact: dict[str, Any]) -> dict[str, Any]:
    return {"JobTemplateTitle": "Pizza", "Parameters": [{"Name": "CUSTOMER", "Contact": contact}]}


def test_etags(env: Env) -> None:
    c = admin(env)
    etag = c.post(f"{BASE}/contacts", json=_contact("E")).headers["etag"]
    assert c.get(f"{BASE}/contacts/E", headers={"If-None-Match": etag}).status_code == 304
    r = c.put(f"{BASE}/contacts/E", json={"Remarks": "1"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    stale = {"If-Match": etag}
    assert c.put(f"{BASE}/contacts/E", json={"Remarks": "2"}, headers=stale).status_code == 412
    r = c.post(f"{BASE}/contacts", json={"Reference": "E", "Remarks": "2"}, headers=stale)
    assert r.status_code == 412
    assert c.delete(f"{BASE}/contacts/E", headers={"If-Match": etag}).status_code == 412
    assert c.get(f"{BASE}/contacts/E").json()["Remarks"] == "1"
    assert c.get(f"{BASE}/contacts").headers.get("etag") is None
    fresh = c.get(f"{BASE}/contacts/E").headers["etag"]
    assert c.delete(f"{BASE}/contacts/E", headers={"If-Match": fresh}).status_code == 204


def test_rights_and_team_visibility(env: Env) -> None:
    c = admin(env)
    red, blue = unique("Red"), unique("Blue")
    c.post(f"{BASE}/contacts", json=_contact("RED", Team=red))
    c.post(f"{BASE}/contacts", json=_contact("ALL"))
    _, contacts_role = person(env, roles=("Contacts",))
    _, jobs_role = person(env, roles=("Jobs",), teams=(blue,))
    _, nobody = person(env, teams=(red,))
    assert _refs(client(env, contacts_role).get(f"{BASE}/contacts")) == ["ALL", "RED"]
    jobs = client(env, jobs_role)
    assert _refs(jobs.get(f"{BASE}/contacts")) == ["ALL", "RED"]
    assert jobs.get(f"{BASE}/contacts/RED").status_code == 200
    assert jobs.post(f"{BASE}/contacts", json=_contact("NEW")).status_code == 403
    assert jobs.put(f"{BASE}/contacts/ALL", json={"Remarks": "x"}).status_code == 403
    assert jobs.delete(f"{BASE}/contacts/ALL").status_code == 403
    field_worker = client(env, nobody)
    assert field_worker.get(f"{BASE}/contacts").status_code == 403
    assert field_worker.get(f"{BASE}/contacts/ALL").status_code == 403
    _, base = person(env, roles=("BaseData",))
    assert client(env, base).get(f"{BASE}/contacts").status_code == 403
    writer = client(env, contacts_role)
    assert writer.post(f"{BASE}/contacts", json=_contact("NEW")).status_code == 201
    assert writer.delete(f"{BASE}/contacts/NEW").status_code == 204
    # Without role enforcement a field worker reads contacts, a team's only as its member.
    _, blue_worker = person(env, teams=(blue,))
    with env.store.write() as conn:
        conn.execute(insert(instance_settings).values(key="goana.enforce_roles", value=False))
    try:
        assert _refs(client(env, blue_worker).get(f"{BASE}/contacts")) == ["ALL"]
        assert client(env, blue_worker).get(f"{BASE}/contacts/RED").status_code == 404
        assert _refs(client(env, nobody).get(f"{BASE}/contacts")) == ["ALL", "RED"]
        r = client(env, blue_worker).put(f"{BASE}/contacts/RED", json={"Remarks": "x"})
        assert r.status_code == 404
    finally:
        with env.store.write() as conn:
            conn.execute(
                delete(instance_settings).where(instance_settings.c.key == "goana.enforce_roles")
            )
