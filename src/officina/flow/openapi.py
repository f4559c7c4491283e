"""The face's served OpenAPI description, built from the route table and request models.

FastAPI derives paths, parameters and request bodies; this module adds what it cannot know:
the server URL of the calling instance, the error body, the authentication schemes and the
``ids[]`` convention.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.responses import Response

from officina.flow.context import store_of
from officina.flow.http import ok

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "code", "message", "errors"],
    "properties": {
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

DESCRIPTION = (
    "The Octaved Flow API v1 dialect served by officina. Ids are 32 upper-case hexadecimal "
    "characters. Arrays in query strings repeat the name with [] appended "
    "(?ids[]=A&ids[]=B). Errors answer with the Error body."
)


def _base(app: FastAPI) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(app.state, "flow_openapi", None)
    if cached is None:
        cached = get_openapi(
            title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes
        )
        components = cached.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        # FastAPI's 422 bodies never occur: validation failures answer 400 with Error.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Error"] = ERROR_SCHEMA
        components["securitySchemes"] = {
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "ZEYOSID"},
        }
        cached["security"] = [{"basic": []}, {"bearer": []}, {"session": []}]
        error = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        }
        for operations in cached.get("paths", {}).values():
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                for status, words in (
                    ("400", "Invalid input"),
                    ("401", "Unauthorized"),
                    ("403", "Forbidden"),
                    ("404", "Not found"),
                    ("429", "Too many failed sign-ins (Retry-After)"),
                ):
                    responses.setdefault(status, {"description": words, **error})
                if method != "get":
                    responses.setdefault(
                        "409", {"description": "Conflict (an id or name in use)", **error}
                    )
        app.state.flow_openapi = cached
    return cached


def document(request: Request, app: FastAPI) -> Response:
    store = store_of(request)
    doc = copy.deepcopy(_base(app))
    doc["servers"] = [{"url": f"/{store.name}/flow/api/v1"}]
    return ok(doc)
