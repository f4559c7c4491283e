"""The OpenAPI document of the jobs face, built from the route table and the wire shapes."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from officina import __version__
from officina.goana.routing import Call, json_response


def document(base: str) -> dict[str, Any]:
    from officina.goana.face import route_table

    paths: dict[str, Any] = {}
    for route in route_table():
        if route.codes == (405,):
            continue
        item = paths.setdefault(route.path.replace(":path}", "}"), {})
        item[route.method.lower()] = {"summary": route.summary}
    return {
        "openapi": "3.0.3",
        "info": {"title": "officina — Goana jobs API (v1)", "version": __version__},
        "servers": [{"url": base}],
        "paths": paths,
    }


def serve(call: Call) -> Response:
    path = call.request.url.path
    base = path[: -len("/openapi.json")]
    return json_response(document(base))
