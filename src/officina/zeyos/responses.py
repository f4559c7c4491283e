"""How the records face answers: JSON bodies, text/plain errors, ZeyOS 401 challenges."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy.exc import DataError
from starlette.requests import Request
from starlette.responses import Response

from officina.core.auth import AuthError, AuthFailure
from officina.core.errors import HttpError

log = logging.getLogger("officina.zeyos")

TEXT = "text/plain; charset=utf-8"

_AUTH_TEXT = {
    AuthFailure.MISSING: "Unauthorized: Missing credentials",
    AuthFailure.BAD_BEARER: "Unauthorized: Invalid bearer token",
    AuthFailure.BAD_BASIC: "Unauthorized: Invalid credentials",
    AuthFailure.BAD_SESSION: "Unauthorized: Invalid session",
}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, head: bool = False
) -> Response:
    """A one-line text/plain error; HEAD answers carry the status and headers only."""
    body = b"" if head else message.encode("utf-8")
    response = Response(body, status_code=status, headers=headers, media_type=TEXT)
    if head:
        response.headers["content-length"] = "0"
    return response


def challenge(instance: str, failure: AuthFailure) -> str:
    if failure == AuthFailure.MISSING:
        return f'Bearer realm="{instance}"'
    if failure == AuthFailure.BAD_BASIC:
        return f'Basic realm="{instance}"'
    return f'Bearer realm="{instance}", error="invalid_token"'


def auth_error_response(instance: str, err: AuthError, head: bool = False) -> Response:
    return error_response(
        401,
        _AUTH_TEXT[err.failure],
        {"WWW-Authenticate": challenge(instance, err.failure)},
        head=head,
    )


Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Turn raised errors into this face's text answers; never leak a stack trace."""

    async def wrapper(request: Request) -> Response:
        head = request.method == "HEAD"
        try:
            return await handler(request)
        except HttpError as err:
            return error_response(err.status, err.message, err.headers or None, head=head)
        except AuthError as err:
            return auth_error_response(request.path_params.get("instance", ""), err, head=head)
        except (DataError, OverflowError):
            # A value the store cannot hold (a NUL character, a number out of range).
            return error_response(400, "Bad Request: Invalid value", head=head)
        except Exception:
            request_id = uuid.uuid4().hex
            log.exception("unhandled error, request id %s", request_id)
            return error_response(500, "Runtime Error", {"X-Request-Id": request_id}, head=head)

    return wrapper
