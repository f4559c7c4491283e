"""build_app(settings): the one ASGI application serving every face of every instance.

The first path segment names the instance (the ZeyOS client derives the instance from a
platform URL with exactly one path segment, so officina lives at the host root). Each face
is mounted below it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from anyio.to_thread import current_default_thread_limiter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from officina import __version__
from officina.core import throttle
from officina.core.basic_throttle import BasicThrottle
from officina.core.store import Instances
from officina.flow.errors import FlowError
from officina.flow.http import error_response as flow_error
from officina.flow.routes import mount as flow_routes
from officina.goana.face import mount as goana_routes
from officina.goana.problems import Problem
from officina.migrations.runner import upgrade
from officina.ops import health
from officina.ops.metrics import Metrics
from officina.ops.requests import Observed, configure_logging
from officina.settings import Settings
from officina.zeyos import auth_routes as zeyos_auth
from officina.zeyos import http as zeyos_http
from officina.zeyos import oauth_routes as zeyos_oauth
from officina.zeyos.limits import LIMITS


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, headers=headers, media_type="application/json"
    )


async def _index(request: Request) -> Response:
    instances: Instances = request.app.state.instances
    base = str(request.base_url).rstrip("/")
    return _json(
        {
            "name": "officina",
            "version": __version__,
            "faces": face_urls(base, "{instance}"),
            "instances": len(instances.names()),
        }
    )


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """A path no route takes (for instance one with control characters) still gets the
    error format of the face its prefix names."""
    path = scope.get("path", "")
    response: Response
    if "/goana/api/v1" in path:
        response = Problem(404, "no such resource").response()
    elif "/flow/api/v1" in path:
        response = flow_error(FlowError(404, "not_found", "no such resource"))
    else:
        response = PlainTextResponse("Not Found", status_code=404)
    await response(scope, receive, send)


def _too_many_sign_ins(path: str, seconds: int) -> Response:
    """A 429 for ``Basic login:password`` past the sign-in limit, in the dialect of the face
    the path names."""
    refused = throttle.too_many(seconds)
    if "/goana/api/v1" in path:
        return Problem(429, refused.message, headers=refused.headers).response()
    if "/flow/api/v1" in path:
        return flow_error(
            FlowError(429, "too_many_requests", refused.message, headers=refused.headers)
        )
    if "/oauth2/v1" in path:
        body = {"error": "invalid_request", "error_description": refused.message}
        return _json(body, 429, {**refused.headers, "Cache-Control": "no-store"})
    return PlainTextResponse(refused.message, status_code=429, headers=refused.headers)


# OAuth endpoints where Basic credentials authenticate the client application, not a user.
_CLIENT_AUTHENTICATED = ("/oauth2/v1/token", "/oauth2/v1/revoke", "/oauth2/v1/introspect")


def _client_authenticated(path: str) -> bool:
    return path.rstrip("/").endswith(_CLIENT_AUTHENTICATED)


def face_urls(base: str, instance: str) -> dict[str, str]:
    """Base URL of every face of one instance, as printed by ``officina serve``."""
    root = f"{base}/{instance}"
    return {
        "records": f"{root}/api/v1",
        "auth": f"{root}/auth/v1",
        "oauth2": f"{root}/oauth2/v1",
        "records_openapi": f"{root}/api/v1/openapi.json",
        "projects": f"{root}/flow/api/v1",
        "projects_openapi": f"{root}/flow/api/v1/openapi.json",
        "jobs": f"{root}/goana/api/v1",
        "jobs_openapi": f"{root}/goana/api/v1/openapi.json",
    }


def build_app(settings: Settings, instances: Instances | None = None) -> Starlette:
    owned = instances is None
    store_index = instances or Instances(settings, prepare=upgrade)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        current_default_thread_limiter().total_tokens = settings.store_threads
        yield
        if owned:
            store_index.close()

    # Starlette tries routes in order; the records face, the busiest, goes first. No two
    # faces share a path shape, so the order changes nothing but the time of the search.
    routes: list[BaseRoute] = [
        *zeyos_http.routes(),
        Route("/", _index, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        *zeyos_auth.routes(),
        *flow_routes(),
        *goana_routes(),
        *zeyos_oauth.routes(),
    ]
    LIMITS.binfile_bytes = settings.max_binfile_bytes
    LIMITS.statement_seconds = settings.statement_timeout
    LIMITS.filter_depth = settings.max_filter_depth
    LIMITS.filter_conditions = settings.max_filter_conditions
    LIMITS.in_items = settings.max_in_items
    LIMITS.sort_keys = settings.max_sort_keys
    LIMITS.query_terms = settings.max_query_terms
    LIMITS.max_limit = settings.max_limit
    throttle.configure(
        settings.login_max_failures,
        settings.login_max_failures_per_address,
        settings.login_window_seconds,
    )
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = False
    app.router.default = _not_found
    app.state.instances = store_index
    app.state.settings = settings
    app.state.metrics = Metrics(settings.metrics_dir)
    configure_logging(settings.log_level)
    app.add_middleware(
        BasicThrottle,
        instances=store_index,
        refuse=_too_many_sign_ins,
        exempt=_client_authenticated,
    )
    app.add_middleware(Observed, metrics=app.state.metrics)
    return app
