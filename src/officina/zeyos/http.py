"""Routes of the Standard REST API under ``/{instance}/api/v1``.

The routes are generic: the entity name in the path is looked up in the registry, which
decides the operations offered (others get 405 with ``Allow``), the columns, and the rules.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from officina import __version__
from officina.core import etags
from officina.core.auth import (
    SESSION_COOKIE,
    AuthError,
    AuthFailure,
    Principal,
    authenticate,
    scope_password_login,
)
from officina.core.errors import HttpError, bad_request, forbidden, method_not_allowed, not_found
from officina.core.etags import version_tag
from officina.core.loop_conns import WriteLockTaken
from officina.core.people import MODULES, read_settings
from officina.core.pipeline import PRINCIPAL
from officina.core.schema import applications
from officina.core.store import Store, run_store_work
from officina.zeyos import records
from officina.zeyos.body import merge_query_params, parse_body
from officina.zeyos.openapi import openapi_document
from officina.zeyos.registry import ENTITIES, VENDOR_ENTITIES
from officina.zeyos.registry.model import Entity, Kind, Op
from officina.zeyos.responses import guarded, json_response

# Every entity of the vendor contract is served; seed-only modules where an instance enables
# them (instance setting named after the module, e.g. "carat": true).
SERVED = VENDOR_ENTITIES
SEED_MODULES = {name: name.split("_", 1)[0] for name in set(ENTITIES) - VENDOR_ENTITIES}


def _module_enabled(store: Store, module: str) -> bool:
    with store.read() as conn:
        return bool(read_settings(conn).get(module))


def _served(store: Store) -> frozenset[str]:
    modules = {m for m in set(SEED_MODULES.values()) if _module_enabled(store, m)}
    return SERVED | {n for n, m in SEED_MODULES.items() if m in modules}


_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_METHOD_OPS = {
    "collection": {"POST": Op.LIST, "PUT": Op.CREATE},
    "item": {"GET": Op.GET, "HEAD": Op.HEAD, "PATCH": Op.UPDATE, "DELETE": Op.DELETE},
}
_TRUE = {"1", "true", "yes", "on"}


def _store(request: Request) -> Store:
    store = request.app.state.instances.lookup(request.path_params["instance"])
    if store is None:
        raise not_found()
    return store


def _entity(request: Request, store: Store) -> Entity:
    entity = ENTITIES.get(request.path_params["entity"])
    if entity is None:
        raise not_found()
    module = SEED_MODULES.get(entity.name)
    if module is not None and not _module_enabled(store, module):
        raise not_found()
    return entity


def _operation(entity: Entity, kind: str, method: str) -> Op:
    ops = _METHOD_OPS[kind]
    op = ops.get(method)
    if op is None or op not in entity.ops:
        allowed = [m for m, o in ops.items() if o in entity.ops]
        if kind == "item" and "GET" in allowed and "HEAD" not in allowed:
            allowed.append("HEAD")
        if not allowed:
            raise not_found()
        raise method_not_allowed(allowed)
    return op


def _flag(value: Any) -> bool:
    if value in (None, "", 0, False):
        return False
    if value in (1, True) or str(value).strip().lower() in ("1", "true"):
        return True
    if str(value).strip().lower() in ("0", "false"):
        return False
    raise bad_request("Invalid export")


def _principal(conn: Connection, request: Request) -> Principal:
    """The caller: the one the request pipeline resolved before reading a body, otherwise
    resolved here, on the connection of the request's own work (the pipeline has already
    refused cookie-authenticated changes from another site's page)."""
    given = request.scope.get(PRINCIPAL)
    if given is not None:
        return cast(Principal, given)
    return authenticate(
        conn, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
    )


def _require_credentials(request: Request) -> None:
    """Anonymous requests are refused before anything about their input is judged."""
    if not request.headers.get("authorization") and not request.cookies.get(SESSION_COOKIE):
        raise AuthError(AuthFailure.MISSING)


