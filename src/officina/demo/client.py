"""Calls the server's own faces in-process, so sample data passes the same rules as any
client's data and nothing in the store is written behind the APIs' backs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import httpx

from officina.app import build_app
from officina.core import people
from officina.core.auth import revoke_token
from officina.core.store import Instances


class DemoError(RuntimeError):
    """A sample write was refused; the message carries the face's answer."""


class FaceClient:
    """An admin session on one instance, speaking to the application without a socket."""

    def __init__(self, instances: Instances, instance: str) -> None:
        self.instance = instance
        self.store = instances.get(instance)
        with self.store.write() as conn:
            admin_id = _first_admin(conn)
            self.key = people.create_api_key(conn, admin_id, "demo")
        app = build_app(instances.settings, instances)
        # A command-line tool prints its own progress and errors, not a server's log lines.
        self.quiet = logging.getLogger("officina")
        self.level = self.quiet.level
        self.quiet.setLevel(logging.ERROR)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        self.http = httpx.AsyncClient(
            transport=transport,
            base_url=f"http://localhost/{instance}",
            auth=("api", self.key),
            timeout=60,
        )
        self.loop = asyncio.new_event_loop()

    def _run(self, job: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
        return self.loop.run_until_complete(job)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        language: str | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        headers = {"Content-Language": language} if language else {}
        response = self._run(self.http.request(method, path, json=body, headers=headers))
        if response.status_code not in ok:
            raise DemoError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def close(self) -> None:
        self.quiet.setLevel(self.level)
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()
        with self.store.write() as conn:
            revoke_token(conn, self.key)


def _first_admin(conn: Any) -> int:
    from sqlalchemy import select

    from officina.core.schema import groups2users, users

    group = people.ensure_admin_group(conn)
    row = conn.execute(
        select(users.c.ID)
        .join(groups2users, groups2users.c.user == users.c.ID)
        .where(groups2users.c.group == group, users.c.activity == 0)
        .order_by(users.c.ID)
    ).first()
    if row is None:
        raise DemoError("the instance has no administrator")
    return int(row.ID)
