"""Backup and restore: an instance moves between stores with every table intact."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient
from typer.testing import CliRunner

import officina.migrations.models  # noqa: F401 - every face's tables
from officina.app import build_app
from officina.cli import app as cli_app
from officina.core.backup import BackupError, backup, restore
from officina.core.bootstrap import create_instance
from officina.core.schema import metadata
from officina.core.store import Instances, Store, postgres_engine
from officina.migrations.runner import current, upgrade
from officina.settings import Settings
from tests.conftest import PG_URL, basic


def _fill(settings: Settings, instances: Instances) -> None:
    admin = create_instance(instances, "main", "admin@example.com", "admin-pass-1")
    with TestClient(build_app(settings, instances), headers=basic("api", admin.api_key)) as c:
        person = c.put(
            "/main/api/v1/contacts",
            json={
                "lastname": "Müller",
                "city": "Zürich",
                "type": 1,
                "picbinfile": {"content": base64.b64encode(b"\x00\x01binary").decode()},
            },
        ).json()
        account = c.put(
            "/main/api/v1/accounts",
            json={
                "lastname": "Lightexx AG",
                "currency": "EUR",
                "contact": person["ID"],
                "extdata": {"nickname": "lx", "score": 4.5},
                "tags": ["vip", "de"],
            },
        ).json()
        c.put("/main/api/v1/addresses", json={"account": account["ID"], "contact": person["ID"]})
        c.put(
            "/main/api/v1/transactions",
            json={
                "transactionnum": "INV-1",
                "currency": "EUR",
                "type": 3,
                "items": [{"name": "x"}],
            },
        )
        gone = c.put("/main/api/v1/accounts", json={"lastname": "Gone", "currency": "EUR"})
        c.delete(f"/main/api/v1/accounts/{gone.json()['ID']}")


def _normal(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*key)).mappings()
            out[table.name] = [{k: _normal(v) for k, v in r.items()} for r in rows]
    return out


def _drop(instances: Instances) -> None:
    schemas = instances.schemas()
    instances.close()
    if schemas and PG_URL:
        with postgres_engine(PG_URL).begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set")
def test_sqlite_to_postgres_round_trip_is_equal_table_by_table(tmp_path: Path):
    lite_settings = Settings(data_dir=tmp_path / "lite")
    lite = Instances(lite_settings, prepare=upgrade)
    pg = Instances(
        Settings(
            data_dir=tmp_path / "pg", database_url=PG_URL, schema_prefix=f"b{uuid.uuid4().hex[:8]}_"
        ),
        prepare=upgrade,
    )
    try:
        _fill(lite_settings, lite)
        source = lite.get("main")
        file = tmp_path / "main.backup.gz"
        summary = backup(source, file, current(source))
        assert summary.rows > 10
        restored = restore(pg, file, "moved")
        assert restored.rows == summary.rows
        before, after = _dump(source), _dump(pg.get("moved"))
        assert before.keys() == after.keys()
        for name in before:
            assert before[name] == after[name], name
        assert before["tombstones"] and before["extdata"] and before["tagrels"]
        # the moved instance keeps working, and new IDs continue after the restored ones
        settings = pg.settings
        admin_key = None
        with pg.get("moved").write() as conn:
            from officina.core import people

            admin_key = people.create_api_key(conn, 1)
        with TestClient(build_app(settings, pg), headers=basic("api", admin_key)) as c:
            rows = c.post(
                "/moved/api/v1/accounts", json={"fields": ["lastname", "extdata.nickname"]}
            )
            assert rows.json() == [{"lastname": "Lightexx AG", "extdata.nickname": "lx"}]
            fresh = c.put("/moved/api/v1/accounts", json={"lastname": "New", "currency": "EUR"})
            assert fresh.status_code == 201
            assert fresh.json()["ID"] > max(r["ID"] for r in before["accounts"])
    finally:
        _drop(lite)
        _drop(pg)


def test_cli_backup_and_restore_on_the_same_store(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "d")
    instances = Instances(settings, prepare=upgrade)
    _fill(settings, instances)
    before = _dump(instances.get("main"))
    instances.close()
    runner = CliRunner()
    file = tmp_path / "b.gz"
    data = ["--data-dir", str(settings.data_dir)]
    result = runner.invoke(cli_app, ["backup", "main", str(file), *data, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] > 10
    result = runner.invoke(cli_app, ["restore", str(file), "--as", "copy", *data, "--json"])
    assert result.exit_code == 0, result.output
    taken = runner.invoke(cli_app, ["restore", str(file), *data])
    assert taken.exit_code != 0
    assert "already exists" in taken.output
    assert len(taken.output.strip().splitlines()) == 1
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"not a backup")
    bad = runner.invoke(cli_app, ["restore", str(junk), "--as", "x", *data])
    assert bad.exit_code != 0 and "not an officina backup" in bad.output
    reopened = Instances(settings, prepare=upgrade)
    try:
        assert _dump(reopened.get("copy")) == before
        assert "x" not in reopened.names()
    finally:
        reopened.close()


def test_restore_refuses_unknown_tables(tmp_path: Path):
    import gzip

    file = tmp_path / "odd.gz"
    with gzip.open(file, "wb") as out:
        out.write(
            json.dumps(
                {
                    "format": "officina-backup",
                    "version": 1,
                    "instance": "odd",
                    "tables": ["no_such_table"],
                }
            ).encode()
            + b"\n"
        )
    instances = Instances(Settings(data_dir=tmp_path / "d"), prepare=upgrade)
    try:
        with pytest.raises(BackupError, match="no_such_table"):
            restore(instances, file)
        assert instances.names() == []
    finally:
        instances.close()
