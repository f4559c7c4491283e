"""The same data and the same list request give byte-identical JSON on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from officina.app import build_app
from officina.core.bootstrap import create_instance
from officina.core.store import Instances, postgres_engine
from officina.migrations.runner import upgrade
from officina.settings import Settings
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set")

CONTACTS = [
    ("Munich", "DE"),
    ("London", "GB"),
    ("london", "GB"),
    ("Wien", "AT"),
    ("Zürich", "CH"),
    ("Århus", "DK"),
    ("Paris", "FR"),
    ("", "GB"),
]
ACCOUNTS = [
    "Lightexx AG",
    "BEQ Building Equipment",
    "CleanTexx",
    "Österreich Handel",
    "zeta corp",
    "alpha ltd",
    "Ärger GmbH",
    "Zebra",
    "ähnlich AG",
    "_under%score",
]

QUERIES = [
    {
        "fields": {
            "Id": "ID",
            "Name": "lastname",
            "Town": "contact.city",
            "Country": "contact.country",
            "Nick": "extdata.nickname",
            "Agent": "assigneduser.name",
        },
        "filters": {
            "contact.country": {"IN": ["DE", "AT", "GB", "CH", "DK"]},
            "2": [
                "OR",
                {"lastname": {"~*": "^[a-zä]"}},
                {"contact.city": {"~~*": "%ON%"}},
                {"extdata.rank": {">": 40}},
            ],
        },
        "sort": ["+contact.city", "-lastname"],
        "limit": 5,
        "offset": 1,
    },
    {"fields": ["lastname", "contact.city"], "sort": ["-contact.city", "+lastname"]},
    {"fields": ["lastname"], "sort": ["lastname"], "query": "ä"},
    {"fields": ["contact.country"], "distinct": True, "sort": ["+contact.country"]},
    {
        "fields": ["lastname", "extdata", "tags"],
        "filters": {"type": {"!IN": [3]}},
        "sort": ["-extdata.nickname"],
    },
    {"count": True, "filters": ["NOT", {"contact": None}]},
]


def _load(client) -> None:
    contacts = []
    for city, country in CONTACTS:
        r = client.put(
            "/main/api/v1/contacts",
            json={"lastname": f"c {city}", "city": city, "country": country},
        )
        assert r.status_code == 201, r.text
        contacts.append(r.json()["ID"])
    for i, name in enumerate(ACCOUNTS):
        body = {
            "lastname": name,
            "currency": "EUR",
            "type": i % 3,
            "contact": contacts[i % len(contacts)] if i != 5 else None,
            "assigneduser": 1 if i % 2 else None,
            "extdata": {"nickname": name[:3].lower(), "rank": str(i * 10)},
            "tags": [f"tag{i % 4}", "Common"],
        }
        r = client.put("/main/api/v1/accounts", json=body)
        assert r.status_code == 201, r.text


def _answers(settings: Settings) -> list[bytes]:
    instances = Instances(settings, prepare=upgrade)
    try:
        admin = create_instance(instances, "main", "admin@example.com", "admin-pass-1")
        from starlette.testclient import TestClient

        from tests.conftest import basic

        with TestClient(
            build_app(settings, instances), headers=basic("api", admin.api_key)
        ) as client:
            _load(client)
            out = []
            for body in QUERIES:
                r = client.post("/main/api/v1/accounts", json=body)
                assert r.status_code == 200, r.text
                out.append(r.content)
            return out
    finally:
        schemas = instances.schemas()
        instances.close()
        if settings.is_postgres:
            with postgres_engine(str(settings.database_url)).begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_identical_json_on_both_stores(tmp_path):
    lite = _answers(Settings(data_dir=tmp_path / "lite"))
    pg = _answers(
        Settings(
            data_dir=tmp_path / "pg", database_url=PG_URL, schema_prefix=f"x{uuid.uuid4().hex[:8]}_"
        )
    )
    for body, a, b in zip(QUERIES, lite, pg, strict=True):
        assert a == b, (body, a, b)
    assert b"Munich" in lite[0] or b"London" in lite[0]
