"""OAuth 2.0 API of the records face, served under ``/{instance}/oauth2/v1``.

- ``GET /authorize`` and the consent page: :mod:`officina.zeyos.oauth_authorize`;
- ``POST /token`` (grants ``authorization_code``, ``refresh_token``, ``password``),
  ``POST /revoke`` (RFC 7009) and ``POST /introspect`` (RFC 7662): client-authenticated,
  form-urlencoded or JSON bodies, errors as RFC 6749 JSON;
- ``GET /userinfo``: any credential the other APIs accept, errors as this face's text;
- ``GET /openapi.json``: the contract of the above.

Clients authenticate with HTTP Basic and/or ``client_id``/``client_secret`` in the body. The
official client sends both at once, so both are accepted when they name the same client and
secret; a disagreement is ``invalid_client``, never a guess at which one was meant.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from officina.core import throttle
from officina.core.applications import Client, verify_client
from officina.core.auth import SESSION_COOKIE, authenticate
from officina.core.errors import HttpError, method_not_allowed, not_found
from officina.core.store import Store
from officina.zeyos import oauth_grants as grants
from officina.zeyos.oauth_authorize import authorize, consent
from officina.zeyos.oauth_grants import OAuthError, invalid_client, invalid_grant, invalid_request
from officina.zeyos.oauth_openapi import oauth_openapi_document
from officina.zeyos.oauth_userinfo import userinfo
from officina.zeyos.responses import error_response, guarded, json_response

log = logging.getLogger("officina.zeyos")

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

Handler = Callable[[Request], Awaitable[Response]]


def oauth_guarded(handler: Handler) -> Handler:
    """RFC 6749 JSON errors for the client-facing endpoints; never a stack trace."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except OAuthError as err:
            return json_response(err.body(), err.status, {**NO_STORE, **err.headers})
        except HttpError as err:
            if err.status in (404, 405):
                return error_response(err.status, err.message, err.headers or None)
            body = {"error": "invalid_request", "error_description": err.message}
            return json_response(body, err.status, {**NO_STORE, **err.headers})
        except Exception:
            request_id = uuid.uuid4().hex
            log.exception("unhandled error, request id %s", request_id)
            body = {"error": "server_error", "error_description": "Runtime Error"}
            return json_response(body, 500, {"X-Request-Id": request_id})

    return wrapper


def _store(request: Request) -> Store:
    store = request.app.state.instances.lookup(request.path_params["instance"])
    if store is None:
        raise not_found()
    return store


async def _fields(request: Request) -> dict[str, str]:
    """A form-urlencoded or JSON object body as text parameters (each at most once)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HttpError(413, "Payload Too Large")
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise invalid_request("Malformed JSON") from None
        if not isinstance(data, dict):
            raise invalid_request("Malformed JSON: expected an object")
        pairs = list(data.items())
    else:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("Malformed form data") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise invalid_request(f"Repeated parameter '{key[:100]}'")
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise invalid_request(f"Invalid parameter '{key[:100]}'")
        out[key] = value
    return out


def _basic_pair(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    instance = request.path_params["instance"]
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client(instance, "Client authentication must use Basic")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_client(instance, "Malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise invalid_client(instance, "Malformed Basic credentials")
    return client_id, secret


def _client_credentials(request: Request, fields: dict[str, str]) -> tuple[str, str]:
    instance = request.path_params["instance"]
    header = _basic_pair(request)
    body_id, body_secret = fields.get("client_id"), fields.get("client_secret")
    if header is not None:
        client_id, secret = header
        if (body_id is not None and body_id != client_id) or (
            body_secret is not None and body_secret != secret
        ):
            raise invalid_client(instance, "Client credentials in header and body disagree")
        return client_id, secret
    if body_id is None:
        raise invalid_client(instance, "Missing client credentials")
    # A public client (no secret) may name itself alone; others fail the secret check.
    return body_id, body_secret or ""


async def _client(request: Request, store: Store, fields: dict[str, str]) -> Client:
    client_id, secret = _client_credentials(request, fields)

    def check() -> Client | None:
        with store.read() as conn:
            return verify_client(conn, client_id, secret)

    client = await run_in_threadpool(check)
    if client is None:
        raise invalid_client(request.path_params["instance"])
    return client


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise invalid_request(f"Missing parameter '{name}'")
    return value


def _committed(store: Store, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a grant in one write transaction that commits even when the grant is refused."""
    with store.write() as conn:
        result = fn(conn, *args)
    if isinstance(result, OAuthError):
        raise result
    return result


