"""A list answered from a kept statement gives the rows a freshly compiled one gives
(property test: random filter trees, then the same tree with other operands)."""

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
from officina.zeyos import list_statements
from tests.conftest import PG_URL, basic, close_and_drop
from tests.zeyos.test_filter_properties import TEXT_VALUES, _load, _tree

BOUND = {"=", "!=", "<", "<=", ">", ">="}
OTHER = {
    int: st.integers(-1, 7),
    str: st.sampled_from([*TEXT_VALUES, "Wien", "Gamma AG", "3"]),
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    if request.param == "postgres" and not PG_URL:
        pytest.skip("OFFICINA_TEST_POSTGRES_URL not set")
    base = tmp_path_factory.mktemp("kept")
    settings_ = Settings(data_dir=base)
    if request.param == "postgres":
        settings_ = Settings(
            data_dir=base, database_url=PG_URL, schema_prefix=f"k{uuid.uuid4().hex[:8]}_"
        )
    instances = Instances(settings_, prepare=upgrade)
    admin = create_instance(instances, "main", "admin@example.com", "admin-pass-1")
    made = TestClient(build_app(settings_, instances), headers=basic("api", admin.api_key))
    _load(made)
    yield made
    made.close()
    close_and_drop(instances)


def _revalue(node: Any, draw: Any) -> Any:
    """The same tree with other operands of the same JSON types where operands are bound."""
    if isinstance(node, list):
        return [_revalue(item, draw) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            out[key] = {op: _operand(op, v, draw) for op, v in value.items()}
        else:
            out[key] = _revalue(value, draw)
    return out


def _operand(op: str, value: Any, draw: Any) -> Any:
    if op in BOUND and type(value) in OTHER:
        return draw(OTHER[type(value)])
    if op.upper() in ("IN", "!IN") and isinstance(value, list):
        return [v if v is None else draw(OTHER[type(v)]) for v in value]
    return value


def _answer(client: TestClient, body: dict[str, Any]) -> tuple[int, bytes]:
    r = client.post("/main/api/v1/accounts", json=body)
    assert r.status_code in (200, 400), (body, r.text)
    return r.status_code, r.content


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=_tree(), data=st.data(), limit=st.integers(1, 30), offset=st.integers(0, 5))
def test_kept_statement_answers_like_a_fresh_one(
    client: TestClient, tree: Any, data: st.DataObject, limit: int, offset: int
) -> None:
    other = _revalue(tree, data.draw)
    fields = ["ID", "lastname", "contact.city", "extdata.rank"]
    first = {"filters": tree, "fields": fields, "sort": ["-lastname"], "limit": 30}
    second = {**first, "filters": other, "limit": limit, "offset": offset}
    list_statements._KEPT.clear()
    _answer(client, first)
    from_kept = _answer(client, second)
    list_statements._KEPT.clear()
    assert from_kept == _answer(client, second), (first, second)
