"""Migration ``auth_0001`` on a store that already holds people: the ready application for
command-line clients appears, sessions from before lifetimes existed end, and the new columns
take the data; checked on both stores and then through HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people
from officina.core.applications import NATIVE_IDENTIFIER
from officina.core.schema import applications, sessions
from officina.core.sessions import create_session
from officina.core.store import Instances, Store
from officina.migrations.runner import _config
from officina.settings import Settings
from tests.conftest import PG_URL, STORES


def _to(store: Store, target: str) -> None:
    cfg = _config()
    with store.engine.connect() as conn:
        if store.schema is not None:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"'))
            conn.execute(text(f'SET search_path TO "{store.schema}"'))
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            conn.commit()
        finally:
            if store.schema is not None:
                conn.execute(text("RESET search_path"))
                conn.commit()


@contextmanager
def at_revision(kind: str, tmp_path: Path, revision: str) -> Iterator[tuple[Instances, Store]]:
    """An instance ``main`` whose store is left at ``revision`` (a migration's predecessor)."""
    if kind == "postgres":
        assert PG_URL
        settings = Settings(database_url=PG_URL, schema_prefix=f"m{uuid.uuid4().hex[:8]}_")
    else:
        settings = Settings(data_dir=tmp_path / "data")
    instances = Instances(settings, prepare=lambda store: _to(store, revision))
    try:
        yield instances, instances.create("main")
    finally:
        if kind == "postgres":
            with instances.get("main").engine.begin() as conn:
                for schema in instances.schemas():
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        instances.close()


@pytest.fixture(params=STORES)
def older(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Instances, Store]]:
    with at_revision(request.param, tmp_path, "core_0002") as found:
        yield found


def test_upgrade_adds_the_ready_application_and_ends_old_sessions(
    older: tuple[Instances, Store],
) -> None:
    instances, store = older
    with store.engine.begin() as conn:
        if store.schema:
            conn.execute(text(f'SET search_path TO "{store.schema}"'))
        conn.execute(
            text(
                "INSERT INTO users (creationdate, lastmodified, name, email, uuid, password, "
                "name_ci, email_ci) VALUES (1, 1, 'ann', 'ann@example.com', :u, '', 'ann', "
                "'ann@example.com')"
            ),
            {"u": uuid.uuid4().hex},
        )
        user_id = conn.execute(text('SELECT "ID" FROM users')).scalar_one()
        conn.execute(
            text(
                'INSERT INTO sessions (hash, "user", created, lastseen, ip) '
                "VALUES (:h, :u, 1, 1, '')"
            ),
            {"h": b"x" * 32, "u": user_id},
        )
        if store.schema:
            conn.execute(text("RESET search_path"))
    _to(store, "heads")
    with store.read() as conn:
        app = conn.execute(
            select(applications).where(applications.c.identifier == NATIVE_IDENTIFIER)
        ).one()
        old = conn.execute(select(sessions)).one()
    assert app.secret is None and app.activity == 0
    assert old.ended is not None and old.expires is None and old.idle is None
    # The upgraded store serves the new rules: a new session with lifetimes works.
    with store.write() as conn:
        people.init_settings(conn)
        sid = create_session(conn, user_id)
    client = TestClient(build_app(instances.settings, instances))
    assert client.get("/main/auth/v1/", headers={"Cookie": f"ZEYOSID={sid}"}).status_code == 200
    authorize = client.get(
        "/main/oauth2/v1/authorize",
        params={
            "client_id": NATIVE_IDENTIFIER,
            "redirect_uri": "http://127.0.0.1:61234/callback",
            "response_type": "code",
        },
        follow_redirects=False,
    )
    assert authorize.status_code == 303
