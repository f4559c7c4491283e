"""Assembles the jobs face: every resource module's routes behind one mount.

Order matters where paths overlap: ``/jobs/{key}/status`` comes before ``/jobs/{key}``
because job keys may contain ``/``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from officina.goana import contacts, jobs, statuses, teams, templates, users
from officina.goana.routing import BASE, Face, Route


def route_table() -> list[Route]:
    table: list[Route] = []
    table += statuses.routes()
    table += jobs.routes()
    table += templates.routes()
    table += contacts.routes()
    table += teams.routes()
    table += users.routes()
    return table


def mount() -> list[BaseRoute]:
    from officina.goana.openapi import serve

    face = Face(route_table(), {"/openapi.json": serve})
    return [Mount(BASE, app=_keep_outer(face))]


def _keep_outer(inner: Face) -> ASGIApp:
    """Remember the enclosing application: its state holds the instance index."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("officina.app", scope.get("app"))
        await inner(scope, receive, send)

    return app
