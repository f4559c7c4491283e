"""Statuses: system-defined, translated, read-only, referred to by English name."""

from __future__ import annotations

from tests.conftest import Env
from tests.goana.helpers import BASE, admin, client, person


def test_statuses_are_listed_in_order_with_translations(env: Env) -> None:
    r = admin(env, **{"Accept-Language": "fr"}).get(f"{BASE}/statuses")
    assert r.status_code == 200
    assert r.headers["content-language"] == "fr"
    names = [s["Name"] for s in r.json()]
    assert names == ["Open", "In Progress", "Done", "Cancelled"]
    progress = r.json()[1]
    assert progress["DisplayName"] == "En cours"
    assert progress["NameTranslations"]["de"] == "In Bearbeitung"
    assert r.json()[0]["IsInitial"] and r.json()[2]["IsFinal"]


def test_one_status_by_english_name_case_insensitively(env: Env) -> None:
    _, headers = person(env, lang="de")
    c = client(env, headers)
    r = c.get(f"{BASE}/Statuses/in progress")
    assert r.status_code == 200
    assert r.json()["Name"] == "In Progress"
    assert r.json()["DisplayName"] == "In Bearbeitung"
    assert c.get(f"{BASE}/statuses/In Bearbeitung").status_code == 404
    assert c.head(f"{BASE}/statuses").status_code == 200


def test_statuses_cannot_be_written(env: Env) -> None:
    c = admin(env)
    for method, path in (
        ("POST", "/statuses"),
        ("PUT", "/statuses/Open"),
        ("DELETE", "/statuses/Open"),
    ):
        r = c.request(method, f"{BASE}{path}", json={"Name": "x"})
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == "GET, HEAD"
        assert r.headers["content-type"].startswith("application/problem+json")
    assert len(c.get(f"{BASE}/statuses").json()) == 4
