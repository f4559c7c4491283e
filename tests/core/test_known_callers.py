"""Callers remembered between requests (SQLite's event-loop lookups) stay exactly right: any
committed change, by this process or another, and any expiry date passing is felt by the
very next request."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, select, update

from officina.core import auth, people
from officina.core.schema import groups2users, permissions, tokens
from officina.zeyos.registry import ENTITIES
from tests.conftest import PG_URL, Env

READ = ENTITIES["accounts"].read_perms[0]


def _account(env: Env) -> str:
    made = env.client(env.admin_headers).put(
        "/main/api/v1/accounts", json={"lastname": "Known", "currency": "EUR"}
    )
    assert made.status_code == 201
    return f"/main/api/v1/accounts/{made.json()['ID']}"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the runs of the statement that resolves an API key."""
    statement = auth._TOKEN_PRINCIPAL["apikey"]
    original = statement.rows
    runs: list[int] = []

    def rows(conn: Any, params: Any) -> Any:
        runs.append(1)
        return original(conn, params)

    monkeypatch.setattr(statement, "rows", rows)
    return runs


def test_a_caller_is_resolved_once_while_nothing_changes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _account(env)
    _, headers = env.user({READ: False})
    runs = _counting(monkeypatch)
    # One client session: one event loop, as in a server, whose thread keeps the connection.
    with env.client(headers) as c:
        for _ in range(4):
            assert c.get(url).status_code == 200
    # SQLite remembers the caller on its loop connection; PostgreSQL asks every time.
    assert len(runs) == (1 if env.kind == "sqlite" else 4)


def test_a_revoked_key_is_refused_by_the_next_request(env: Env) -> None:
    url = _account(env)
    user_id, headers = env.user({READ: False})
    with env.client(headers) as c:
        assert c.get(url).status_code == 200
        assert c.get(url).status_code == 200
        with env.store.write() as conn:
            conn.execute(update(tokens).where(tokens.c.user == user_id).values(revoked=1))
        assert c.get(url).status_code == 401


def test_a_removed_grant_is_felt_by_the_next_request(env: Env) -> None:
    url = _account(env)
    user_id, headers = env.user({READ: False})
    with env.client(headers) as c:
        assert c.get(url).status_code == 200
        with env.store.write() as conn:
            own = select(groups2users.c.group).where(groups2users.c.user == user_id)
            conn.execute(delete(permissions).where(permissions.c.group.in_(own)))
        assert c.get(url).status_code == 403


def test_an_expiry_passing_needs_no_change_in_the_store(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _account(env)
    user_id, _ = env.user({READ: False})
    soon = int(time.time()) + 60
    with env.store.write() as conn:
        secret, _ = people.issue_token(conn, user_id, "login", None, expdate=soon)
    with env.client({"Authorization": f"Bearer {secret}"}) as c:
        assert c.get(url).status_code == 200
        assert c.get(url).status_code == 200
        monkeypatch.setattr(auth, "now", lambda: soon + 1)
        assert c.get(url).status_code == 401


def test_a_change_committed_outside_officina_is_felt(env: Env) -> None:
    """Another program changes the store through a connection of its own."""
    url = _account(env)
    user_id, headers = env.user({READ: False})
    revoke = f'UPDATE tokens SET revoked = 1 WHERE "user" = {int(user_id)}'
    with env.client(headers) as c:
        assert c.get(url).status_code == 200
        assert c.get(url).status_code == 200
        if env.kind == "sqlite":
            other = sqlite3.connect(Path(env.settings.data_dir) / "instances" / "main.sqlite")
            with other:
                other.execute(revoke)
            other.close()
        else:
            with psycopg.connect(PG_URL or "", autocommit=True) as pg:
                pg.execute(f'SET search_path TO "{env.store.schema}"')
                pg.execute(revoke.encode())
        assert c.get(url).status_code == 401
