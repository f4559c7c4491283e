"""The records face's OpenAPI document, derived from the entity registry.

Generated rather than written so the served contract cannot drift from what the routes do:
the same Field objects decide validation, SQL and this description.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
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


def _responses(ok: str, ok_body: dict[str, Any] | None, codes: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {ok: {"description": "Success"}}
    if ok_body is not None:
        out[ok]["content"] = {"application/json": {"schema": ok_body}}
    for code in codes:
        out[code] = {
            "description": _ERRORS[code],
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    return out


def _paths(entity: Entity) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.name}"}
    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}
    tag = [entity.name]
    if Op.LIST in entity.ops:
        collection["post"] = {
            "tags": tag,
            "operationId": f"list_{entity.name}",
            "summary": f"List {entity.name}",
            "requestBody": _body(_LIST_BODY),
            "responses": _responses(
                "200",
                {"oneOf": [{"type": "array", "items": ref}, {"type": "object"}]},
                ["400", "401", "403"],
            ),
        }
    if Op.CREATE in entity.ops:
        collection["put"] = {
            "tags": tag,
            "operationId": f"create_{entity.name}",
            "summary": f"Create a record in {entity.name}",
            "requestBody": _body(_write_schema(entity)),
            "responses": _responses("201", ref, ["400", "401", "403", "409", "410"]),
        }
    id_param = {
        "name": "ID",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
    if Op.GET in entity.ops:
        item["get"] = {
            "tags": tag,
            "operationId": f"get_{entity.name}",
            "summary": f"Get one record of {entity.name}",
            "responses": _responses("200", ref, ["400", "401", "403", "404"]),
        }
        item["get"]["responses"]["304"] = {"description": "Not modified"}
    if Op.HEAD in entity.ops:
        item["head"] = {
            "tags": tag,
            "operationId": f"exists_{entity.name}",
            "summary": f"Check that a record of {entity.name} exists",
            "responses": {
                "204": {"description": "Exists"},
                "304": {"description": "Not modified"},
                "401": {"description": _ERRORS["401"]},
                "404": {"description": _ERRORS["404"]},
            },
        }
    if Op.UPDATE in entity.ops:
        item["patch"] = {
            "tags": tag,
            "operationId": f"update_{entity.name}",
            "summary": f"Change a record of {entity.name}",
            "requestBody": _body(_write_schema(entity) | {"required": []}),
            "responses": _responses("200", ref, ["400", "401", "403", "404", "409", "410", "412"]),
        }
    if Op.DELETE in entity.ops:
        item["delete"] = {
            "tags": tag,
            "operationId": f"delete_{entity.name}",
            "summary": f"Delete a record of {entity.name}",
            "responses": _responses("204", None, ["401", "403", "404", "409", "412"]),
        }
    paths: dict[str, Any] = {}
    if collection:
        paths[f"/{entity.name}"] = collection
    if item:
        item["parameters"] = [id_param]
        paths[f"/{entity.name}/{{ID}}"] = item
    return paths


@functools.lru_cache(maxsize=64)
def _document(served: frozenset[str]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/config": {
            "get": {
                "operationId": "getConfig",
                "summary": "Instance configuration",
                "responses": _responses("200", {"type": "object"}, ["401"]),
            }
        },
        "/settings": {
            "get": {
                "operationId": "getSettings",
                "summary": "Settings of the calling application",
                "responses": _responses("200", {"type": "object"}, ["401", "403"]),
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
