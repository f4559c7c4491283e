"""The seed's translation rules, end to end: English filled from the first language, edits
touch only their language, references and filters match English only."""

from __future__ import annotations

from sqlalchemy import select

from officina.core.translations import ENGLISH, translations
from tests.conftest import Env
from tests.goana.fixtures import pizza_template
from tests.goana.helpers import BASE, admin, client, person, problem_fields


def test_pizza_lieferung_scenario(env: Env) -> None:
    _, anna = person(env, roles=("BaseData", "Jobs"), lang="de")
    german = client(env, anna)
    tid = pizza_template(german)
    r = german.get(f"{BASE}/jobtemplates/{tid}")
    assert r.json()["Title"] == "Pizza Lieferung"
    assert r.json()["TitleTranslations"] == {"de": "Pizza Lieferung", "en": "Pizza Lieferung"}
    english = admin(env, **{"Accept-Language": "en"})
    assert english.get(f"{BASE}/jobtemplates/{tid}").json()["Title"] == "Pizza Lieferung"

    # An English client finds jobs by the (auto-filled) English title and the English status.
    r = german.post(f"{BASE}/jobs", json={"Key": "J1", "JobTemplateTitle": "Pizza Lieferung"})
    assert r.status_code == 201, r.text
    assert german.post(f"{BASE}/jobs/J1/status", json={"Status": "In Progress"}).status_code == 200
    r = english.get(
        f"{BASE}/jobs", params={"jobTemplateTitle": "Pizza Lieferung", "statusName": "In Progress"}
    )
    assert [j["Key"] for j in r.json()] == ["J1"]

    # Renaming in English touches only English.
    r = english.put(
        f"{BASE}/jobtemplates/{tid}",
        json={"Title": "Pizza delivery"},
        headers={"Content-Language": "en"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["TitleTranslations"] == {"de": "Pizza Lieferung", "en": "Pizza delivery"}
    assert german.get(f"{BASE}/jobtemplates/{tid}").json()["Title"] == "Pizza Lieferung"
    _, french = person(env, roles=("Jobs",), lang="fr")
    assert client(env, french).get(f"{BASE}/jobtemplates/{tid}").json()["Title"] == "Pizza delivery"

    # References by the new English title work; the German one is now only a translation.
    r = english.get(f"{BASE}/jobs", params={"jobTemplateTitle": "Pizza delivery"})
    job = r.json()[0]
    assert job["JobTemplateTitle"] == "Pizza delivery"
    assert job["Status"] == "In Progress"
    assert german.get(f"{BASE}/jobs/J1").json()["JobTemplateDisplayTitle"] == "Pizza Lieferung"
    assert german.get(f"{BASE}/jobs/J1").json()["StatusDisplayName"] == "In Bearbeitung"
    assert client(env, french).get(f"{BASE}/jobs/J1").json()["StatusDisplayName"] == "En cours"
    r = english.post(f"{BASE}/jobs", json={"JobTemplateTitle": "Pizza delivery"})
    assert r.status_code == 201
    r = english.post(f"{BASE}/jobs", json={"JobTemplateTitle": "Pizza Lieferung"})
    assert r.status_code == 400
    assert problem_fields(r) == {"JobTemplateTitle"}
    assert "English title is 'Pizza delivery'" in r.json()["errors"]["JobTemplateTitle"][0]
    r = english.get(f"{BASE}/jobs", params={"jobTemplateTitle": "Pizza Lieferung"})
    assert r.status_code == 400 and problem_fields(r) == {"jobTemplateTitle"}


def test_status_filter_takes_english_names_only(env: Env) -> None:
    c = admin(env)
    r = c.get(f"{BASE}/jobs", params={"statusName": "In Bearbeitung"})
    assert r.status_code == 400
    assert problem_fields(r) == {"statusName"}
    assert "In Progress" in r.json()["errors"]["statusName"][0]
    assert c.get(f"{BASE}/jobs", params={"statusName": "in progress"}).status_code == 200
    r = c.get(f"{BASE}/jobs", params={"statusName": "Nope"})
    assert r.status_code == 400 and "Open" in r.json()["errors"]["statusName"][0]


def test_english_is_never_empty_and_always_present(env: Env) -> None:
    c = admin(env, **{"Content-Language": "it"})
    tid = pizza_template(c, "Consegna pizza")
    r = c.put(f"{BASE}/jobtemplates/{tid}", json={"TitleTranslations": {"en": ""}})
    assert r.status_code == 400 and problem_fields(r) == {"TitleTranslations.en"}
    r = c.put(f"{BASE}/jobtemplates/{tid}", json={"TitleTranslations": {"xx": "a"}})
    assert r.status_code == 400 and problem_fields(r) == {"TitleTranslations.xx"}
    r = c.put(
        f"{BASE}/jobtemplates/{tid}", json={"TitleTranslations": {"fr": "Livraison", "it": None}}
    )
    assert r.status_code == 200
    assert r.json()["TitleTranslations"] == {"en": "Consegna pizza", "fr": "Livraison"}
    # Every translated field of every object has an English row.
    with env.store.read() as conn:
        rows = list(conn.execute(select(translations)))
    keys = {(r.kind, r.owner, r.field) for r in rows}
    english = {(r.kind, r.owner, r.field) for r in rows if r.lang == ENGLISH}
    assert keys == english


def test_request_language_order(env: Env) -> None:
    _, anna = person(env, roles=("BaseData",), lang="de")
    c = client(env, anna)
    tid = pizza_template(c, "Pizza Lieferung")
    # Content-Language decides what a write changes; Accept-Language beats the user's language.
    r = c.put(
        f"{BASE}/jobtemplates/{tid}",
        json={"Title": "Livraison de pizza"},
        headers={"Content-Language": "fr-CH", "Accept-Language": "it"},
    )
    assert r.json()["TitleTranslations"]["fr"] == "Livraison de pizza"
    assert r.headers["content-language"] == "fr"
    r = c.get(f"{BASE}/jobtemplates/{tid}", headers={"Accept-Language": "xx, fr;q=0.5, de;q=0.9"})
    assert r.headers["content-language"] == "de"
    assert (
        c.get(f"{BASE}/jobtemplates/{tid}", headers={"Accept-Language": "fr"}).json()["Title"]
        == "Livraison de pizza"
    )
