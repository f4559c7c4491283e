"""Error bodies of the jobs face: RFC 7807 problem details, shaped like ASP.NET's.

Goana is an ASP.NET service, so its clients already understand a validation problem whose
``errors`` map names each offending field by its path (``Parameters[2].Variant``). Every
failure of this face ends up as one of these bodies; nothing else reaches the client.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.responses import Response

PROBLEM = "application/problem+json"
TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
SECTIONS = {
    400: "15.5.1",
    401: "15.5.2",
    403: "15.5.4",
    404: "15.5.5",
    405: "15.5.6",
    409: "15.5.10",
    412: "15.5.13",
    413: "15.5.14",
    415: "15.5.16",
    429: "6585#section-4",
    500: "15.6.1",
    503: "15.6.4",
}


class Problem(Exception):
    """A failure answered with ``status``; ``errors`` maps field paths to messages."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or TITLES.get(status, "Error"))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        # Shown to the caller and written to the log, so a report can be matched to its cause.
        self.trace_id = uuid.uuid4().hex

    def body(self) -> dict[str, Any]:
        section = SECTIONS.get(self.status, "15")
        kind = (
            f"https://tools.ietf.org/html/rfc{section}"
            if "#" in section
            else f"https://tools.ietf.org/html/rfc9110#section-{section}"
        )
        out: dict[str, Any] = {
            "type": kind,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.errors:
            out["errors"] = self.errors
        out["traceId"] = self.trace_id
        return out

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()),
            status_code=self.status,
            headers=self.headers or None,
            media_type=PROBLEM,
        )


def invalid(field: str, message: str) -> Problem:
    return Problem(400, errors={field: [message]})


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} does not exist")


def forbidden(detail: str) -> Problem:
    return Problem(403, detail)


def conflict(field: str | None, message: str) -> Problem:
    return Problem(409, message, {field: [message]} if field else None)


class Errors:
    """Collects every validation error of one request before answering, as ASP.NET does."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.found.setdefault(field or "body", []).append(message)

    def __bool__(self) -> bool:
        return bool(self.found)

    def check(self) -> None:
        if self.found:
            raise Problem(400, errors=self.found)
