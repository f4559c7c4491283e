"""Errors that carry an HTTP status, shared by every face.

Faces raise these and render them in their own dialect (ZeyOS text/plain, Flow JSON, Goana
JSON); core code raises them without knowing which face will answer.
"""

from __future__ import annotations


class HttpError(Exception):
    """An error answered with ``status``; ``message`` is safe to show to the caller."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.field = field


def short(name: object, limit: int = 100) -> str:
    """Echo a caller-supplied name back safely: stringified and cut to ``limit`` characters."""
    text = str(name)
    return text if len(text) <= limit else text[:limit]


def bad_request(detail: str, field: str | None = None) -> HttpError:
    return HttpError(400, f"Bad Request: {detail}", field=field)


def not_found() -> HttpError:
    return HttpError(404, "Not Found")


def forbidden(detail: str = "Lacking access permission") -> HttpError:
    return HttpError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> HttpError:
    return HttpError(409, f"Conflict: {detail}")


def gone(field: str) -> HttpError:
    return HttpError(410, f"Gone: Invalid reference '{short(field)}'", field=field)


def precondition_failed() -> HttpError:
    return HttpError(412, "Precondition Failed: Non-matching ETag")


def payload_too_large() -> HttpError:
    return HttpError(413, "Payload Too Large")


def method_not_allowed(allow: list[str]) -> HttpError:
    return HttpError(405, "Method Not Allowed", headers={"Allow": ", ".join(allow)})
