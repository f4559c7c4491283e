"""The records face's OpenAPI document, derived from the entity registry.

Generated rather than written so the served contract cannot drift from what the routes do:
the same Field objects decide validation, SQL and this description.
"""

from __future__ import annotations

import functools
from typing import Any

from officina import __version__
from officina.zeyos.registry import ENTITIES
from officina.zeyos.registry.model import INTEGER_KINDS, TEXT_KINDS, Entity, Field, Kind, Op

_ERRORS = {
    "400": "Bad request: the message names the field, operator or value",
    "401": "Missing or invalid credentials",
    "403": "Authenticated, but lacking the permission",
    "404": "No such record (or not visible to the caller)",
    "409": "Conflict",
    "410": "A reference points at a record that does not exist",
    "412": "The record changed since the given ETag",
    "500": "Runtime error (the X-Request-Id header identifies it in the server log)",
}

# Status codes per operation: the vendor's, plus 400 everywhere officina can answer it.
CODES = {
    Op.LIST: ("200", "400", "401", "403", "500"),
    Op.CREATE: ("201", "400", "401", "403", "409", "410", "500"),
    Op.GET: ("200", "304", "400", "401", "403", "404", "500"),
    Op.HEAD: ("204", "304", "400", "401", "404", "500"),
    Op.UPDATE: ("200", "400", "401", "403", "404", "409", "410", "412", "500"),
    Op.DELETE: ("204", "401", "403", "404", "409", "412", "500"),
}

_HEADER_PARAMS = {
    Op.GET: ("If-Modified-Since", "If-None-Match"),
    Op.HEAD: ("If-Modified-Since", "If-None-Match"),
    Op.UPDATE: ("If-Match", "If-Unmodified-Since"),
    Op.DELETE: ("If-Match", "If-Unmodified-Since"),
}


def _schema(f: Field) -> dict[str, Any]:
    s: dict[str, Any]
    if f.kind in INTEGER_KINDS:
        s = {"type": "integer", "format": "int64" if f.kind == Kind.BIGINT else "int32"}
    elif f.kind == Kind.FLOAT:
        s = {"type": "number", "format": "double"}
    elif f.kind in TEXT_KINDS:
        s = {"type": "string"}
        if f.max_length:
            s["maxLength"] = f.max_length
        if f.pattern:
            s["pattern"] = f.pattern
    elif f.kind == Kind.HASH:
        s = {"type": "string", "pattern": "^\\\\x[a-f0-9]{32}$"}
    else:
        s = {"oneOf": [{"type": "string"}, {"type": "object"}, {"type": "array", "items": {}}]}
    if f.choices is not None:
        s["enum"] = list(f.choices)
    if f.minimum is not None:
        s["minimum"] = f.minimum
    if f.maximum is not None:
        s["maximum"] = f.maximum
    if f.nullable:
        s["nullable"] = True
    if f.readonly:
        s["readOnly"] = True
    return s


def _record_schema(entity: Entity) -> dict[str, Any]:
    props = {f.name: _schema(f) for f in entity.fields}
    if entity.extdata:
        props["extdata"] = {"type": "object", "additionalProperties": {"type": "string"}}
    if entity.tags:
        props["tags"] = {"type": "array", "items": {"type": "string"}}
    return {"type": "object", "properties": props}


def _write_schema(entity: Entity) -> dict[str, Any]:
    props = {f.name: _schema(f) for f in entity.fields if f.name != "lastmodified"}
    if entity.extdata:
        props["extdata"] = {"type": "object"}
    if entity.tags:
        for key in ("tags", "+tags", "-tags"):
            props[key] = {"type": "array", "items": {"type": "string"}}
    required = [f.name for f in entity.fields if f.required]
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


