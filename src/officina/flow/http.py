"""HTTP plumbing of the projects face: error rendering, request helpers, the ASGI mount.

The face is a FastAPI application mounted below ``/{instance}/flow/api/v1``. Every route uses
:class:`FlowRoute`, which turns any failure — validation, auth, a rule, or a bug — into the
face's JSON error body; nothing escapes as a stack trace or as FastAPI's default 422.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from officina.core import etags, json_errors
from officina.core.errors import HttpError
from officina.flow.errors import (
    FlowError,
    bad_request,
    invalid_many,
    json_path,
    precondition_failed,
)
from officina.flow.values import UUID_MESSAGE, dedupe, is_uuid

log = logging.getLogger("officina.flow")

MAX_IDS = 1000
JSON = "application/json"


# -- responses ---------------------------------------------------------------------------------


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, headers=headers, media_type=JSON)


def created(new_id: str, location: str) -> Response:
    return ok({"id": new_id}, 201, {"Location": location})


def no_content() -> Response:
    return Response(status_code=204)


def error_response(err: FlowError) -> Response:
    return ok(err.body(), err.status, err.headers or None)


def etag_of(data: Any) -> str:
    """Tag of one object's JSON (the object has no row version of its own): the exact
    bytes of the representation, so a strong tag."""
    return etags.content_tag(orjson.dumps(data))


def lock_row(conn: Connection, column: Any, value: Any) -> None:
    """Hold the row until the transaction ends, so a concurrent writer waits for us.

    Without it, two writers holding the same ``If-Match`` could both read the old version
    and both succeed; with it, the second reads the first one's result and gets 412.
    """
    conn.execute(select(column).where(column == value).with_for_update())


def check_if_match(request: Request, current: Any) -> None:
    """412 when the client's ``If-Match`` names another version of the object."""
    tags = etags.parse(request.headers.get("if-match"))
    if tags is not None and not tags.weak_match(etag_of(current)):
        raise precondition_failed()


# -- request helpers ---------------------------------------------------------------------------


def ids_param(request: Request, required: bool) -> list[str] | None:
    """``ids[]=A&ids[]=B`` (also bare ``ids``): validated, duplicates removed, order kept."""
    q = request.query_params
    raw = q.getlist("ids[]") + q.getlist("ids")
    if not raw:
        if required:
            raise FlowError(400, "bad_request", "ids[]: is required", [("ids[]", "is required")])
        return None
    for i, value in enumerate(raw):
        if not is_uuid(value):
            raise bad_request(f"item {i} {UUID_MESSAGE}", "ids[]")
    ids = dedupe(raw)
    if len(ids) > MAX_IDS:
        raise bad_request(f"at most {MAX_IDS} ids", "ids[]")
    return ids


def flag(request: Request, name: str) -> bool:
    """A query flag: ``1`` on, absent or ``0`` off, anything else a 400."""
    value = request.query_params.get(name)
    if value is None or value == "0":
        return False
    if value == "1":
        return True
    raise bad_request("must be 1 or 0", name)


def check_path_id(value: str, name: str) -> str:
    if not is_uuid(value):
        raise invalid_many([(name, UUID_MESSAGE)])
    return value


# -- validation errors -------------------------------------------------------------------------


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "flow":
        return str(err.get("msg", ""))
    simple = {
        "missing": "is required",
        "string_type": "must be a string",
        "bool_type": "must be a boolean",
        "int_type": "must be an integer",
        "int_from_float": "must be an integer",
        "int_parsing": "must be an integer",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "list_type": "must be an array",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return UUID_MESSAGE if ctx.get("pattern") == "^[0-9A-F]{32}$" else "has a wrong format"
    return str(err.get("msg", "is invalid"))


def from_validation(exc: RequestValidationError) -> FlowError:
    errors: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        rest = loc[1:]
        if err.get("type") == "json_invalid":
            at = rest[0] if rest and isinstance(rest[0], int) else None
            return bad_request(json_errors.located("the body is not valid JSON", exc.body, at))
        if where == "body" and not rest:
            return bad_request("the body must be a JSON object")
        errors.append((json_path(rest), _message(err)))
    return invalid_many(errors or [("", "invalid request")])


# -- routes ------------------------------------------------------------------------------------


async def _nonstandard_body(request: Request) -> FlowError | None:
    """What the standard library's decoder (which FastAPI uses) accepts and JSON does not:
    ``NaN`` and ``Infinity`` as numbers. Refused as bad JSON, like the other faces do, and so
    is a NUL character in any string, which no store keeps alike."""
    if request.method in ("GET", "HEAD"):
        return None
    declared = request.headers.get("content-type", "")
    if declared and "json" not in declared.lower():
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        return bad_request(json_errors.from_decode_error("the body is not valid JSON", err))
    nul = json_errors.nul_at(doc)
    if nul is not None:
        return invalid_many([(json_path(nul), "must not contain NUL characters")])
    return None


class FlowRoute(APIRoute):
    """Every failure inside a route becomes the face's JSON error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                refused = await _nonstandard_body(request)
                if refused is not None:
                    return error_response(refused)
                return await original(request)
            except FlowError as err:
                return error_response(err)
            except RequestValidationError as err:
                return error_response(from_validation(err))
            except HttpError as err:
                return error_response(FlowError(err.status, "error", err.message))
            except StarletteHTTPException as err:
                return error_response(FlowError(err.status_code, "error", str(err.detail)))
            except (DataError, OverflowError):
                # A value the store cannot hold (a NUL character, a number out of range).
                return error_response(
                    bad_request("a value cannot be stored (invalid character or range)")
                )
            except IntegrityError:
                # Two writers raced for the same id or reference; the loser changed nothing.
                return error_response(
                    FlowError(409, "conflict", "the request conflicts with a concurrent change")
                )
            except Exception:
                request_id = uuid.uuid4().hex
                log.exception("unhandled error, request id %s", request_id)
                return error_response(
                    FlowError(
                        500,
                        "internal_error",
                        "internal error",
                        headers={"X-Request-Id": request_id},
                    )
                )

        return handler


def signed(
    fn: Callable[..., Response], name: str, params: list[tuple[str, Any, Any]]
) -> Callable[..., Response]:
    """``fn`` with an explicit signature, so FastAPI sees per-route parameter names/models.

    ``params`` holds ``(name, annotation, default)``; ``inspect.Parameter.empty`` = required.
    """

    def endpoint(**kwargs: Any) -> Response:
        return fn(**kwargs)

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d)
            for n, a, d in params
        ],
        return_annotation=Response,
    )
    endpoint.__name__ = name
    endpoint.__qualname__ = name
    return endpoint


# -- ASGI wrappers -----------------------------------------------------------------------------


class JsonByDefault:
    """A body sent without a ``Content-Type`` is read as JSON (the only body format of the
    dialect), so ``curl --data-binary`` and similar minimal clients work. The request
    pipeline has already refused bodies over the server's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = list(scope.get("headers") or [])
        if body and not any(k == b"content-type" for k, _ in headers):
            scope = {**scope, "headers": [*headers, (b"content-type", JSON.encode())]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def outer_app_keeper(inner: ASGIApp, key: str) -> ASGIApp:
    """Remember the enclosing application in the scope before the face replaces it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if key not in scope:
            scope[key] = scope.get("app")
        await inner(scope, receive, send)

    return app


def not_found_handlers(app: FastAPI) -> None:
    """Unknown paths and methods inside the face answer in the face's error dialect."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "error")
        headers = getattr(exc, "headers", None)
        return error_response(
            FlowError(status, code, str(getattr(exc, "detail", "error")), headers=headers)
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