def etag(instance: str, entity: str, row_id: int, rev: int) -> str:
    """Identifies a row version (not a representation): same for GET, HEAD, PUT and PATCH."""
    return version_tag(instance, entity, row_id, rev)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _http_date(ts: int) -> str:
    """RFC 7231's date form (``Sun, 06 Nov 1994 08:49:37 GMT``) of a Unix time, as
    ``email.utils.formatdate(ts, usegmt=True)`` writes it, in a third of its time (every
    single-row answer carries one)."""
    t = time.gmtime(ts)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _parse_date(value: str | None) -> int | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return int(parsed.timestamp()) if parsed is not None else None


def _headers(request: Request, entity: Entity, record: records.Record) -> dict[str, str]:
    headers = {
        "ETag": etag(request.path_params["instance"], entity.name, record.data["ID"], record.rev)
    }
    if record.lastmodified is not None:
        headers["Last-Modified"] = _http_date(record.lastmodified)
    return headers


def _write_precondition(request: Request, entity: Entity, row_id: int) -> Callable[[Any], None]:
    if_match = etags.parse(request.headers.get("if-match"))
    if_unmodified = request.headers.get("if-unmodified-since")

    def check(row: Any) -> None:
        current = etag(request.path_params["instance"], entity.name, row_id, row._rev)
        if if_match is not None:
            if not if_match.strong_match(current):
                raise HttpError(412, "Precondition Failed: Non-matching ETag")
            return
        since = _parse_date(if_unmodified)
        lastmodified = getattr(row, "lastmodified", None)
        if since is not None and lastmodified is not None and lastmodified > since:
            raise HttpError(412, "Precondition Failed: Non-matching ETag")

    return check


def _not_modified(request: Request, headers: dict[str, str], lastmodified: int | None) -> bool:
    if_none = etags.parse(request.headers.get("if-none-match"))
    if if_none is not None:
        return if_none.weak_match(headers["ETag"])
    since = _parse_date(request.headers.get("if-modified-since"))
    return since is not None and lastmodified is not None and lastmodified <= since


async def _read_body(request: Request) -> Any:
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, "Payload Too Large")
    raw = await request.body()
    return parse_body(raw, request.headers.get("content-type"), max_bytes=limit)


# -- handlers -----------------------------------------------------------------------------------


async def _body_later(request: Request) -> Callable[[], Any]:
    """The request body, or the error it deserves raised only when called: input is judged
    once the caller is known, so a stranger learns nothing from how it would be judged.
    Only a body over the size limit is refused at once."""
    try:
        body = await _read_body(request)
    except HttpError as err:
        if err.status == 413:
            raise
        refused = err

        def judged() -> Any:
            raise refused

        return judged
    return lambda: body


def _object(body: Any, required: bool) -> dict[str, Any]:
    if required and (body is None or body == {} or body == ""):
        raise bad_request("Missing body")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("Malformed JSON: expected an object")
    return body


@guarded
async def collection(request: Request) -> Response:
    store = _store(request)
    entity = _entity(request, store)
    op = _operation(entity, "collection", request.method)
    _require_credentials(request)
    body_of = await _body_later(request)
    if op == Op.LIST:

        def work(budget: float | None = None) -> tuple[bool, Any]:
            with store.read() as conn:
                principal = _principal(conn, request)
                params = merge_query_params(
                    _object(body_of(), False), list(request.query_params.multi_items())
                )
                export = _flag(params.get("export"))
                records.access.require_read(entity, principal)
                if export:
                    return True, records.run_export(conn, entity, params, principal, budget)
                return False, records.run_list(conn, entity, params, principal, budget)

        answer: tuple[bool, Any] | None = None
        if _on_loop(store, request):
            with suppress(records.OverBudget):  # a long list goes on a thread below
                answer = work(LOOP_BUDGET)
        if answer is None:
            answer = await run_in_threadpool(work)
        export, result = answer
        if export:
            return Response(
                result,
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{entity.name}.csv"'},
            )
        return json_response(result)

    def create(on_loop: bool = False) -> records.Record:
        with store.loop_write() if on_loop else store.write() as conn:
            principal = _principal(conn, request)
            return records.create(conn, entity, _object(body_of(), True), principal)

    record = await _write(store, request, create, await _stalls(request, entity))
    headers = _headers(request, entity, record)
    headers["Content-Location"] = (
        f"/{request.path_params['instance']}/api/v1/{entity.name}/{record.data['ID']}"
    )
    return json_response(record.data, 201, headers)


