"""build_app(settings): the one ASGI application serving every face of every instance.

The first path segment names the instance (the ZeyOS client derives the instance from a
platform URL with exactly one path segment, so officina lives at the host root). Each face
is mounted below it, as it declares itself (``core.face``), and every request of every face
goes through the one request pipeline (``core.pipeline``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from anyio.to_thread import current_default_thread_limiter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from officina import __version__
from officina.core import throttle
from officina.core.face import Faces
from officina.core.pipeline import Pipeline, not_found
from officina.core.store import Instances
from officina.flow import face as flow_face
from officina.goana import face as goana_face
from officina.migrations.runner import upgrade
from officina.ops import health
from officina.ops.metrics import Metrics
from officina.ops.requests import Observer, configure_logging
from officina.settings import Settings
from officina.zeyos import face as zeyos_face
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


def faces() -> Faces:
    """Every face the server speaks; the records face, the busiest, goes first (Starlette
    tries routes in order, and no two faces share a path shape)."""
    return Faces([*zeyos_face.FACES, flow_face.FACE, goana_face.FACE])


def face_urls(base: str, instance: str) -> dict[str, str]:
    """Base URL of every face of one instance (and of the descriptions a face lists), as
    printed by ``officina serve``."""
    root = f"{base}/{instance}"
    urls: dict[str, str] = {}
    for face in faces().all:
        urls[face.name] = root + face.prefix
        if face.description is not None:
            urls[f"{face.name}_openapi"] = root + face.prefix + face.description
    return urls


def build_app(settings: Settings, instances: Instances | None = None) -> Starlette:
    owned = instances is None
    store_index = instances or Instances(settings, prepare=upgrade)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        current_default_thread_limiter().total_tokens = settings.store_threads
        yield
        if owned:
            store_index.close()

    served = faces()
    routes: list[BaseRoute] = [
        *served.routes(),
        Route("/", _index, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
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
    app.router.default = not_found(served)
    app.state.instances = store_index
    app.state.settings = settings
    app.state.metrics = Metrics(settings.metrics_dir)
    configure_logging(settings.log_level)
    app.add_middleware(
        Pipeline,
        faces=served,
        instances=store_index,
        max_body_bytes=settings.max_body_bytes,
        observer=Observer(app.state.metrics, served),
    )
    return app
