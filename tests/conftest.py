"""Shared fixtures: every storage test runs once on SQLite and once on PostgreSQL.

PostgreSQL is used when ``OFFICINA_TEST_POSTGRES_URL`` is set (CI sets it); without it the
PostgreSQL variants are skipped and the SQLite ones still run.

One migrated instance is built per store and test session; before each test the records
tables are emptied, so tests start from a known state without paying for migrations again.
People (users, groups, grants, credentials) persist across tests: tests that add people use
unique names via :func:`unique`.
"""

from __future__ import annotations

import base64
import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people
from officina.core.bootstrap import FirstCredentials, create_instance
from officina.core.store import Instances, Store, postgres_engine
from officina.migrations.runner import upgrade
from officina.settings import Settings

PG_URL = os.environ.get("OFFICINA_TEST_POSTGRES_URL")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

STORES = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set"),
    ),
]

_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A name no other test in this session uses."""
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:6]}"


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class Env:
    """One store with a migrated instance ``main`` and its administrator."""

    kind: str
    settings: Settings
    instances: Instances
    admin: FirstCredentials
    app: Any
    _clients: list[TestClient] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.instances.get("main")

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {_b64('api', self.admin.api_key)}"}

    def client(
        self, headers: dict[str, str] | None = None, base_url: str = "http://testserver"
    ) -> TestClient:
        c = TestClient(self.app, headers=headers or {}, base_url=base_url)
        self._clients.append(c)
        return c

    def user(
        self,
        perms: dict[str, bool] | None = None,
        *,
        nopublic: bool = False,
        groups: dict[int, bool] | None = None,
    ) -> tuple[int, dict[str, str]]:
        """A new user holding ``perms`` (identifier -> writable); returns ID and headers."""
        from officina.core.schema import users

        email = f"{unique('u')}@example.com"
        with self.store.write() as conn:
            u = people.create_user(conn, email=email, password="pass-word-1", name=email)
            if nopublic:
                conn.execute(users.update().where(users.c.ID == u.id).values(nopublic=1))
            if perms:
                gid = people.create_group(conn, unique("g"))
                people.add_member(conn, gid, u.id, writable=True)
                for ident, writable in perms.items():
                    people.grant(conn, gid, ident, writable)
            for gid, writable in (groups or {}).items():
                people.add_member(conn, gid, u.id, writable)
            key = people.create_api_key(conn, u.id)
        return u.id, {"Authorization": f"Basic {_b64('api', key)}"}

    def group(self, name: str | None = None) -> int:
        with self.store.write() as conn:
            return people.create_group(conn, name or unique("g"))


def _b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


# Tables kept between tests: people, credentials and instance settings.
KEEP = {
    "users",
    "groups",
    "groups2users",
    "permissions",
    "applications",
    "tokens",
    "sessions",
    "instance_settings",
    "alembic_version",
    # The system-defined job statuses; their names stay in ``translations`` (see _reset).
    "goana_status",
}


def _reset(store: Store) -> None:
    from officina.core.schema import metadata

    names = [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP]
    # Row-by-row deletes beat TRUNCATE by an order of magnitude on tables this small.
    with store.write() as conn:
        for n in names:
            table = metadata.tables[n]
            if n == "translations":
                conn.execute(delete(table).where(table.c.kind != "status"))
            else:
                conn.execute(delete(table))
        if store.dialect == "sqlite":
            conn.execute(text("DELETE FROM sqlite_sequence WHERE name NOT IN ('users','groups')"))


@pytest.fixture(scope="session", params=STORES)
def session_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    kind = request.param
    data_dir = tmp_path_factory.mktemp(f"officina-{kind}")
    if kind == "postgres":
        prefix = f"t{uuid.uuid4().hex[:8]}_"
        settings = Settings(data_dir=data_dir, database_url=PG_URL, schema_prefix=prefix)
    else:
        settings = Settings(data_dir=data_dir)
    instances = Instances(settings, prepare=upgrade)
    admin = create_instance(instances, "main", "admin@example.com", "admin-pass-1")
    app = build_app(settings, instances)
    env = Env(kind, settings, instances, admin, app)
    yield env
    close_and_drop(instances)


def close_and_drop(instances: Instances) -> None:
    """Close a test's stores and drop the PostgreSQL schemas its instances made."""
    schemas = instances.schemas()
    instances.close()
    if schemas and PG_URL:
        # One transaction per schema: dropping a schema locks each of its hundreds of tables
        # and indexes, and several schemas at once can exhaust PostgreSQL's lock table.
        for schema in schemas:
            with postgres_engine(PG_URL).begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def env(session_env: Env) -> Iterator[Env]:
    _reset(session_env.store)
    yield session_env
    for c in session_env._clients:
        c.close()
    session_env._clients.clear()


@pytest.fixture
def admin(env: Env) -> TestClient:
    """A client authenticated as the instance administrator (Basic api:<key>)."""
    return env.client(env.admin_headers)