# How long (seconds) a list's statement may run on the event loop before the list is
# started again on a worker thread.
LOOP_BUDGET = 0.003


def _on_loop(store: Store, request: Request) -> bool:
    """Whether SQLite work is cheaper run right here, as plain code, than handed to a
    thread (PostgreSQL's single-row work runs on the loop too, through the asynchronous
    driver: see ``run_store_work``).

    On SQLite it is: a few indexed lookups or one row's write in the process itself take
    less time than the hand-off to a worker thread and back, and in WAL mode a reader never
    waits for a writer; a writer on the loop does not wait for the write lock either, but
    hands the write to a thread when another connection holds it (``loop_conns``).
    Threads also cost more than the hand-off: SQLite lets go of the interpreter lock at every
    row it steps over, and with another thread waiting, each row became a switch between
    threads. A list runs here under a budget of LOOP_BUDGET, so one that turns out long goes
    to a thread after a few milliseconds instead of stalling every other request.
    What may block the thread stays off the event loop: waiting for SQLite's write lock,
    checkpoints of its log, PostgreSQL's round trips through the threads' driver (lists),
    and the deliberately slow hashing of a password.
    """
    return store.dialect == "sqlite" and not _hashes_password(request)


async def _write(
    store: Store, request: Request, work: Callable[..., records.Record], stalls: bool
) -> records.Record:
    """A single-row create or update: on SQLite run right here, like its reads, unless the
    write lock is held elsewhere (then a worker thread waits for it); deletes, which may
    cascade through many rows, always go to a thread."""
    if _on_loop(store, request) and not stalls:
        try:
            return work(on_loop=True)
        except WriteLockTaken:
            pass
    return await run_store_work(store, work, may_stall=stalls)


def _hashes_password(request: Request) -> bool:
    """Whether authenticating the request checks a password, which is deliberately slow
    CPU work: such requests run on a worker thread, never on the event loop."""
    return scope_password_login(request.scope) is not None


# A request body past this size (in practice a file's content in base64) is decoded and
# hashed on a worker thread, not on the event loop.
LOOP_BODY_BYTES = 64 * 1024


async def _stalls(request: Request, entity: Entity) -> bool:
    """Whether a single-row request's work may hold the event loop for long without waiting
    on the database: checking a password, taking in a large body, or answering with a
    file's content (``expand`` of a binfile field). Such work runs on a worker thread."""
    if _hashes_password(request):
        return True
    if request.method in ("PUT", "PATCH") and len(await request.body()) > LOOP_BODY_BYTES:
        return True
    if request.method not in ("GET", "HEAD"):
        return False
    try:
        expand = _get_options(request, entity)[0]
    except HttpError:
        return False  # the work itself refuses the request, quickly
    return any((f := entity.field(name)) is not None and f.kind == Kind.BINFILE for name in expand)


def _row_id(request: Request, entity: Entity) -> int:
    raw = request.path_params["id"]
    if not _ID.match(raw):
        raise not_found()
    value = int(raw)
    if value > (2**63 - 1 if entity.pk_kind.value == "bigint" else 2**31 - 1):
        raise not_found()
    return value


def _get_options(request: Request, entity: Entity) -> tuple[set[str], bool, bool]:
    if not request.scope.get("query_string"):
        return set(), False, False
    q = request.query_params
    expand: set[str] = set()
    for value in q.getlist("expand") + q.getlist("expand[]"):
        expand.update(v.strip() for v in value.split(",") if v.strip())
    for name in entity.expandable:
        if q.get(name, "").lower() in _TRUE:
            expand.add(name)
    with_extdata = q.get("extdata", "").lower() in _TRUE or "extdata" in expand
    with_tags = q.get("tags", "").lower() in _TRUE or "tags" in expand
    expand -= {"extdata", "tags"}
    for name in expand:
        if name not in entity.expandable:
            raise bad_request(f"Invalid expand field '{name[:100]}'", field=name)
    return expand, with_extdata, with_tags


