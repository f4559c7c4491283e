"""Random filter trees give the same rows on SQLite and PostgreSQL (property test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core.bootstrap import create_instance
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from officina.settings import Settings
from tests.conftest import PG_URL, basic, close_and_drop

pytestmark = pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set")

NAMES = ["Alpha", "beta", "Gamma AG", "délta", "Ärger", "zulu", "Beta", "", "x_y%z"]
CITIES = ["Berlin", "berlin", "Wien", "Zürich", None]
TEXT_VALUES = ["Alpha", "beta", "b%", "%a%", "^[a-g]", "Berlin", "", "ä", "Z"]


def _load(client: TestClient) -> None:
    for i, name in enumerate(NAMES * 3):
        city = CITIES[i % len(CITIES)]
        contact = None
        if city is not None:
            r = client.put("/main/api/v1/contacts", json={"lastname": f"c{i}", "city": city})
            contact = r.json()["ID"]
        body = {
            "lastname": name or "-",
            "firstname": name[:2],
            "currency": "EUR",
            "type": i % 6,
            "contact": contact,
            "extdata": {"rank": str(i % 7), "label": name[:1] or "none"},
        }
        assert client.put("/main/api/v1/accounts", json=body).status_code == 201


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[TestClient]]:
    made: list[tuple[Instances, TestClient]] = []
    base = tmp_path_factory.mktemp("props")
    for settings_ in (
        Settings(data_dir=base / "lite"),
        Settings(
            data_dir=base / "pg", database_url=PG_URL, schema_prefix=f"p{uuid.uuid4().hex[:8]}_"
        ),
    ):
        instances = Instances(settings_, prepare=upgrade)
        admin = create_instance(instances, "main", "admin@example.com", "admin-pass-1")
        client = TestClient(build_app(settings_, instances), headers=basic("api", admin.api_key))
        _load(client)
        made.append((instances, client))
    yield [c for _, c in made]
    for instances, client in made:
        client.close()
        close_and_drop(instances)


def _condition() -> st.SearchStrategy[dict[str, Any]]:
    text_ops = st.sampled_from(["=", "!=", "<", ">=", "~", "~*", "!~", "~~", "~~*", "!~~*"])
    text_cond = st.tuples(
        st.sampled_from(["lastname", "firstname", "contact.city", "extdata.label"]),
        text_ops,
        st.sampled_from(TEXT_VALUES),
    ).map(lambda t: {t[0]: {t[1]: t[2]}})
    number_cond = st.tuples(
        st.sampled_from(["type", "extdata.rank"]),
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        st.integers(0, 6),
    ).map(lambda t: {t[0]: {t[1]: t[2]}})
    in_cond = st.tuples(
        st.sampled_from(["type", "contact.city", "lastname"]),
        st.sampled_from(["IN", "!IN"]),
        st.lists(st.sampled_from([0, 2, 5, "Berlin", "beta", None]), max_size=3),
    ).map(
        lambda t: {
            t[0]: {t[1]: [v for v in t[2] if isinstance(v, int) == (t[0] == "type") or v is None]}
        }
    )
    null_cond = st.sampled_from([{"contact": None}, {"contact.city": {"!=": None}}])
    return st.one_of(text_cond, number_cond, in_cond, null_cond)


def _tree(depth: int = 0) -> st.SearchStrategy[Any]:
    leaf = _condition()
    if depth >= 2:
        return leaf
    group = st.tuples(
        st.sampled_from(["AND", "OR", "NOT"]), st.lists(_tree(depth + 1), min_size=1, max_size=3)
    ).map(lambda t: [t[0], *t[1]])
    return st.one_of(leaf, group)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    tree=_tree(),
    sort=st.sampled_from(
        [["+lastname"], ["-contact.city", "+ID"], ["-extdata.rank"], ["+firstname", "-type"]]
    ),
)
def test_random_filters_agree(clients: list[TestClient], tree: Any, sort: list[str]) -> None:
    body = {
        "filters": tree,
        "fields": ["ID", "lastname", "contact.city", "extdata.rank"],
        "sort": sort,
    }
    answers = []
    for client in clients:
        r = client.post("/main/api/v1/accounts", json=body)
        assert r.status_code == 200, (body, r.text)
        answers.append(r.content)
    assert answers[0] == answers[1], body
