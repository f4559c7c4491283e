"""The projects face's error dialect: one JSON body shape for every failure.

``{"status", "code", "message", "errors": [{"field", "message"}]}`` — ``field`` is a JSON path
into the body (``locations[2].number``) or a parameter name (``ids[]``), so a client can show
the problem next to the input that caused it. The top-level ``message`` repeats the first
error as ``field: message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from officina.core.json_errors import dotted


class FlowError(Exception):
    """A failure answered with ``status``; every text in it is safe to show to the caller."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: Iterable[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "errors": [{"field": f, "message": m} for f, m in self.errors],
        }


def invalid(field: str, message: str) -> FlowError:
    """400 for one bad input value (body property, path or query parameter)."""
    return invalid_many([(field, message)])


def invalid_many(errors: list[tuple[str, str]], code: str = "validation_error") -> FlowError:
    field, message = errors[0]
    return FlowError(400, code, f"{field}: {message}" if field else message, errors)


def bad_request(message: str, field: str = "") -> FlowError:
    """400 for a malformed request as a whole (not JSON, bad flag, too many ids)."""
    return FlowError(
        400,
        "bad_request",
        f"{field}: {message}" if field else message,
        [(field, message)] if field else [],
    )


def invalid_search(field: str, message: str) -> FlowError:
    return invalid_many([(field, message)], code="invalid_search")


def not_found(what: str = "resource") -> FlowError:
    return FlowError(404, "not_found", f"{what} not found")


def conflict(code: str, message: str) -> FlowError:
    return FlowError(409, code, message)


def forbidden(message: str = "missing permission") -> FlowError:
    return FlowError(403, "forbidden", message)


def precondition_failed() -> FlowError:
    return FlowError(412, "precondition_failed", "the object was changed since it was read")


def payload_too_large(limit: int) -> FlowError:
    return FlowError(413, "payload_too_large", f"request body larger than {limit} bytes")


def json_path(loc: Iterable[Any]) -> str:
    """``("locations", 2, "number")`` → ``locations[2].number``."""
    return dotted(tuple(p if isinstance(p, int) else str(p) for p in loc))