@guarded
async def item(request: Request) -> Response:
    store = _store(request)
    entity = _entity(request, store)
    op = _operation(entity, "item", request.method)
    _require_credentials(request)

    if op in (Op.GET, Op.HEAD):

        def read(on_loop: bool = False) -> records.Record:
            with store.loop_lookups() if on_loop else store.read(lookups=True) as conn:
                principal = _principal(conn, request)
                row_id = _row_id(request, entity)
                expand, with_extdata, with_tags = _get_options(request, entity)
                if not principal.may_read(entity.read_perms):
                    # HEAD has no 403 in the vendor contract: it answers "not found".
                    raise not_found() if op == Op.HEAD else forbidden()
                record = records.fetch(
                    conn,
                    entity,
                    row_id,
                    principal,
                    expand=expand,
                    with_extdata=with_extdata,
                    with_tags=with_tags,
                )
                if record is None:
                    raise not_found()
                return record

        stalls = await _stalls(request, entity)
        if _on_loop(store, request) and not stalls:
            record = read(on_loop=True)
        else:
            record = await run_store_work(store, read, may_stall=stalls)
        headers = _headers(request, entity, record)
        if _not_modified(request, headers, record.lastmodified):
            return Response(status_code=304, headers=headers)
        if op == Op.HEAD:
            return Response(status_code=204, headers=headers)
        return json_response(record.data, 200, headers)

    if op == Op.DELETE:

        def remove() -> None:
            with store.write() as conn:
                principal = _principal(conn, request)
                row_id = _row_id(request, entity)
                precondition = _write_precondition(request, entity, row_id)
                records.delete_row(conn, entity, row_id, principal, precondition)

        await run_store_work(store, remove, may_stall=await _stalls(request, entity))
        return Response(status_code=204)

    body_of = await _body_later(request)

    def patch(on_loop: bool = False) -> records.Record:
        with store.loop_write() if on_loop else store.write() as conn:
            principal = _principal(conn, request)
            row_id = _row_id(request, entity)
            raw = body_of()
            if raw is None or raw == "":
                raise bad_request("Missing body")
            body = _object(raw, False)
            precondition = _write_precondition(request, entity, row_id)
            return records.update_row(conn, entity, row_id, body, principal, precondition)

    record = await _write(store, request, patch, await _stalls(request, entity))
    return json_response(record.data, 200, _headers(request, entity, record))


@guarded
async def config(request: Request) -> Response:
    store = _store(request)

    def read() -> dict[str, Any]:
        with store.read() as conn:
            _principal(conn, request)
            values = read_settings(conn)
        return {
            "instance": store.name,
            "version": __version__,
            "currency": values.get("currency"),
            "locale": values.get("locale"),
            "timezone": values.get("timezone"),
            "country": values.get("country"),
            "modules": list(MODULES),
        }

    return json_response(await run_in_threadpool(read))


@guarded
async def app_settings(request: Request) -> Response:
    store = _store(request)

    def read() -> dict[str, Any]:
        with store.read() as conn:
            principal = _principal(conn, request)
            if principal.application_id is None:
                raise forbidden("Invalid application context")
            row = conn.execute(
                select(applications.c.defaultsettings, applications.c.settings).where(
                    applications.c.ID == principal.application_id
                )
            ).first()
        if row is None:
            raise forbidden("Invalid application context")
        merged: dict[str, Any] = dict(row.defaultsettings or {})
        merged.update(row.settings or {})
        return merged

    return json_response(await run_in_threadpool(read))


@guarded
async def openapi(request: Request) -> Response:
    store = _store(request)
    served = await run_in_threadpool(_served, store)
    return json_response(openapi_document(request.path_params["instance"], served))


def _both(path: str, endpoint: Any, methods: list[str] | None = None) -> list[Route]:
    """Serve ``path`` with and without a trailing slash; never redirect."""
    return [
        Route(path, endpoint, methods=methods),
        Route(path + "/", endpoint, methods=methods),
    ]


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def routes() -> list[Route]:
    base = "/{instance}/api/v1"
    # Rows first, the busiest routes: no other route has a path of this shape, so only the
    # collection routes must come after the fixed names they would otherwise take.
    return [
        *_both(f"{base}/{{entity}}/{{id}}", item, ALL_METHODS),
        *_both(f"{base}/config", config, ["GET"]),
        *_both(f"{base}/settings", app_settings, ["GET"]),
        *_both(f"{base}/openapi.json", openapi, ["GET"]),
        *_both(f"{base}/{{entity}}", collection, ALL_METHODS),
    ]