def _password(store: Store, client: Client, username: str, password: str, address: str) -> Any:
    # The slow password check runs before the write transaction opens.
    principal = throttle.check_password(store, username, password, "bearer", address)
    if principal is None:
        raise invalid_grant("Invalid credentials")
    if not client.may_be_used_by(principal):
        raise invalid_grant("Application not available to this user")
    with store.write() as conn:
        return grants.issue_pair(conn, client, principal.user_id)[1]


@oauth_guarded
async def token(request: Request) -> Response:
    if request.method != "POST":
        raise method_not_allowed(["POST"])
    store = _store(request)
    fields = await _fields(request)
    client = await _client(request, store, fields)
    grant_type = _required(fields, "grant_type")
    if grant_type == "authorization_code":
        code = _required(fields, "code")
        redirect_uri = _required(fields, "redirect_uri")
        verifier = fields.get("code_verifier")
        args: tuple[Any, ...] = (grants.exchange_code, client, code, redirect_uri, verifier)
        data = await run_in_threadpool(_committed, store, *args)
    elif grant_type == "refresh_token":
        secret = _required(fields, "refresh_token")
        data = await run_in_threadpool(_committed, store, grants.refresh, client, secret)
    elif grant_type == "password":
        username = _required(fields, "username")
        password = _required(fields, "password")
        address = request.client.host if request.client else ""
        data = await run_in_threadpool(_password, store, client, username, password, address)
    else:
        raise OAuthError(
            400, "unsupported_grant_type", f"Bad Request: Unsupported grant_type '{grant_type}'"
        )
    return json_response(data, headers=NO_STORE)


@oauth_guarded
async def revoke(request: Request) -> Response:
    if request.method != "POST":
        raise method_not_allowed(["POST"])
    store = _store(request)
    fields = await _fields(request)
    client = await _client(request, store, fields)
    await run_in_threadpool(_committed, store, grants.revoke, client, _required(fields, "token"))
    return Response(status_code=200, headers=NO_STORE)


@oauth_guarded
async def introspect(request: Request) -> Response:
    if request.method != "POST":
        raise method_not_allowed(["POST"])
    store = _store(request)
    fields = await _fields(request)
    client = await _client(request, store, fields)
    secret = _required(fields, "token")

    def look() -> dict[str, Any]:
        with store.read() as conn:
            return grants.introspect(conn, client, secret)

    return json_response(await run_in_threadpool(look), headers=NO_STORE)


@guarded
async def userinfo_endpoint(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed(["GET", "HEAD"])
    store = _store(request)
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)

    def read() -> dict[str, Any]:
        with store.read() as conn:
            return userinfo(conn, authenticate(conn, authorization, cookie))

    return json_response(await run_in_threadpool(read), headers=NO_STORE)


@guarded
async def openapi(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed(["GET", "HEAD"])
    _store(request)
    return json_response(oauth_openapi_document(request.path_params["instance"]))


def routes() -> list[Route]:
    """Each path answers with and without a trailing slash; nothing redirects."""
    base = "/{instance}/oauth2/v1"
    endpoints: tuple[tuple[str, Handler], ...] = (
        ("/authorize", authorize),
        ("/consent", consent),
        ("/token", token),
        ("/revoke", revoke),
        ("/introspect", introspect),
        ("/userinfo", userinfo_endpoint),
        ("/openapi.json", openapi),
    )
    out: list[Route] = []
    for path, endpoint in endpoints:
        out.append(Route(base + path, endpoint, methods=ALL_METHODS))
        out.append(Route(base + path + "/", endpoint, methods=ALL_METHODS))
    return out
