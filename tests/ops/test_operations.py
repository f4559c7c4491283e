"""Operations endpoints and request plumbing: health, readiness, request ids, access logs,
metrics by route template, and no secrets in the logs."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from officina.app import build_app, faces
from officina.core.bootstrap import create_instance
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from officina.ops.metrics import MAX_ROUTES, Metrics
from officina.ops.requests import JsonFormatter, RequestIdFilter, route_of
from officina.settings import Settings
from tests.conftest import Env, basic


def test_health_and_readiness(env: Env) -> None:
    c = env.client()
    assert c.get("/healthz").json() == {"status": "ok"}
    r = c.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_readiness_fails_when_migrations_are_pending(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    instances = Instances(settings, prepare=upgrade)
    try:
        create_instance(instances, "main", "admin@example.com", "admin-pass-1")
        app = build_app(settings, instances)
        with instances.get("main").write() as conn:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num LIKE 'goana%'"))
        r = TestClient(app).get("/readyz")
        assert r.status_code == 503
        assert r.json()["problems"] == {"main": "migrations pending"}
    finally:
        instances.close()


def test_readiness_fails_when_the_store_is_unreachable(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone() -> list[str]:
        raise OperationalError("SELECT name FROM instances", {}, ConnectionRefusedError())

    monkeypatch.setattr(env.instances, "names", gone)
    r = env.client().get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "store": "OperationalError"}
    assert env.client().get("/healthz").status_code == 200  # alive, just not ready


def test_request_ids_are_echoed_or_made(env: Env) -> None:
    c = env.client(env.admin_headers)
    given = c.get("/main/auth/v1/", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = c.get("/main/auth/v1/", headers={"X-Request-ID": "bad id with spaces\x7f"})
    assert len(made.headers["x-request-id"]) == 32
    assert c.get("/main/auth/v1/").headers["x-request-id"] != made.headers["x-request-id"]


def test_access_log_is_json_with_the_request_id_and_no_secrets(env: Env) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("officina.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        secret = "very-secret-password-1"
        c = env.client(basic("admin@example.com", secret))
        r = c.get(
            "/main/api/v1/accounts/12345?token=also-secret", headers={"X-Request-ID": "trace-me"}
        )
        assert r.status_code == 401
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "trace-me"]
    assert len(mine) == 1
    assert mine[0]["route"] == "/{instance}/api/v1/accounts/{id}"
    assert mine[0]["status"] == 401 and mine[0]["method"] == "GET"
    assert secret not in buffer.getvalue() and "also-secret" not in buffer.getvalue()


def test_metrics_by_route_template(env: Env) -> None:
    c = env.client(env.admin_headers)
    for n in range(3):
        c.get(f"/main/api/v1/accounts/{1000 + n}")
    c.get("/main/no/such/face")
    assert c.get("/metrics").status_code == 403  # not the local machine, no token
    token_app = build_app(dataclasses.replace(env.settings, metrics_token="scrape"), env.instances)
    scraped = TestClient(token_app)
    scraped.get("/main/api/v1/accounts/1", headers=env.admin_headers)
    body = scraped.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
    assert 'route="/{instance}/api/v1/accounts/{id}"' in body
    assert "officina_request_duration_seconds_bucket" in body
    assert "/main/" not in body and "accounts/1" not in body.replace("accounts/{id}", "")


def test_route_templates_stay_bounded() -> None:
    served = faces()
    jobs = route_of("/main/goana/api/v1/jobs/2024/0001/status", served)
    assert jobs == "/{instance}/goana/api/v1/jobs/{id}"
    flow = route_of("/main/flow/api/v1/nodes/ABC", served)
    assert flow == "/{instance}/flow/api/v1/nodes/{id}"
    assert route_of("/x/api/v1/whatever-random-123", served) == "/{instance}/api/v1/{id}"
    assert route_of("/x/y/z", served) == "{unmatched}"
    assert route_of("/readyz", served) == "/readyz"
    metrics = Metrics()
    for n in range(MAX_ROUTES + 50):
        metrics.observe("GET", f"/{{instance}}/api/v1/r{n}", 404, 0.001)
    assert len(metrics.series) == MAX_ROUTES + 1
    assert 'route="{other}"' in metrics.render()
