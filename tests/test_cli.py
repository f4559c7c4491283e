"""The ``officina`` command on a fresh store: init, instances, users, API keys, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import officina
from officina.cli import CREDENTIALS_TAG, app
from officina.core.applications import NATIVE_IDENTIFIER
from officina.core.auth import authenticate, password_principal
from officina.core.store import Instances, postgres_engine
from officina.settings import Settings
from tests.conftest import PG_URL, STORES, basic

SRC = str(Path(officina.__file__).resolve().parents[1])


@dataclass
class Cli:
    settings: Settings
    args: list[str]

    def run(self, *argv: str) -> Any:
        result = CliRunner().invoke(app, [*argv, *self.args])
        return result

    def ok(self, *argv: str) -> Any:
        result = self.run(*argv)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def fails(self, *argv: str) -> str:
        result = self.run(*argv)
        assert result.exit_code != 0, result.stdout
        message = result.stderr.strip()
        assert message and "\n" not in message, result.stderr
        assert "Traceback" not in result.stderr
        return str(message)

    def json(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv, "--json").stdout)


@pytest.fixture(params=STORES)
def cli(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    for name in ("DATA_DIR", "DATABASE_URL", "SCHEMA_PREFIX"):
        monkeypatch.delenv(f"OFFICINA_{name}", raising=False)
    if request.param == "postgres":
        assert PG_URL
        prefix = f"c{uuid.uuid4().hex[:8]}_"
        monkeypatch.setenv("OFFICINA_SCHEMA_PREFIX", prefix)
        settings = Settings(database_url=PG_URL, schema_prefix=prefix)
        yield Cli(settings, ["--database-url", PG_URL])
        _drop_schemas(prefix)
    else:
        data_dir = tmp_path / "data"
        yield Cli(Settings(data_dir=data_dir), ["--data-dir", str(data_dir)])


def _drop_schemas(prefix: str) -> None:
    assert PG_URL
    instances = Instances(Settings(database_url=PG_URL, schema_prefix=prefix))
    schemas = instances.schemas()
    instances.close()
    with postgres_engine(PG_URL).begin() as conn:
        for schema in schemas:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def credentials_line(stdout: str) -> dict[str, Any]:
    lines = [ln for ln in stdout.splitlines() if ln.startswith(CREDENTIALS_TAG + " ")]
    assert len(lines) == 1, stdout
    return dict(json.loads(lines[0][len(CREDENTIALS_TAG) + 1 :]))


def assert_credentials_work(cli: Cli, instance: str, email: str, password: str, key: str) -> None:
    instances = Instances(cli.settings)
    try:
        with instances.get(instance).read() as conn:
            assert password_principal(conn, email, password, "basic") is not None
            p = authenticate(conn, basic("api", key)["Authorization"], None)
            assert p.email.lower() == email.lower()
            assert p.is_admin
    finally:
        instances.close()


def test_init_prints_credentials_once(cli: Cli) -> None:
    result = cli.ok("init")
    creds = credentials_line(result.stdout)
    assert set(creds) == {"instance", "email", "password", "api_key", "base_url"}
    assert creds["instance"] == "main"
    assert creds["email"] == "admin@example.com"
    assert len(creds["password"]) >= 16
    assert creds["base_url"] == "http://127.0.0.1:8000"
    # The human-readable block shows the same secrets and the faces' URLs.
    assert creds["password"] in result.stdout.split(CREDENTIALS_TAG)[0]
    assert creds["api_key"] in result.stdout.split(CREDENTIALS_TAG)[0]
    assert "http://127.0.0.1:8000/main/api/v1" in result.stdout
    assert_credentials_work(cli, "main", creds["email"], creds["password"], creds["api_key"])

    message = cli.fails("init")
    assert "already initialised" in message
    again = cli.run("init")
    assert creds["password"] not in again.stdout + again.stderr
    assert CREDENTIALS_TAG not in again.stdout


def test_init_json_and_admin_email(cli: Cli) -> None:
    data = cli.json("init", "--admin-email", "Boss@Example.com")
    assert data["email"] == "Boss@Example.com"
    assert data["urls"]["records"].endswith("/main/api/v1")
    assert_credentials_work(cli, "main", "boss@example.com", data["password"], data["api_key"])


def test_init_rejects_bad_admin_email(cli: Cli) -> None:
    assert "invalid e-mail" in cli.fails("init", "--admin-email", "not-an-email")


def test_instance_create_and_list(cli: Cli) -> None:
    cli.ok("init")
    created = cli.ok("instance", "create", "acme", "--admin-email", "it@acme.example")
    creds = credentials_line(created.stdout)
    assert creds["instance"] == "acme" and creds["email"] == "it@acme.example"
    assert_credentials_work(cli, "acme", "it@acme.example", creds["password"], creds["api_key"])
    data = cli.json("instance", "create", "beta-2")
    assert data["instance"] == "beta-2" and data["api_key"]

    assert cli.json("instance", "list") == ["acme", "beta-2", "main"]
    assert cli.ok("instance", "list").stdout.split() == ["acme", "beta-2", "main"]

    assert "already exists" in cli.fails("instance", "create", "acme")
    assert "invalid instance name" in cli.fails("instance", "create", "Bad Name")
    assert "invalid instance name" in cli.fails("instance", "create", "healthz")
    assert "invalid e-mail" in cli.fails("instance", "create", "gamma", "--admin-email", "x")
    assert "gamma" not in cli.json("instance", "list")


def test_user_create(cli: Cli) -> None:
    cli.ok("init")
    data = cli.json(
        "user", "create", "--email", "Ann@Example.com", "--password", "secret-pass", "--name", "ann"
    )
    assert data["email"] == "Ann@Example.com" and data["name"] == "ann"
    assert data["admin"] is False and "password" not in data
    assert isinstance(data["id"], int) and len(data["uuid"]) == 32

    admin = cli.json("user", "create", "--admin", "--email", "bob@example.com")
    assert admin["admin"] is True and len(admin["password"]) >= 16
    assert_credentials_work(cli, "main", "bob@example.com", admin["password"], _key(cli, "bob"))

    plain = cli.ok("user", "create", "--email", "cy@example.com", "--password", "pass-word-1")
    assert "cy@example.com" in plain.stdout

    duplicate = cli.fails("user", "create", "--email", "ann@example.com", "--password", "x" * 9)
    assert "already exists" in duplicate
    assert "invalid e-mail" in cli.fails("user", "create", "--email", "nope", "--password", "x" * 9)
    short = cli.fails("user", "create", "--email", "d@example.com", "--password", "short")
    assert "at least 8" in short
    unknown = cli.fails(
        "user", "create", "--email", "e@example.com", "--password", "x" * 9, "--instance", "zzz"
    )
    assert "unknown instance" in unknown


def _key(cli: Cli, who: str) -> str:
    return str(cli.json("apikey", "create", "--email", f"{who}@example.com")["api_key"])


def test_apikey_create(cli: Cli) -> None:
    first = credentials_line(cli.ok("init").stdout)
    key = cli.ok("apikey", "create", "--email", "ADMIN@example.com", "--label", "ci").stdout.strip()
    assert len(key) == 36 and "\n" not in key
    assert_credentials_work(cli, "main", "admin@example.com", first["password"], key)
    data = cli.json("apikey", "create", "--email", "admin@example.com")
    assert data["instance"] == "main" and data["api_key"] != key
    assert "no user" in cli.fails("apikey", "create", "--email", "ghost@example.com")
    assert "unknown instance" in cli.fails(
        "apikey", "create", "--email", "admin@example.com", "--instance", "nope"
    )


def test_errors_through_the_real_command(tmp_path: Path) -> None:
    """The installed entry point prints one line on stderr and exits non-zero."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    env.pop("OFFICINA_DATABASE_URL", None)
    argv = [sys.executable, "-m", "officina"]
    data = ["--data-dir", str(tmp_path / "d")]
    bad = subprocess.run(
        [*argv, "instance", "create", "Not Valid", *data],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode != 0
    assert bad.stderr.strip().startswith("error: invalid instance name")
    assert "\n" not in bad.stderr.strip()
    helped = subprocess.run([*argv, "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert helped.returncode == 0 and "serve" in helped.stdout


def test_app_create(cli: Cli) -> None:
    from officina.core.applications import verify_client
    from officina.core.ids import digest
    from officina.core.schema import applications

    cli.ok("init")
    data = cli.json(
        "app",
        "create",
        "--name",
        "Kanban",
        "--identifier",
        "kanban.board",
        "--callback",
        "http://127.0.0.1:9005/callback",
        "--callback",
        "https://kanban.example.com/cb",
    )
    assert data["client_id"] == "kanban.board" and data["name"] == "Kanban"
    assert re.fullmatch(r"[0-9a-f]{40}", data["client_secret"])
    assert data["callbacks"] == ["http://127.0.0.1:9005/callback", "https://kanban.example.com/cb"]
    plain = cli.ok(
        "app", "create", "--name", "CLI", "--identifier", "cli", "--callback", "https://a.example/"
    )
    secret = re.search(r"client_secret: ([0-9a-f]{40})", plain.stdout)
    assert secret and "client_id: cli" in plain.stdout

    instances = Instances(cli.settings)
    try:
        with instances.get("main").read() as conn:
            client = verify_client(conn, "kanban.board", data["client_secret"])
            assert client is not None and client.id == data["id"]
            assert verify_client(conn, "kanban.board", secret.group(1)) is None
            # Besides the ready application every instance has for command-line clients.
            stored = conn.execute(
                applications.select().where(applications.c.identifier != NATIVE_IDENTIFIER)
            ).all()
            # Only the hash is kept: the form the legacy appsecret check compares.
            assert {r.secret for r in stored} == {
                digest(data["client_secret"]).hex(),
                digest(secret.group(1)).hex(),
            }
    finally:
        instances.close()

    assert "already exists" in cli.fails(
        "app", "create", "--name", "X", "--identifier", "cli", "--callback", "https://b.example/"
    )
    assert "HTTPS" in cli.fails(
        "app", "create", "--name", "X", "--identifier", "x1", "--callback", "http://x.example/"
    )
    assert "--callback" in cli.fails("app", "create", "--name", "X", "--identifier", "x2")
    assert "invalid identifier" in cli.fails(
        "app", "create", "--name", "X", "--identifier", "a b", "--callback", "https://c.example/"
    )
    assert "unknown instance" in cli.fails(
        "app",
        "create",
        "--name",
        "X",
        "--identifier",
        "x3",
        "--callback",
        "https://c.example/",
        "--instance",
        "nope",
    )
