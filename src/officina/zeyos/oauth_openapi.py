"""The OpenAPI document of ``/{instance}/oauth2/v1``: same paths and operations as the vendor's
OAuth 2.0 contract, described in officina's words, with officina's consent page left out (it
is a browser page, not part of the API)."""

from __future__ import annotations

from typing import Any

from officina import __version__

HEX40 = {"type": "string", "pattern": "^[a-f0-9]{40}$"}
CLIENT_ID = {
    "type": "string",
    "maxLength": 200,
    "pattern": "^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$",
}
SUB = {"type": "string", "pattern": "^[1-9][0-9]*$"}


def _error(description: str, example: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error", "error_description"],
                    "properties": {
                        "error": {"type": "string", "example": example},
                        "error_description": {"type": "string"},
                    },
                }
            }
        },
    }


def _body(ref: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": schema},
            "application/json": {"schema": schema},
        },
    }


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _client_fields() -> dict[str, Any]:
    return {
        "client_id": {**CLIENT_ID, "description": "May instead be the Basic user name"},
        "client_secret": {
            "type": "string",
            "format": "password",
            "description": "May instead be the Basic password",
        },
    }


TOKEN_RESPONSE = {
    "type": "object",
    "required": [
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    ],
    "properties": {
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "access_token": HEX40,
        "expires_in": {"type": "integer", "enum": [3600]},
        "refresh_token": HEX40,
        "refresh_token_expires_in": {"type": "integer", "enum": [8640000]},
    },
}

USERINFO = {
    "type": "object",
    "required": [
        "sub",
        "name",
        "preferred_username",
        "email",
        "zoneinfo",
        "locale",
        "nopublic",
        "apionly",
        "updated_at",
    ],
    "properties": {
        "sub": SUB,
        "name": {"type": "string"},
        "preferred_username": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "zoneinfo": {"type": "string"},
        "locale": {"type": "string", "enum": ["de-DE", "en-US", "es-ES"]},
        "nopublic": {"type": "boolean"},
        "apionly": {"type": "boolean"},
        "updated_at": {"type": "integer", "format": "int64"},
        "given_name": {"type": "string"},
        "family_name": {"type": "string"},
        "phone_number": {"type": "string"},
        "birthdate": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "address": {
            "type": "object",
            "properties": {
                k: {"type": "string"}
                for k in ("street_address", "locality", "region", "postal_code", "country")
            },
        },
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "writable": {"type": "boolean"},
                },
            },
        },
        "permissions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "identifier": {"type": "string"},
                    "fork": {"type": "integer"},
                    "application": {"type": "integer"},
                    "writable": {"type": "boolean"},
                },
            },
        },
    },
}


def _paths() -> dict[str, Any]:
    unauthorized = {"$ref": "#/components/responses/invalid_client"}
    return {
        "/authorize": {
            "get": {
                "operationId": "authorize",
                "tags": ["auth"],
                "summary": "Start the authorization-code flow in the user's browser",
                "parameters": [
                    _query("client_id", CLIENT_ID, True),
                    _query("redirect_uri", {"type": "string"}, True),
                    _query("response_type", {"type": "string", "enum": ["code"]}, True),
                    _query(
                        "response_mode",
                        {"type": "string", "enum": ["query", "form_post"], "default": "query"},
                    ),
                    _query("code_challenge", {"type": "string"}),
                    _query("code_challenge_method", {"type": "string", "enum": ["S256"]}),
                    _query("state", {"type": "string"}),
                ],
                "responses": {
                    "303": {"description": "On to the sign-in and consent page"},
                    "400": {"description": "HTML error page: unknown client or redirect URI"},
                },
            }
        },
        "/token": {
            "post": {
                "operationId": "getToken",
                "tags": ["token"],
                "summary": "Trade a code, refresh token or password for a new token pair",
                "security": [{"basic": []}],
                "requestBody": _body("token"),
                "responses": {
                    "200": {
                        "description": "A new pair; the previous pair of this user and client "
                        "is revoked",
                        "content": {"application/json": {"schema": TOKEN_RESPONSE}},
                    },
                    "400": _error("Missing parameter or unsupported grant", "invalid_request"),
                    "401": unauthorized,
                    "429": _error("Too many failed sign-ins; see Retry-After", "invalid_request"),
                    "403": _error("Bad, used or expired grant", "invalid_grant"),
                },
            }
        },
        "/revoke": {
            "post": {
                "operationId": "revokeToken",
                "tags": ["token"],
                "summary": "Revoke a token (RFC 7009); a refresh token takes its access token",
                "security": [{"basic": []}],
                "requestBody": _body("token-revoke-introspect"),
                "responses": {
                    "200": {"description": "Done (also for unknown tokens)"},
                    "400": _error("Missing token parameter", "invalid_request"),
                    "401": unauthorized,
                },
            }
        },
        "/introspect": {
            "post": {
                "operationId": "introspectToken",
                "tags": ["token"],
                "summary": "Describe a token of the calling client (RFC 7662)",
                "security": [{"basic": []}],
                "requestBody": _body("token-revoke-introspect"),
                "responses": {
                    "200": {
                        "description": "Whether the token is active, and whose it is",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["active"],
                                    "properties": {
                                        "active": {"type": "boolean"},
                                        "client_id": CLIENT_ID,
                                        "username": {"type": "string"},
                                        "sub": SUB,
                                        "exp": {"type": "integer", "format": "int64"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Missing token parameter", "invalid_request"),
                    "401": unauthorized,
                },
            }
        },
        "/userinfo": {
            "get": {
                "operationId": "getUserInfo",
                "tags": ["userinfo"],
                "summary": "The caller's profile (OpenID Connect claims plus groups and grants)",
                "security": [{"token": []}, {"session": []}],
                "responses": {
                    "200": {
                        "description": "Profile",
                        "content": {"application/json": {"schema": USERINFO}},
                    },
                    "401": {
                        "description": "Missing or invalid credentials",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                },
            }
        },
    }


def oauth_openapi_document(instance: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "officina OAuth 2.0 API (ZeyOS dialect)", "version": __version__},
        "servers": [{"url": f"/{instance}/oauth2/v1"}],
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "token": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "ZEYOSID"},
            },
            "schemas": {
                "token": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        **_client_fields(),
                        "grant_type": {
                            "type": "string",
                            "enum": ["authorization_code", "refresh_token", "password"],
                        },
                        "code": HEX40,
                        "redirect_uri": {"type": "string"},
                        "code_verifier": {"type": "string"},
                        "refresh_token": HEX40,
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                        "otp": {"type": "string"},
                    },
                },
                "token-revoke-introspect": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {**_client_fields(), "token": HEX40},
                },
            },
            "responses": {
                "invalid_client": {
                    **_error("Unknown client or wrong secret", "invalid_client"),
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                }
            },
        },
        "paths": _paths(),
    }
