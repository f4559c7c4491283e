"""Legacy Authentication API of the records face, served under ``/{instance}/auth/v1``.

- ``POST /login`` trades a user name (or e-mail) and password for a bearer token bound to a
  device ``identifier`` and, with ``appsecret``, to an application. One live login token exists
  per (user, application, identifier): logging in again revokes the previous one.
- ``GET /`` describes the caller, ``HEAD /`` only checks the credentials.
- ``GET /logout`` revokes the bearer token it was called with or, without an Authorization
  header, ends the ``ZEYOSID`` cookie session it was called with.

A login token also ends after ``login_token_idle_seconds`` without use, and an ``expdate``
asked for is capped at ``login_token_max_seconds`` from now (settings).

Application secrets are stored as the lower-case hex SHA-256 of the secret
(``digest(secret).hex()``), so a login compares hashes and never sees a stored secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from officina.core import throttle
from officina.core.auth import (
    SESSION_COOKIE,
    AuthError,
    AuthFailure,
    Principal,
    authenticate,
    bearer_secret,
    revoke_token,
)
from officina.core.clock import now
from officina.core.errors import bad_request, method_not_allowed, not_found, payload_too_large
from officina.core.ids import digest
from officina.core.people import issue_token
from officina.core.schema import applications, tokens, users
from officina.core.sessions import end_session
from officina.core.store import Store
from officina.settings import Settings
from officina.zeyos.auth_openapi import auth_openapi_document
from officina.zeyos.responses import guarded, json_response

IDENTIFIER = re.compile(r"^[a-zA-Z0-9_.:-]+$")
MAX_IDENTIFIER = 255
MAX_LOGIN_BODY = 64 * 1024
# Largest expiry accepted: beyond it the value no longer fits a 64-bit column safely.
MAX_EXPDATE = 2**53
LANGS = {"de": "de_DE", "en": "en_US", "es": "es_ES"}
ROOT_METHODS = ["GET", "HEAD"]
# Every path accepts these so that a wrong one gets this face's 405 with the right ``Allow``.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

T = TypeVar("T")


def _invalid_credentials() -> AuthError:
    # Rendered by ``guarded`` as "Unauthorized: Invalid credentials" with a Basic challenge.
    return AuthError(AuthFailure.BAD_BASIC)


def _lang(code: str) -> str:
    return LANGS.get((code or "en")[:2].lower(), "en_US")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").strip().lower() in ("1", "true", "yes")


async def _in_store(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Find the instance and run ``fn(store, *args)`` in a worker thread (it does DB work)."""
    instances = request.app.state.instances
    name = request.path_params["instance"]

    def work() -> T:
        store = instances.lookup(name)
        if store is None:
            raise not_found()
        return fn(store, *args)

    return await run_in_threadpool(work)


def _same(store: Store) -> Store:
    return store


# -- login ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginRequest:
    name: str
    password: str
    identifier: str
    appsecret: str | None
    expdate: int
    # Seconds of disuse that end the token (0: none).
    idle: int = 0


async def _login_fields(request: Request) -> dict[str, Any]:
    """The login body as a dict: JSON object, form-urlencoded or multipart form."""
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        raise payload_too_large()
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    is_json = ctype == "application/json" or ctype.endswith("+json")
    if is_json or (not ctype and body.lstrip().startswith(b"{")):
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            raise bad_request("Malformed JSON") from None
        if not isinstance(data, dict):
            raise bad_request("Malformed JSON")
        return data
    if ctype == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:
            raise bad_request("Malformed form data") from None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise bad_request("Malformed form data") from None


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"Invalid value for field '{name}'", field=name)
    return value


def _required(fields: dict[str, Any], name: str) -> str:
    value = _text(fields, name)
    if value is None:
        raise bad_request(f"Missing field '{name}'", field=name)
    return value


def _expdate(value: Any, ttl: int) -> int:
    current = now()
    if value is None or value == "":
        return current + ttl
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None or number <= current or number > MAX_EXPDATE:
        raise bad_request("Invalid value for field 'expdate'", field="expdate")
    return number


def parse_login(fields: dict[str, Any], settings: Settings) -> LoginRequest:
    identifier = _required(fields, "identifier")
    if len(identifier) > MAX_IDENTIFIER or not IDENTIFIER.match(identifier):
        raise bad_request("Invalid value for field 'identifier'", field="identifier")
    expdate = _expdate(fields.get("expdate"), settings.login_token_ttl)
    if settings.login_token_max_seconds > 0:
        expdate = min(expdate, now() + settings.login_token_max_seconds)
    return LoginRequest(
        name=_required(fields, "name"),
        password=_required(fields, "password"),
        identifier=identifier,
        appsecret=_text(fields, "appsecret"),
        expdate=expdate,
        idle=max(0, settings.login_token_idle_seconds),
    )


def _application(conn: Connection, appsecret: str, p: Principal) -> int:
    """The active application whose secret hash matches; restricted ones need a grant."""
    row = conn.execute(
        select(applications.c.ID, applications.c.restricted).where(
            applications.c.secret == digest(appsecret).hex(), applications.c.activity == 0
        )
    ).first()
    if row is None:
        raise _invalid_credentials()
    if row.restricted and not (p.is_admin or row.ID in p.app_perms):
        raise _invalid_credentials()
    return int(row.ID)


