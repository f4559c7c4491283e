"""The records face's declarations for the request pipeline: the Standard REST API, the auth
API and the OAuth 2.0 API, each with its prefix, its error dialect and its route kinds."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from officina.core.auth import AuthError, AuthFailure
from officina.core.face import Face, Kind, KindRule
from officina.zeyos import auth_routes, http, oauth_routes
from officina.zeyos.responses import auth_error_response, error_response, json_response

# The face's own wording where the pipeline refuses without a message of its own.
_TEXTS = {
    400: "Bad Request",
    403: "Forbidden: Lacking access permission",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed: Non-matching ETag",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Runtime Error",
}


class TextDialect:
    """One-line ``text/plain`` errors and ZeyOS's 401 challenges."""

    def error(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> Response:
        text = message or _TEXTS.get(status, "Error")
        if status == 403 and message and not message.startswith("Forbidden"):
            text = f"Forbidden: {message}"
        return error_response(status, text, dict(headers) if headers else None, head=head)

    def unauthorized(self, instance: str, failure: AuthFailure, *, head: bool = False) -> Response:
        return auth_error_response(instance, AuthError(failure), head=head)

    def too_large(self, limit: int, *, head: bool = False) -> Response:
        return self.error(413, None, None, head=head)


class OAuthDialect(TextDialect):
    """RFC 6749 JSON errors, except the plain 404 and 405 of paths and methods."""

    def error(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        head: bool = False,
    ) -> Response:
        if status in (404, 405):
            return super().error(status, message, headers, head=head)
        body = {"error": "invalid_request", "error_description": message or _TEXTS.get(status)}
        no_store = {"Cache-Control": "no-store", **oauth_routes.NO_STORE}
        return json_response(body, status, {**(headers or {}), **no_store})


RECORDS = Face(
    "records",
    "/api/v1",
    TextDialect(),
    http.routes,
    kinds=(KindRule("/openapi.json", Kind.PUBLIC),),
    description="/openapi.json",
)
AUTH = Face(
    "auth",
    "/auth/v1",
    TextDialect(),
    auth_routes.routes,
    default_kind=Kind.PUBLIC,
    kinds=(KindRule("/logout", Kind.USER),),
)
OAUTH = Face(
    "oauth2",
    "/oauth2/v1",
    OAuthDialect(),
    oauth_routes.routes,
    default_kind=Kind.PUBLIC,
    kinds=(
        KindRule("/token", Kind.OAUTH_CLIENT),
        KindRule("/revoke", Kind.OAUTH_CLIENT),
        KindRule("/introspect", Kind.OAUTH_CLIENT),
        KindRule("/userinfo", Kind.USER),
    ),
)
FACES = (RECORDS, AUTH, OAUTH)