_LIST_BODY = {
    "type": "object",
    "properties": {
        "fields": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
        "filter": {"oneOf": [{"type": "object"}, {"type": "array", "items": {}}]},
        "filters": {"oneOf": [{"type": "object"}, {"type": "array", "items": {}}]},
        "query": {"type": "string"},
        "sort": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
        "limit": {"type": "integer", "minimum": 1, "default": 1000},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
        "count": {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
        "distinct": {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
        "expand": {"type": "array", "items": {"type": "string"}},
        "extdata": {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
        "tags": {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
    },
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
        }
    }


def _responses(op: Op, ok_body: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in CODES[op]:
        if code in ("200", "201"):
            out[code] = {"description": "Success"}
            if ok_body is not None:
                out[code]["content"] = {"application/json": {"schema": ok_body}}
        elif code == "204":
            out[code] = {"description": "Success, no content"}
        elif code == "304":
            out[code] = {"description": "Not modified"}
        elif op == Op.HEAD:
            out[code] = {"description": _ERRORS[code]}
        else:
            out[code] = {
                "description": _ERRORS[code],
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
    return out


def _parameters(entity: Entity, op: Op) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [{"$ref": "#/components/parameters/ID"}]
    if op == Op.GET:
        params.append({"$ref": "#/components/parameters/expand"})
        if entity.extdata:
            params.append({"$ref": "#/components/parameters/extdata"})
        if entity.tags:
            params.append({"$ref": "#/components/parameters/tags"})
    params += [{"$ref": f"#/components/parameters/{h}"} for h in _HEADER_PARAMS[op]]
    return params


def _paths(entity: Entity) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.name}"}
    ids = dict(entity.operation_ids)
    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}

    def operation(op: Op, summary: str, body: dict[str, Any] | None, ok: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "tags": [entity.name],
            "operationId": ids.get(op.value, f"{op.value}_{entity.name}"),
            "summary": summary,
            "responses": _responses(op, ok),
        }
        if body is not None:
            spec["requestBody"] = _body(body)
        if op in _HEADER_PARAMS:
            spec["parameters"] = _parameters(entity, op)
        return spec

    listed = {"oneOf": [{"type": "array", "items": ref}, {"type": "object"}]}
    if Op.LIST in entity.ops:
        collection["post"] = operation(Op.LIST, f"List {entity.name}", _LIST_BODY, listed)
    if Op.CREATE in entity.ops:
        collection["put"] = operation(
            Op.CREATE, f"Create a record in {entity.name}", _write_schema(entity), ref
        )
    if Op.GET in entity.ops:
        item["get"] = operation(Op.GET, f"Get one record of {entity.name}", None, ref)
    if Op.HEAD in entity.ops:
        item["head"] = operation(Op.HEAD, f"Check a record of {entity.name} exists", None, None)
    if Op.UPDATE in entity.ops:
        patch_body = _write_schema(entity)
        patch_body.pop("required", None)
        item["patch"] = operation(Op.UPDATE, f"Change a record of {entity.name}", patch_body, ref)
    if Op.DELETE in entity.ops:
        item["delete"] = operation(Op.DELETE, f"Delete a record of {entity.name}", None, None)
    paths: dict[str, Any] = {}
    if collection:
        paths[f"/{entity.name}"] = collection
    if item:
        paths[f"/{entity.name}/{{ID}}"] = item
    return paths


_COMPONENT_PARAMETERS = {
    "ID": {
        "name": "ID",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "format": "int64", "minimum": 1},
    },
    "expand": {
        "name": "expand",
        "in": "query",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    "extdata": {"name": "extdata", "in": "query", "schema": {"type": "integer", "enum": [0, 1]}},
    "tags": {"name": "tags", "in": "query", "schema": {"type": "integer", "enum": [0, 1]}},
    "If-Match": {"name": "If-Match", "in": "header", "schema": {"type": "string"}},
    "If-None-Match": {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
    "If-Modified-Since": {
        "name": "If-Modified-Since",
        "in": "header",
        "schema": {"type": "string"},
    },
    "If-Unmodified-Since": {
        "name": "If-Unmodified-Since",
        "in": "header",
        "schema": {"type": "string"},
    },
}


@functools.lru_cache(maxsize=64)
def _document(served: frozenset[str]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/config": {
            "get": {
                "operationId": "getConfig",
                "tags": ["general"],
                "summary": "Instance configuration",
                "responses": {
                    "200": {
                        "description": "Success",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "401": {"description": _ERRORS["401"]},
                    "500": {"description": _ERRORS["500"]},
                },
            }
        },
        "/settings": {
            "get": {
                "operationId": "getSettings",
                "tags": ["general"],
                "summary": "Settings of the calling application",
                "responses": {
                    "200": {
                        "description": "Success",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "401": {"description": _ERRORS["401"]},
                    "403": {"description": _ERRORS["403"]},
                    "500": {"description": _ERRORS["500"]},
                },
            }
        },
    }
    schemas: dict[str, Any] = {}
    for name in sorted(served):
        entity = ENTITIES[name]
        paths.update(_paths(entity))
        schemas[name] = _record_schema(entity)
    return {
        "openapi": "3.0.3",
        "info": {"title": "officina records API", "version": __version__},
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "components": {
            "schemas": schemas,
            "parameters": _COMPONENT_PARAMETERS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "ZEYOSID"},
            },
        },
        "paths": paths,
    }


def openapi_document(instance: str, served: frozenset[str]) -> dict[str, Any]:
    doc = dict(_document(served))
    doc["servers"] = [{"url": f"/{instance}/api/v1"}]
    return doc
