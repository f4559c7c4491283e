"""Assembles the jobs face: every resource module's routes behind one mount, and its
declaration for the request pipeline.

Order matters where paths overlap: ``/jobs/{key}/status`` comes before ``/jobs/{key}``
because job keys may contain ``/``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from officina.core.auth import AuthFailure
from officina.core.face import Face as CoreFace
from officina.core.face import Kind, KindRule
from officina.goana import contacts, jobs, statuses, teams, templates, users
from officina.goana.context import challenge
from officina.goana.problems import Problem
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


class GoanaDialect:
    """RFC 7807 problem bodies, never stored by a cache."""

    def error(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> Response:
        if message is None and status == 404:
            message = "no such resource"
        return _no_store(Problem(status, message, headers=dict(headers or {})).response())

    def unauthorized(self, instance: str, failure: AuthFailure, *, head: bool = False) -> Response:
        problem = Problem(401, "missing or invalid credentials", headers=challenge("officina"))
        return _no_store(problem.response())

    def too_large(self, limit: int, *, head: bool = False) -> Response:
        return _no_store(Problem(413, f"the body is larger than {limit} bytes").response())


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


FACE = CoreFace(
    "jobs",
    "/goana/api/v1",
    GoanaDialect(),
    mount,
    kinds=(KindRule("/openapi.json", Kind.PUBLIC),),
    description="/openapi.json",
)
