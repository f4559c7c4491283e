"""Assembles the jobs face: every resource module's routes behind one mount.

Order matters where paths overlap: ``/jobs/{key}/status`` comes before ``/jobs/{key}``
because job keys may contain ``/``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from officina.goana import contacts, jobs, statuses, templates
from officina.goana.routing import BASE, Face, Route


def route_table() -> list[Route]:
    table: list[Route] = []
    table += statuses.routes()
    table += jobs.routes()
    table += templates.routes()
    table += contacts.routes()
    return table


def mount() -> list[BaseRoute]:
    from officina.goana.openapi import serve

    face = Face(route_table(), {"/openapi.json": serve})
    return [Mount(BASE, app=_keep_outer(face))]


def _keep_outer(inner: Face) -> object:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        scope.setdefault("officina.app", scope.get("app"))
        await inner(scope, receive, send)

    return app
