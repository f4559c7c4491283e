"""Hostile input through every door: answered with 4xx (or stored verbatim as plain data),
never 5xx, never data from outside the entity or instance that was asked for."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from tests.conftest import Env

NASTY = [
    "' OR '1'='1",
    "'; DROP TABLE accounts; --",
    '" OR 1=1 --',
    "1; SELECT * FROM users",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%00",
    "\u0000",
    "(a+)+$",
    "(.*a){25}",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "x" * 100_000,
    "\ud800",
    "😀" * 500,
    "${jndi:ldap://example.com/a}",
    "<script>alert(1)</script>",
    "*",
    "%",
    "_",
    "\\",
]
REGEX_BOMBS = ["(a+)+$", "(a|aa)+$", "(.*a){30}", "([a-zA-Z]+)*$", "(a|a?)+$"]


def _nested(depth: int) -> str:
    """A filter nested ``depth`` levels deep, as text (too deep for Python's own encoder)."""
    return '{"filter": ' + '["AND", ' * depth + '{"lastname": "x"}' + "]" * depth + "}"


def _ok(r: Any, *allowed: int) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if allowed:
        assert r.status_code in allowed, (r.status_code, r.text[:300])
    assert "Traceback" not in r.text


@pytest.fixture
def seeded(env: Env) -> TestClient:
    c = env.client(env.admin_headers, base_url="https://testserver")
    for name in ("Alpha", "Beta"):
        assert (
            c.put("/main/api/v1/accounts", json={"lastname": name, "currency": "EUR"}).status_code
            == 201
        )
    return c


def test_records_fields_filters_sort_and_query(seeded: TestClient) -> None:
    c = seeded
    known = {row["ID"] for row in c.post("/main/api/v1/accounts", json={}).json()}
    for text in NASTY:
        safe_text = text if "\ud800" not in text and "\u0000" not in text else None
        for body in (
            {"filter": {"lastname": text}},
            {"filter": {"lastname": {"~": text}}},
            {"filter": {text: "x"}},
            {"sort": [text]},
            {"fields": [text]},
            {"query": text},
            {"expand": [text]},
            {"limit": text},
        ):
            r = c.post("/main/api/v1/accounts", content=json.dumps(body))
            _ok(r)
            if r.status_code == 200 and isinstance(r.json(), list):
                # Only this entity's rows, and never a hidden column of another table.
                for row in r.json():
                    assert row.get("ID", min(known)) in known, body
                    assert not {"password", "hash", "secret"} & set(row), body
        if safe_text is not None and len(safe_text) < 5000:
            made = c.put("/main/api/v1/accounts", json={"lastname": safe_text, "currency": "EUR"})
            _ok(made, 201, 400)
            if made.status_code == 201:
                known.add(made.json()["ID"])
                back = c.get(f"/main/api/v1/accounts/{made.json()['ID']}")
                assert back.json()["lastname"] == safe_text
    for pattern in REGEX_BOMBS:
        r = c.post(
            "/main/api/v1/accounts", json={"filter": {"lastname": {"~": pattern + "a" * 40}}}
        )
        _ok(r)


def test_deep_huge_and_broken_bodies(seeded: TestClient) -> None:
    c = seeded
    nested = _nested(2500)
    _ok(
        c.post(
            "/main/api/v1/accounts", content=nested, headers={"Content-Type": "application/json"}
        ),
        400,
        413,
    )
    deep = "[" * 100_000 + "]" * 100_000
    for url in ("/main/api/v1/accounts", "/main/flow/api/v1/customers", "/main/goana/api/v1/teams"):
        _ok(c.post(url, content=deep, headers={"Content-Type": "application/json"}))
        _ok(c.post(url, content=b"\xff\xfe{", headers={"Content-Type": "application/json"}))
        _ok(
            c.post(
                url, content=b'{"name": "\\ud800"}', headers={"Content-Type": "application/json"}
            )
        )
        wide = json.dumps({f"k{i}": i for i in range(50_000)})
        _ok(c.post(url, content=wide, headers={"Content-Type": "application/json"}))


def test_instance_names_and_paths(seeded: TestClient) -> None:
    c = seeded
    for name in ("..", "%2e%2e", "main%00", "main;", "con", "a" * 300, "main%2F..", "%2Fetc"):
        for face in ("api/v1/accounts/1", "flow/api/v1/customers", "goana/api/v1/jobs", "auth/v1/"):
            r = c.get(f"/{name}/{face}")
            _ok(r, 401, 404, 405)
    for name in ("../x", "..%2F..%2Fetc%2Fpasswd", "x\x00y.txt"):
        r = c.get(f"/main/api/v1/binfiles/{quote(name, safe='')}")
        _ok(r, 400, 404, 405)


def test_search_idents_and_job_filters(seeded: TestClient) -> None:
    c = seeded
    for text in NASTY[:12]:
        value = quote(text[:2000], safe="")
        for path in (
            f"/main/flow/api/v1/projects/search/name/{value}",
            f"/main/flow/api/v1/projects/search/{value}",
            f"/main/flow/api/v1/customers/search/name/{value}",
            f"/main/goana/api/v1/jobs/{value}",
            f"/main/goana/api/v1/contacts/{value}",
        ):
            _ok(c.get(path))
        for param in (
            "statusName",
            "jobTemplateTitle",
            "userEmail",
            "team",
            "sort",
            "plannedFrom",
            "key",
            "page",
        ):
            _ok(c.get("/main/goana/api/v1/jobs", params={param: text[:5000]}))


def test_hostile_headers(seeded: TestClient, env: Env) -> None:
    c = env.client(base_url="https://testserver")
    for value in (
        "Basic " + "A" * 10_000,
        "Basic %%%",
        "Bearer " + "' OR 1=1 --",
        "Digest x",
        "Basic Og==",
    ):
        for url in (
            "/main/api/v1/accounts/1",
            "/main/goana/api/v1/jobs",
            "/main/flow/api/v1/customers",
        ):
            _ok(c.get(url, headers={"Authorization": value}), 401)
    for lang in ("de-CH;q=abc", "*" * 5000, "\u00e9\u00e9", ",,,;;;"):
        _ok(
            seeded.get(
                "/main/goana/api/v1/statuses",
                headers={"Accept-Language": lang.encode("utf-8")},
            ),
            200,
        )
    _ok(seeded.get("/main/api/v1/accounts/1", headers={"If-None-Match": "x" * 10_000}))
    _ok(seeded.put("/main/goana/api/v1/jobs/x", json={}, headers={"If-Match": '"' * 1000}))


def test_query_complexity_limits_are_configurable(env: Env) -> None:
    import dataclasses

    from officina.app import build_app
    from officina.zeyos.limits import LIMITS

    saved = dataclasses.replace(LIMITS)
    try:
        strict = dataclasses.replace(
            env.settings,
            max_filter_conditions=2,
            max_filter_depth=2,
            max_in_items=3,
            max_sort_keys=2,
            max_query_terms=2,
            max_limit=1,
            max_body_bytes=2000,
        )
        c = TestClient(build_app(strict, env.instances), headers=env.admin_headers)
        for name in ("Alpha", "Beta"):
            made = c.put("/main/api/v1/accounts", json={"lastname": name, "currency": "EUR"})
            assert made.status_code == 201
        three = {"filter": {"lastname": "a", "firstname": "b", "currency": "EUR"}}
        r = c.post("/main/api/v1/accounts", json=three)
        assert r.status_code == 400 and "conditions" in r.text
        r = c.post("/main/api/v1/accounts", json={"filter": {"ID": {"IN": [1, 2, 3, 4]}}})
        assert r.status_code == 400 and "IN" in r.text
        r = c.post("/main/api/v1/accounts", json={"filter": ["AND", ["OR", {"lastname": "a"}]]})
        assert r.status_code == 400 and "deeply" in r.text
        r = c.post("/main/api/v1/accounts", json={"sort": ["lastname", "-ID", "currency"]})
        assert r.status_code == 400 and "sort" in r.text
        r = c.post("/main/api/v1/accounts", json={"query": "alpha beta gamma"})
        assert r.status_code == 400 and "query" in r.text
        r = c.post("/main/api/v1/accounts", json={"limit": 50})
        assert r.status_code == 200 and len(r.json()) == 1
        big = {"lastname": "x" * 3000, "currency": "EUR"}
        r = c.put("/main/api/v1/accounts", json=big)
        assert r.status_code == 413
    finally:
        for name, value in dataclasses.asdict(saved).items():
            setattr(LIMITS, name, value)
    c = env.client(env.admin_headers)
    assert c.post("/main/api/v1/accounts", json=three).status_code == 200
    assert len(c.post("/main/api/v1/accounts", json={"limit": 50}).json()) == 2
    sort = {"sort": ["lastname", "-ID", "currency"]}
    assert c.post("/main/api/v1/accounts", json=sort).status_code == 200