def login(store: Store, req: LoginRequest, address: str = "") -> dict[str, Any]:
    # Password hashing is slow on purpose: check it outside the write transaction.
    principal = throttle.check_password(store, req.name, req.password, "login", address)
    if principal is None:
        raise _invalid_credentials()
    with store.read() as conn:
        app_id = _application(conn, req.appsecret, principal) if req.appsecret else None
    user_id = principal.user_id
    with store.write() as conn:
        # Serialises concurrent logins of one user on PostgreSQL (SQLite holds its write lock).
        conn.execute(select(users.c.ID).where(users.c.ID == user_id).with_for_update())
        same_app = (
            tokens.c.application.is_(None) if app_id is None else tokens.c.application == app_id
        )
        conn.execute(
            update(tokens)
            .where(
                tokens.c.user == user_id,
                tokens.c.kind == "login",
                tokens.c.hint == req.identifier,
                same_app,
                tokens.c.revoked.is_(None),
            )
            .values(revoked=now())
        )
        token, expdate = issue_token(
            conn,
            user_id,
            "login",
            None,
            application=app_id,
            hint=req.identifier,
            expdate=req.expdate,
        )
        if req.idle:
            conn.execute(
                update(tokens)
                .where(tokens.c.hash == digest(token))
                .values(idle=req.idle, lastused=now())
            )
    return {
        "user": user_id,
        "application": app_id,
        "token": token,
        "identifier": req.identifier,
        "expdate": expdate,
    }


@guarded
async def login_endpoint(request: Request) -> Response:
    if request.method != "POST":
        raise method_not_allowed(["POST"])
    store = await _in_store(request, _same)
    req = parse_login(await _login_fields(request), request.app.state.settings)
    address = request.client.host if request.client else ""
    data = await run_in_threadpool(login, store, req, address)
    return json_response(data, headers={"Cache-Control": "no-store"})


# -- user info and verification ---------------------------------------------------------


def user_info(p: Principal, conn: Connection, access: bool, settings: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "auth": {"user": p.user_id, "application": p.application_id, "lang": _lang(p.lang)},
        "user": p.user_id,
        "contact": p.contact,
        "name": p.name,
        "email": p.email,
    }
    if access:
        data["admin"] = p.is_admin
        data["nopublic"] = p.nopublic
        data["apionly"] = p.apionly
        data["groups"] = {str(gid): writable for gid, writable in sorted(p.groups.items())}
        data["permissions"] = dict(sorted(p.perms.items()))
    if settings:
        value = conn.execute(select(users.c.settings).where(users.c.ID == p.user_id)).scalar()
        data["settings"] = value if isinstance(value, dict) else {}
    return data


def _describe(
    store: Store, authorization: str | None, cookie: str | None, access: bool, settings: bool
) -> dict[str, Any]:
    with store.read() as conn:
        return user_info(authenticate(conn, authorization, cookie), conn, access, settings)


def _verify(store: Store, authorization: str | None, cookie: str | None) -> None:
    with store.read() as conn:
        authenticate(conn, authorization, cookie)


@guarded
async def root_endpoint(request: Request) -> Response:
    if request.method not in ROOT_METHODS:
        raise method_not_allowed(ROOT_METHODS)
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    if request.method == "HEAD":
        await _in_store(request, _verify, authorization, cookie)
        return Response(status_code=204)
    data = await _in_store(
        request,
        _describe,
        authorization,
        cookie,
        _flag(request, "access"),
        _flag(request, "settings"),
    )
    return json_response(data, headers={"Cache-Control": "no-store"})


# -- logout -----------------------------------------------------------------------------


def logout(store: Store, authorization: str | None, cookie: str | None = None) -> None:
    """End the caller's login or OAuth access token or, without an Authorization header,
    their cookie session. API keys are not sign-ins and are left alone (refused)."""
    if not authorization and cookie:
        with store.write() as conn:
            if not end_session_live(conn, cookie):
                raise AuthError(AuthFailure.BAD_SESSION)
        return
    secret = bearer_secret(authorization)
    if secret is None:
        raise AuthError(AuthFailure.BAD_BEARER if authorization else AuthFailure.MISSING)
    with store.write() as conn:
        principal = authenticate(conn, authorization, None)
        if principal.scheme == "apikey":
            raise bad_request(
                "An API key is not ended by logout; revoke it with 'officina apikey revoke'"
            )
        if not revoke_token(conn, secret):
            raise AuthError(AuthFailure.BAD_BEARER)


def end_session_live(conn: Connection, sid: str) -> bool:
    """End a session that still counts; False for an unknown, ended or expired one."""
    try:
        authenticate(conn, None, sid)
    except AuthError:
        return False
    return end_session(conn, sid)


@guarded
async def logout_endpoint(request: Request) -> Response:
    if request.method != "GET":
        raise method_not_allowed(["GET"])
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    await _in_store(request, logout, authorization, cookie)
    response = Response(status_code=204)
    if not authorization and cookie:
        response.delete_cookie(SESSION_COOKIE, path=f"/{request.path_params['instance']}/")
    return response


@guarded
async def openapi_endpoint(request: Request) -> Response:
    """The contract of this API; public, like the other faces' descriptions."""
    if request.app.state.instances.lookup(request.path_params["instance"]) is None:
        raise not_found()
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed(["GET", "HEAD"])
    return json_response(auth_openapi_document(request.path_params["instance"]))


def routes() -> list[Route]:
    """Each path answers with and without a trailing slash; nothing redirects."""
    base = "/{instance}/auth/v1"
    endpoints = (
        ("", root_endpoint),
        ("/login", login_endpoint),
        ("/logout", logout_endpoint),
        ("/openapi.json", openapi_endpoint),
    )
    out: list[Route] = []
    for path, endpoint in endpoints:
        out.append(Route(base + path, endpoint, methods=ALL_METHODS))
        out.append(Route(base + path + "/", endpoint, methods=ALL_METHODS))
    return out
