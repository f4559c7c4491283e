"""The projects face's declaration for the request pipeline: prefix, error dialect, routes."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from officina.core.auth import AuthFailure
from officina.core.face import Face, Kind, KindRule
from officina.flow.errors import FlowError, payload_too_large
from officina.flow.http import error_response
from officina.flow.routes import mount

_CODES = {
    400: ("bad_request", "bad request"),
    403: ("forbidden", "missing permission"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "method not allowed"),
    409: ("conflict", "the request conflicts with a concurrent change"),
    412: ("precondition_failed", "the object was changed since it was read"),
    429: ("too_many_requests", "too many requests"),
    500: ("internal_error", "internal error"),
}


class FlowDialect:
    """``{"status", "code", "message", "errors"}`` JSON bodies."""

    def error(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> Response:
        code, wording = _CODES.get(status, ("error", "error"))
        return error_response(
            FlowError(status, code, message or wording, headers=dict(headers or {}))
        )

    def unauthorized(self, instance: str, failure: AuthFailure, *, head: bool = False) -> Response:
        challenge = f'Basic realm="{instance}", Bearer realm="{instance}"'
        return error_response(
            FlowError(
                401,
                "unauthorized",
                "missing or invalid credentials",
                headers={"WWW-Authenticate": challenge},
            )
        )

    def too_large(self, limit: int, *, head: bool = False) -> Response:
        return error_response(payload_too_large(limit))


FACE = Face(
    "projects",
    "/flow/api/v1",
    FlowDialect(),
    mount,
    kinds=(KindRule("/openapi.json", Kind.PUBLIC),),
    description="/openapi.json",
)
