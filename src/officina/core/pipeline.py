"""The one request pipeline every face of every instance goes through.

::

    request ─► observe (request id, timing)
            ─► locate: instance + face by declared prefix + route kind  (core.face)
            ─► throttle Basic sign-ins unless the route is client-authenticated
            ─► body announced?  Content-Length over the limit ─► 413
                                USER route: authenticate now, before one byte is read
            ─► Origin check for cookie-authenticated changes on USER routes ─► 403
            ─► read the body, streamed, stopping at the chunk that passes the limit ─► 413
            ─► If-None-Match on a read: a 200 whose ETag matches becomes a 304
            ─► the face's route (its own choice of event loop or thread, conditional
               requests through core.etags, rendering in its dialect)
            ─► a 401 answer counts as a failed sign-in; access line and metrics

Every refusal of the pipeline is rendered by the located face's :class:`Dialect`. A request
outside every face (``/``, ``/healthz``...) only gets the observation.

The caller resolved before a body was read is left in the scope under :data:`PRINCIPAL`, so a
face need not resolve it again; bodiless requests are authenticated by the face itself,
which lets the records face check credentials on the same connection as its read.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Protocol

from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from officina.core import etags, throttle
from officina.core.auth import (
    SESSION_COOKIE,
    AuthError,
    Principal,
    authenticate,
    scope_password_login,
)
from officina.core.basic_throttle import blocked_for, count_failure
from officina.core.face import LOCATED, Faces, Kind, Located
from officina.core.store import Instances, Store, run_store_work, valid_instance_name

log = logging.getLogger("officina.pipeline")

# Scope key of the caller the pipeline resolved before reading the body.
PRINCIPAL = "officina.principal"
# Scope key of the request's headers as one mapping, made once for every step.
_HEADERS = "officina.headers"
# Methods that never change anything (a cookie session may use them from any page).
SAFE = frozenset({"GET", "HEAD"})


class Observer(Protocol):
    """Request ids, the access line and metrics (``ops.requests``)."""

    def begin(self, given_id: bytes) -> tuple[bytes, Any]:
        """The request id to answer with (``given_id``: the client's ``X-Request-ID``)."""
        ...

    def end(self, token: Any, scope: Scope, status: int, seconds: float) -> None: ...


class _Head:
    """The few request headers the pipeline looks at, from one mapping of them all."""

    __slots__ = ("headers",)

    def __init__(self, headers: dict[bytes, bytes]) -> None:
        self.headers = headers

    @property
    def length(self) -> int | None:
        value = self.headers.get(b"content-length")
        if value is None:
            return None
        return int(value) if value.isdigit() else -1

    @property
    def body_announced(self) -> bool:
        get = self.headers.get
        return get(b"transfer-encoding") is not None or get(b"content-length", b"0") != b"0"

    @property
    def authorization(self) -> str | None:
        value = self.headers.get(b"authorization")
        return value.decode("latin-1") if value is not None and value.strip() else None

    def cookie(self) -> str | None:
        value = self.headers.get(b"cookie")
        if value is None:
            return None
        return cookie_parser(value.decode("latin-1")).get(SESSION_COOKIE) or None

    def plain(self, method: str, kind: Kind) -> bool:
        """Whether no step but the observation applies: no body, no conditional read, and
        no change a cookie session could make (the common read)."""
        get = self.headers.get
        if get(b"transfer-encoding") is not None or get(b"content-length", b"0") != b"0":
            return False
        if method in SAFE:
            return get(b"if-none-match") is None
        return kind is not Kind.USER or get(b"cookie") is None

    def session(self) -> str | None:
        """The session cookie when it is the request's only credential."""
        return None if self.authorization else self.cookie()


class Pipeline:
    """The outermost ASGI layer: every step of the module docstring but the face's own."""

    def __init__(
        self,
        app: ASGIApp,
        faces: Faces,
        instances: Instances,
        max_body_bytes: int,
        observer: Observer | None = None,
    ) -> None:
        self.app = app
        self.faces = faces
        self.instances = instances
        self.limit = max_body_bytes
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.observer is None:
            await self.serve(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        scope[_HEADERS] = headers
        request_id, token = self.observer.begin(headers.get(b"x-request-id", b""))
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", request_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.serve(scope, receive, sending)
        finally:
            self.observer.end(token, scope, status, time.perf_counter() - started)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        located = self.faces.locate(scope.get("path", ""))
        if located is None or not valid_instance_name(located.instance):
            await self.app(scope, receive, send)
            return
        scope[LOCATED] = located
        login = None if located.kind is Kind.OAUTH_CLIENT else scope_password_login(scope)
        head = _Head(scope.get(_HEADERS) or dict(scope.get("headers") or ()))
        if login is None:
            if head.plain(scope["method"], located.kind):
                await self.app(scope, receive, send)  # nothing for the pipeline to judge
            else:
                await self.gate(located, head, None, None, scope, receive, send)
            return
        store = await self._store(located.instance)
        if store is None:
            await self.gate(located, head, store, login, scope, receive, send)
            return
        address = (scope.get("client") or ("", 0))[0] or ""
        wait = await blocked_for(store, login, address)
        if wait is not None:
            refused = throttle.too_many(wait)
            answer = located.face.dialect.error(
                429, refused.message, refused.headers, head=scope["method"] == "HEAD"
            )
            await answer(scope, receive, send)
            return
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.gate(located, head, store, login, scope, receive, sending)
        if status == 401:
            await count_failure(store, login, address)

    async def gate(
        self,
        located: Located,
        head: _Head,
        store: Store | None,
        login: str | None,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """Credentials, Origin and body, in that order; then the face."""
        dialect = located.face.dialect
        method = scope["method"]
        is_head = method == "HEAD"
        announced = head.body_announced
        if announced and head.length is not None and head.length > self.limit:
            await dialect.too_large(self.limit, head=is_head)(scope, receive, send)
            return
        user = located.kind is Kind.USER
        session = head.session() if user and method not in SAFE else None
        foreign = session is not None and not _same_origin(scope, head)
        if user and (announced or foreign):
            store = store or await self._store(located.instance)
            if store is None:
                await dialect.error(404, None, None, head=is_head)(scope, receive, send)
                return
            try:
                scope[PRINCIPAL] = await _authenticate(store, scope, login, head)
            except AuthError as err:
                answer = dialect.unauthorized(located.instance, err.failure, head=is_head)
                await answer(scope, receive, send)
                return
            except Exception:
                request_id = uuid.uuid4().hex
                log.exception("unhandled error, request id %s", request_id)
                failed = dialect.error(500, None, {"X-Request-Id": request_id}, head=is_head)
                await failed(scope, receive, send)
                return
            if foreign:
                message = "Cross-origin request with a session cookie"
                await dialect.error(403, message, None, head=is_head)(scope, receive, send)
                return
        if announced:
            body = await _read_limited(receive, self.limit)
            if body is None:
                await dialect.too_large(self.limit, head=is_head)(scope, receive, send)
                return
            receive = _replay(body, receive)
        if_none_match = head.headers.get(b"if-none-match")
        if if_none_match is not None and method in SAFE:
            send = _not_modified(if_none_match.decode("latin-1"), send)
        await self.app(scope, receive, send)

    async def _store(self, instance: str) -> Store | None:
        """The instance's store, looked up right here as the faces do: the index answers
        from memory while its entry is fresh."""
        return self.instances.lookup(instance)


async def _authenticate(store: Store, scope: Scope, login: str | None, head: _Head) -> Principal:
    """The caller, resolved where the records face would resolve it: on SQLite through the
    event loop's lookup connection (callers it knows cost no statement), a password's slow
    hash on a worker thread, PostgreSQL through its asynchronous driver."""
    authorization = head.authorization
    cookie = None if authorization else head.cookie()

    def work(on_loop: bool = False) -> Principal:
        with store.loop_lookups() if on_loop else store.read(lookups=True) as conn:
            return authenticate(conn, authorization, cookie)

    if store.dialect == "sqlite" and login is None:
        return work(on_loop=True)
    result: Principal = await run_store_work(store, work, may_stall=login is not None)
    return result


def _same_origin(scope: Scope, head: _Head) -> bool:
    """A browser sends ``Origin`` with every cross-site change; a request without one comes
    from a program, not from another site's page, and is let through."""
    origin = head.headers.get(b"origin")
    if origin is None:
        return True
    host = head.headers.get(b"host", b"").decode("latin-1")
    own = f"{scope.get('scheme', 'http')}://{host}"
    return origin.decode("latin-1").rstrip("/").lower() == own.lower()


async def _read_limited(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes (nothing more is read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _not_modified(if_none_match: str, send: Send) -> Send:
    """``If-None-Match`` for every face: a 200 whose ``ETag`` the client already holds
    becomes a bodiless 304 (a face may answer 304 itself, sparing the body's rendering)."""
    wanted = etags.parse(if_none_match)
    dropping = False

    async def sending(message: Message) -> None:
        nonlocal dropping
        if message["type"] == "http.response.start" and message["status"] == 200:
            tag = next((v for k, v in message.get("headers") or () if k == b"etag"), None)
            if wanted is not None and tag is not None and wanted.weak_match(tag.decode("latin-1")):
                dropping = True
                kept = [(b"etag", tag)]
                kept += [(k, v) for k, v in message["headers"] if k in _KEPT_ON_304]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
        if dropping:
            return
        await send(message)

    return sending


# Headers a 304 repeats from the 200 it stands for (RFC 9110, 15.4.5).
_KEPT_ON_304 = frozenset({b"cache-control", b"content-location", b"date", b"expires", b"vary"})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def not_found(faces: Faces) -> ASGIApp:
    """The answer to a path no route takes, in the dialect of the face its prefix names."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        located = faces.locate(scope.get("path", ""))
        response: Response
        if located is None:
            response = PlainTextResponse("Not Found", status_code=404)
        else:
            response = located.face.dialect.error(404, None, None, head=scope["method"] == "HEAD")
        await response(scope, receive, send)

    return app
