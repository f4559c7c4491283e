"""Instance placement: an instance can live in a PostgreSQL database of its own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient
from typer.testing import CliRunner

from officina.app import build_app
from officina.cli import app as cli_app
from officina.core.store import Instances, sqlalchemy_url
from officina.migrations.runner import upgrade
from officina.settings import Settings
from tests.conftest import PG_URL, basic

pytestmark = pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set")


def _other_database(url: str) -> str:
    """The same server's ``postgres`` database: a second database every server has."""
    base, _, _ = url.rpartition("/")
    return f"{base}/postgres"


def _schemas(url: str, prefix: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": prefix + "%"},
            )
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def _drop(url: str, schemas: set[str]) -> None:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def test_instances_in_two_databases_are_routed_by_the_control_store(tmp_path: Path):
    assert PG_URL
    other = _other_database(PG_URL)
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, schema_prefix=prefix)
    runner = CliRunner(env={"OFFICINA_SCHEMA_PREFIX": prefix})
    store_args = ["--database-url", PG_URL]
    try:
        home = runner.invoke(cli_app, ["instance", "create", "home", *store_args, "--json"])
        assert home.exit_code == 0, home.output
        cell = runner.invoke(
            cli_app, ["instance", "create", "cell", "--own-database", other, *store_args, "--json"]
        )
        assert cell.exit_code == 0, cell.output
        keys = {
            "home": json.loads(home.output)["api_key"],
            "cell": json.loads(cell.output)["api_key"],
        }
        # each instance's schema lives in its own database
        assert f"{prefix}inst_home" in _schemas(PG_URL, prefix)
        assert f"{prefix}inst_cell" not in _schemas(PG_URL, prefix)
        assert f"{prefix}inst_cell" in _schemas(other, prefix)
        # a fresh process (another worker) finds both through the routing table
        instances = Instances(settings, prepare=upgrade)
        try:
            assert instances.database_url("cell") == other
            assert instances.database_url("home") is None
            app = build_app(settings, instances)
            for name, key in keys.items():
                with TestClient(app, headers=basic("api", key)) as client:
                    made = client.put(
                        f"/{name}/api/v1/accounts",
                        json={"lastname": f"In {name}", "currency": "EUR"},
                    )
                    assert made.status_code == 201, made.text
                    rows = client.post(f"/{name}/api/v1/accounts", json={"fields": ["lastname"]})
                    assert rows.json() == [{"lastname": f"In {name}"}]
                    # and the other instance's credentials do not open this one
                    foreign = keys["home" if name == "cell" else "cell"]
                    other_client = TestClient(app, headers=basic("api", foreign))
                    assert other_client.post(f"/{name}/api/v1/accounts", json={}).status_code == 401
        finally:
            instances.close()
        bad = runner.invoke(
            cli_app, ["instance", "create", "x", "--own-database", "mysql://nope", *store_args]
        )
        assert bad.exit_code != 0 and "postgresql" in bad.output
    finally:
        _drop(PG_URL, _schemas(PG_URL, prefix))
        _drop(other, _schemas(other, prefix))


def test_instance_move_keeps_data_and_blocks_writes_meanwhile(tmp_path: Path, monkeypatch):
    assert PG_URL
    other = _other_database(PG_URL)
    prefix = f"m{uuid.uuid4().hex[:8]}_"
    monkeypatch.setattr(Instances, "ROUTE_TTL", 0.0)
    settings = Settings(data_dir=tmp_path, database_url=PG_URL, schema_prefix=prefix)
    instances = Instances(settings, prepare=upgrade)
    try:
        from officina.core.backup import move
        from officina.core.bootstrap import create_instance

        creds = create_instance(instances, "acme")
        app = build_app(settings, instances)
        with TestClient(app, headers=basic("api", creds.api_key)) as client:
            made = client.put(
                "/acme/api/v1/accounts",
                json={"lastname": "Before the move", "currency": "EUR", "tags": ["kept"]},
            )
            assert made.status_code == 201
            # while the routing table says "moving", reads work and writes wait
            instances.set_route("acme", state="moving")
            blocked = client.put("/acme/api/v1/accounts", json={"lastname": "x", "currency": "EUR"})
            assert blocked.status_code == 503 and blocked.headers["retry-after"]
            assert client.post("/acme/api/v1/accounts", json={"count": 1}).json() == {"count": 1}
            instances.set_route("acme", state="active")

            summary = move(instances, "acme", other, grace=0.0)
            assert summary.rows > 0
            assert instances.database_url("acme") == other
            assert f"{prefix}inst_acme" not in _schemas(PG_URL, prefix)
            assert f"{prefix}inst_acme" in _schemas(other, prefix)
            # same credentials, same data, IDs continue, tags kept
            got = client.get(f"/acme/api/v1/accounts/{made.json()['ID']}?tags=1").json()
            assert got["lastname"] == "Before the move" and got["tags"] == ["kept"]
            after = client.put(
                "/acme/api/v1/accounts", json={"lastname": "After", "currency": "EUR"}
            )
            assert after.status_code == 201 and after.json()["ID"] > made.json()["ID"]
        from officina.core.backup import BackupError

        with pytest.raises(BackupError, match="already lives"):
            move(instances, "acme", other, grace=0.0)
    finally:
        instances.close()
        _drop(PG_URL, _schemas(PG_URL, prefix))
        _drop(other, _schemas(other, prefix))
