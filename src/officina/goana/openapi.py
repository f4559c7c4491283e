"""The OpenAPI document of the jobs face, built from the route table and the wire shapes.

Nothing here is written twice: paths, parameters and status codes come from the routes,
schemas from the same :class:`~officina.goana.wire.Shape` objects that parse request bodies.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from officina import __version__
from officina.goana.problems import TITLES
from officina.goana.routing import Call, Route, json_response
from officina.goana.wire import Field, Shape

SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer", "format": "int32"},
    "bool": {"type": "boolean"},
    "float": {"type": "number", "format": "double"},
    "datetime": {"type": "string", "description": "YYYY-MM-DDTHH:MM:SS, instance-local time"},
    "timespan": {"type": "string", "description": "hh:mm:ss, or d.hh:mm:ss from 24 h on"},
    "bytes": {"type": "string", "format": "byte"},
}
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "traceId": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
HEADERS = {
    "ETag": {"description": "version of the object", "schema": {"type": "string"}},
    "Location": {"description": "address of the added object", "schema": {"type": "string"}},
    "X-Total-Count": {"description": "items matching the filters", "schema": {"type": "integer"}},
    "Link": {"description": "next and previous pages (RFC 8288)", "schema": {"type": "string"}},
}


def _field_schema(f: Field, schemas: dict[str, Any]) -> dict[str, Any]:
    if f.kind == "object":
        assert f.shape is not None
        _shape(f.shape, schemas)
        out: dict[str, Any] = {"allOf": [{"$ref": f"#/components/schemas/{f.shape.name}"}]}
    elif f.kind == "list":
        if f.item == "object":
            assert f.shape is not None
            _shape(f.shape, schemas)
            items: dict[str, Any] = {"$ref": f"#/components/schemas/{f.shape.name}"}
        else:
            items = {"type": "string"}
        out = {"type": "array", "items": items}
    elif f.kind == "map":
        out = {"type": "object", "additionalProperties": {"type": "string"}}
    else:
        out = dict(SCALARS[f.kind])
        if f.max_len is not None and f.kind == "str":
            out["maxLength"] = f.max_len
    out["nullable"] = True
    if f.doc:
        out["description"] = f.doc
    if f.read_only:
        out["readOnly"] = True
    if f.write_only:
        out["writeOnly"] = True
    return out


def _shape(shape: Shape, schemas: dict[str, Any]) -> None:
    if shape.name in schemas:
        return
    schemas[shape.name] = {}  # placeholder against recursion
    schemas[shape.name] = {
        "type": "object",
        "description": shape.doc,
        "properties": {f.name: _field_schema(f, schemas) for f in shape.fields},
    }


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": re.sub(r"\W+", "_", f"{route.method.lower()}{route.path}").strip("_"),
        "tags": [route.path.strip("/").split("/")[0]],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)(?::path)?\}", route.path)
    ]
    for p in route.query:
        schema: dict[str, Any] = {"type": p.kind}
        if p.repeat:
            params.append(
                {
                    "name": p.name,
                    "in": "query",
                    "description": p.doc,
                    "schema": {"type": "array", "items": schema},
                    "style": "form",
                    "explode": True,
                }
            )
        else:
            params.append({"name": p.name, "in": "query", "description": p.doc, "schema": schema})
    if params:
        op["parameters"] = params
    if route.body is not None:
        _shape(route.body, schemas)
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.name}"}}
            },
        }
    responses: dict[str, Any] = {}
    # Every operation may meet the sign-in throttle (Basic e-mail and password).
    for code in (*route.codes, 429):
        entry: dict[str, Any] = {"description": TITLES.get(code, "OK")}
        if code in (200, 201) and route.returns is not None:
            _shape(route.returns, schemas)
            ref = {"$ref": f"#/components/schemas/{route.returns.name}"}
            schema = {"type": "array", "items": ref} if route.many else ref
            entry["content"] = {"application/json": {"schema": schema}}
            names = ["X-Total-Count", "Link"] if route.many else ["ETag"]
            if code == 201:
                names.append("Location")
            entry["headers"] = {n: HEADERS[n] for n in names}
        elif code >= 400:
            entry["content"] = {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        elif code == 200:
            entry["description"] = "OK"
        responses[str(code)] = entry
    op["responses"] = responses
    return op


def document(base: str) -> dict[str, Any]:
    from officina.goana.face import route_table

    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for route in route_table():
        if route.codes == (405,):
            continue
        item = paths.setdefault(route.path.replace(":path}", "}"), {})
        item[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "officina — Goana jobs API (v1)",
            "version": __version__,
            "description": "Jobs, job templates, statuses, teams, users and contacts.",
        },
        "servers": [{"url": base}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def serve(call: Call) -> Response:
    path = call.request.url.path
    return json_response(document(path[: -len("/openapi.json")]))
