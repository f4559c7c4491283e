"""Request handling of the jobs face: routing, bodies, auth, ETags, and error rendering.

A small router rather than a framework's: the dialect wants things frameworks make awkward
(case-insensitive fixed path segments, identities that contain ``/``, problem bodies for
every failure including unknown paths and methods, ``HEAD`` wherever ``GET`` is), and each
handler is a plain function of a :class:`Call` that runs in a worker thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Column, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from officina.core import etags, json_errors
from officina.core.errors import HttpError
from officina.core.store import Instances, Store
from officina.goana.context import Ctx, authenticated
from officina.goana.problems import Problem
from officina.goana.wire import Reader, Shape, parse_datetime

log = logging.getLogger("officina.goana")

BASE = "/{instance}/goana/api/v1"
MARKER = "/goana/api/v1"
JSON_TYPE = "application/json; charset=utf-8"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class Call:
    """One request as a handler sees it: who, what, and with which input."""

    request: Request
    ctx: Ctx
    params: dict[str, str]
    body: Any = None
    base: str = ""

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    def arg(self, name: str) -> str | None:
        """A query parameter, its name matched case-insensitively."""
        values = self.args(name)
        return values[0] if values else None

    def when(self, name: str) -> int | None:
        """A date or date-and-time query parameter as seconds in the instance's time zone;
        400 naming the parameter when it is neither."""
        raw = self.arg(name)
        if raw is None:
            return None
        seconds = parse_datetime(raw, self.ctx.tz)
        if seconds is None:
            raise Problem(400, errors={name: ["must be a date or a date and time"]})
        return seconds

    def args(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.query.multi_items() if k.lower() == low]

    def has_arg(self, name: str) -> bool:
        low = name.lower()
        return any(k.lower() == low for k in self.query)

    def reader(self) -> Reader:
        return Reader(self.ctx.tz)

    def if_match(self) -> etags.Tags | None:
        return etags.parse(self.request.headers.get("if-match"))

    def tag(self, rev: int) -> str:
        """The ETag of version ``rev`` of the object this request is about: its collection
        (the first path segment, in any case) and its version."""
        rest = self.request.url.path[len(self.base) :]
        return etags.version_tag(rest.strip("/").split("/", 1)[0].lower(), rev)


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Param:
    """A query parameter, as the OpenAPI document describes it."""

    name: str
    doc: str
    kind: str = "string"
    repeat: bool = False


@dataclass
class Route:
    method: str
    path: str
    handler: Handler
    summary: str = ""
    # What the OpenAPI document says about it: body and result shapes, codes, parameters.
    body: Shape | None = None
    returns: Shape | None = None
    many: bool = False
    codes: tuple[int, ...] = (200,)
    query: tuple[Param, ...] = ()
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = ""
        for segment in self.path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith(":path}"):
                regex += f"/(?P<{segment[1:-6]}>.+)"
            elif segment.startswith("{"):
                regex += f"/(?P<{segment[1:-1]}>[^/]+)"
            else:
                regex += "/(?i:" + re.escape(segment) + ")"
        self.pattern = re.compile(f"^{regex}$")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, headers=headers, media_type=JSON_TYPE)


def tagged(data: Any, rev: int, call: Call, status: int = 200, **headers: str) -> Response:
    """An object with its strong ETag; ``If-None-Match`` on a read answers 304."""
    etag = call.tag(rev)
    if call.request.method in ("GET", "HEAD"):
        wanted = etags.parse(call.request.headers.get("if-none-match"))
        if wanted is not None and wanted.weak_match(etag):
            return Response(status_code=304, headers={"ETag": etag})
    return json_response(data, status, {"ETag": etag, **headers})


def check_if_match(call: Call, rev: int) -> None:
    tags = call.if_match()
    if tags is None or tags.weak_match(call.tag(rev)):
        return
    raise Problem(412, "the object was changed since you read it (If-Match)")


def claim_version(call: Call, conn: Connection, version: Column[Any], key: Any, rev: int) -> None:
    """``check_if_match`` made safe against racing writers that read the same version.

    After the header is checked against the version read, an UPDATE whose condition names
    that version claims the row: it matches only if nobody changed the row since, and holds
    the row until the transaction ends, so of writers sending one ETag exactly one goes on.
    ``key`` is the condition that selects the row (``table.c.ID == id``).
    """
    check_if_match(call, rev)
    if call.if_match() is None:
        return
    claimed = conn.execute(
        update(version.table).where(key, version == rev).values({version.name: version})
    )
    if claimed.rowcount != 1:
        raise Problem(412, "the object was changed since you read it (If-Match)")


def check_transport(request: Request, settings: dict[str, Any]) -> None:
    """Basic credentials must not cross a network in clear text (a setting allows it)."""
    if request.url.scheme == "https" or settings.get("goana.allow_plain_http") is True:
        return
    peer = request.client.host if request.client else ""
    if peer not in LOOPBACK:
        raise Problem(403, "HTTPS required")


class Face:
    """The ASGI application of the face, mounted at ``/{instance}/goana/api/v1``."""

    def __init__(self, routes: list[Route], public: dict[str, Handler]) -> None:
        self.routes = routes
        # Paths served without credentials (the OpenAPI document).
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.handle(request)
        except Problem as problem:
            response = problem.response()
        response.headers.setdefault("Cache-Control", "no-store")
        await response(scope, receive, send)

    def instances(self, request: Request) -> Instances:
        app = request.scope.get("officina.app") or request.app
        instances: Instances = app.state.instances
        return instances

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        rest = path.split(MARKER, 1)[1] if MARKER in path else path
        rest = rest or "/"
        instance = request.path_params.get("instance", "")
        store = self.instances(request).lookup(instance)
        if store is None:
            raise Problem(404, f"no instance {instance[:64]!r}")
        if rest.lower() in self.public:
            return await run_in_threadpool(self.public[rest.lower()], Call(request, None, {}))  # type: ignore[arg-type]
        method = "GET" if request.method == "HEAD" else request.method
        allowed: list[str] = []
        for route in self.routes:
            match = route.pattern.match(rest)
            if match is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            return await self.dispatch(request, store, route, match.groupdict(), path, rest)
        if allowed:
            allow = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))
            raise Problem(
                405,
                f"{request.method} is not offered here",
                headers={"Allow": ", ".join(allow)},
            )
        raise Problem(404, "no such resource")

    async def dispatch(
        self,
        request: Request,
        store: Store,
        route: Route,
        params: dict[str, str],
        path: str,
        rest: str,
    ) -> Response:
        write = route.method != "GET"
        body = await self.read_body(request) if route.method in ("POST", "PUT") else None
        base = path[: len(path) - len(rest)] if rest != "/" else path.rstrip("/")

        def run() -> Response:
            ctx = authenticated(request, store, write)
            check_transport(request, ctx.settings)
            call = Call(request, ctx, params, body, base)
            response = route.handler(call)
            response.headers.setdefault("Content-Language", ctx.lang)
            return response

        try:
            return await run_in_threadpool(run)
        except Problem:
            raise
        except HttpError as err:
            raise Problem(err.status, err.message, headers=err.headers) from err
        except (DataError, OverflowError) as err:
            raise Problem(
                400, "a value cannot be stored (invalid character or out of range)"
            ) from err
        except IntegrityError as err:
            raise Problem(409, "the request conflicts with a concurrent change") from err
        except Exception as err:
            problem = Problem(500, None)
            log.exception("unhandled error in the jobs face, trace %s", problem.trace_id)
            raise problem from err

    async def read_body(self, request: Request) -> Any:
        declared = request.headers.get("content-type")
        if declared:
            media = declared.split(";")[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise Problem(415, "the body must be JSON (application/json)")
        # The request pipeline has already refused a body over the server's limit.
        raw = await request.body()
        if not raw.strip():
            raise Problem(400, errors={"body": ["a JSON body is required"]})
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            message = json_errors.from_decode_error("the body is not valid JSON", err)
            raise Problem(400, errors={"body": [message]}) from err
        if not isinstance(body, dict):
            raise Problem(400, errors={"body": ["the body must be a JSON object"]})
        nul = json_errors.nul_at(body)
        if nul is not None:
            field = json_errors.dotted(nul) or "body"
            raise Problem(400, errors={field: ["must not contain NUL characters"]})
        return body
