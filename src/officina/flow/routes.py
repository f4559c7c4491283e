"""Assembles the projects face: its FastAPI application and the mount below the instance.

The vendor's paths were lost from the published description, so the paths are officina's
design (conventional REST over the seed's resource names). Each handler module registers its
own operations through ``routes(table)``: customers, nodes (the six node types and archive),
records, billings, extensions. The served OpenAPI file lists them all.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from officina import __version__
from officina.flow import (
    billing_handlers,
    customer_handlers,
    extension_handlers,
    node_handlers,
    record_handlers,
)
from officina.flow.context import OUTER_APP
from officina.flow.http import FlowRoute, JsonByDefault, not_found_handlers, outer_app_keeper
from officina.flow.openapi import document
from officina.flow.params import Table


def build() -> FastAPI:
    app = FastAPI(
        title="officina — Octaved Flow API (v1)",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = FlowRoute
    app.router.redirect_slashes = False
    not_found_handlers(app)
    t = Table(app)
    customer_handlers.routes(t)
    node_handlers.routes(t)
    record_handlers.routes(t)
    billing_handlers.routes(t)
    extension_handlers.routes(t)

    def openapi(request: Request) -> Response:
        return document(request, app)

    app.add_api_route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)
    return app


BASE = "/{instance}/flow/api/v1"


def mount() -> list[BaseRoute]:
    """The face, ready to sit in the server's route list below ``/{instance}``."""
    face = outer_app_keeper(JsonByDefault(build()), OUTER_APP)
    return [Mount(BASE, app=face)]
