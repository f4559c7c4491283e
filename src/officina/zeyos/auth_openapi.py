"""OpenAPI description of the legacy token API under ``/{instance}/auth/v1``."""

from __future__ import annotations

from typing import Any

from officina import __version__

_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _TEXT}


_LOGIN_FIELDS: dict[str, Any] = {
    "type": "object",
    "required": ["name", "password", "identifier"],
    "properties": {
        "name": {"type": "string", "description": "User name or e-mail address"},
        "password": {"type": "string"},
        "identifier": {
            "type": "string",
            "pattern": "^[a-zA-Z0-9_.:-]+$",
            "description": "Persistent identifier of the calling device",
        },
        "appsecret": {"type": "string", "description": "Secret binding the token to an app"},
        "otp": {"type": "string"},
        "expdate": {"type": "integer", "format": "int64"},
    },
}

_TOKEN = {
    "type": "object",
    "properties": {
        "user": {"type": "integer"},
        "application": {"type": "integer", "nullable": True},
        "token": {"type": "string", "pattern": "^[a-f0-9]{40}$"},
        "identifier": {"type": "string"},
        "expdate": {"type": "integer", "format": "int64"},
    },
}


def auth_openapi_document(instance: str) -> dict[str, Any]:
    ok_json = {"application/json": {"schema": {"type": "object"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "officina token API", "version": __version__},
        "servers": [{"url": f"/{instance}/auth/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "ZEYOSID"},
            }
        },
        "security": [{"bearer": []}, {"basic": []}, {"session": []}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "getAuthInfo",
                    "summary": "The signed-in user, optionally with access rights and settings",
                    "parameters": [
                        {
                            "name": "access",
                            "in": "query",
                            "schema": {"type": "integer", "enum": [0, 1]},
                        },
                        {
                            "name": "settings",
                            "in": "query",
                            "schema": {"type": "integer", "enum": [0, 1]},
                        },
                    ],
                    "responses": {
                        "200": {"description": "User information", "content": ok_json},
                        "401": _error("Missing or invalid credentials"),
                        "500": _error("Runtime error"),
                    },
                },
                "head": {
                    "operationId": "verifyAuth",
                    "summary": "Check that the credentials are valid",
                    "responses": {
                        "204": {"description": "Valid"},
                        "401": {"description": "Missing or invalid credentials"},
                        "500": {"description": "Runtime error"},
                    },
                },
            },
            "/login": {
                "post": {
                    "operationId": "login",
                    "summary": "Exchange user name and password for a bearer token",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {"schema": _LOGIN_FIELDS},
                            "application/json": {"schema": _LOGIN_FIELDS},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "A new token",
                            "content": {"application/json": {"schema": _TOKEN}},
                        },
                        "400": _error("Missing or malformed parameter"),
                        "401": _error("Invalid credentials"),
                        "429": _error("Too many failed sign-ins; see Retry-After"),
                        "500": _error("Runtime error"),
                    },
                }
            },
            "/logout": {
                "get": {
                    "operationId": "logout",
                    "summary": "Revoke the bearer token used for this request",
                    "security": [{"bearer": []}],
                    "responses": {
                        "204": {"description": "Revoked"},
                        "401": _error("Missing or invalid bearer token"),
                        "500": _error("Runtime error"),
                    },
                }
            },
        },
    }
