"""Shared helpers of the jobs face tests: HTTPS clients, users with Goana roles."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from officina.core import people
from tests.conftest import Env, basic, unique

BASE = "/main/goana/api/v1"
HTTPS = "https://testserver"
PASSWORD = "pass-word-1"


def client(env: Env, headers: dict[str, str] | None = None) -> TestClient:
    """A client speaking HTTPS, as Goana clients do (plain HTTP from afar is refused)."""
    return env.client(headers, base_url=HTTPS)


def admin(env: Env, **headers: str) -> TestClient:
    return client(env, {**env.admin_headers, **headers})


def person(
    env: Env, roles: tuple[str, ...] = (), teams: tuple[str, ...] = (), lang: str = "en"
) -> tuple[str, dict[str, str]]:
    """A new core user with the given Goana roles and teams; returns e-mail and headers."""
    email = f"{unique('p')}@example.com"
    with env.store.write() as conn:
        u = people.create_user(conn, email=email, password=PASSWORD, name=email, lang=lang)
        for name in [f"goana.{r}" for r in roles] + list(teams):
            gid = _group(conn, name)
            people.add_member(conn, gid, u.id, writable=True)
    return email, basic(email, PASSWORD)


def _group(conn: Any, name: str) -> int:
    from sqlalchemy import select

    from officina.core.schema import groups

    row = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.lower())).first()
    return int(row.ID) if row else people.create_group(conn, name)


def problem_fields(response: Any) -> set[str]:
    """The field paths a 400 problem body names."""
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json"), body
    return set((body.get("errors") or {}).keys())
