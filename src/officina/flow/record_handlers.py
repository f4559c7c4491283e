"""Handlers and routes of the time tracking records (TR1–TR8)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from starlette.responses import Response

from officina.core.clock import now
from officina.core.ids import new_uuid
from officina.flow import changelog, search, timerecords
from officina.flow.context import Ctx
from officina.flow.errors import not_found
from officina.flow.http import (
    check_if_match,
    check_path_id,
    created,
    etag_of,
    flag,
    ids_param,
    lock_row,
    no_content,
    ok,
)
from officina.flow.models import TimeRecordCreate, TimeRecordPatch
from officina.flow.params import IdsQuery, Reader, Table, Writer
from officina.flow.search_idents import RECORD_IDENTS
from officina.flow.tables import time_records
from officina.flow.values import UUID_PATTERN

TAG = "Time tracking records"
BASE = "timeTrackingRecords"
RecordId = Annotated[
    str, Path(pattern=UUID_PATTERN, description="UUID of the time tracking record")
]


def _location(ctx: Ctx, record_id: str) -> str:
    return f"/{ctx.instance}/flow/api/v1/{BASE}/{record_id}"


def _stored(conn: Any, record_id: str, request: Request) -> Any:
    conditional = request.headers.get("if-match") is not None
    if conditional:  # racing writers with one ETag: the second one reads the first's result
        lock_row(conn, time_records.c.id, record_id)
    stored = timerecords.load(conn, record_id)
    if stored is not None and conditional:
        check_if_match(request, timerecords.serialize(stored))
    return stored


def get_records(ctx: Reader, request: Request, ids: IdsQuery = None) -> Response:
    wanted = ids_param(request, required=True) or []
    with ctx.store.read() as conn:
        return ok(timerecords.fetch_ids(conn, wanted))


def post_record(ctx: Writer, body: TimeRecordCreate) -> Response:
    record_id = new_uuid()
    with ctx.store.write() as conn:
        timerecords.write(conn, record_id, body, None, True, ctx.user, now(), changelog.actor(ctx))
    return created(record_id, _location(ctx, record_id))


def get_record(ctx: Reader, timeTrackingRecordId: RecordId) -> Response:
    check_path_id(timeTrackingRecordId, "timeTrackingRecordId")
    with ctx.store.read() as conn:
        stored = timerecords.load(conn, timeTrackingRecordId)
    if stored is None:
        raise not_found("time tracking record")
    found = timerecords.serialize(stored)
    return ok(found, headers={"ETag": etag_of(found)})


def put_record(
    ctx: Writer,
    request: Request,
    timeTrackingRecordId: RecordId,
    body: TimeRecordCreate,
) -> Response:
    record_id = check_path_id(timeTrackingRecordId, "timeTrackingRecordId")
    with ctx.store.write() as conn:
        stored = _stored(conn, record_id, request)
        timerecords.write(
            conn, record_id, body, stored, True, ctx.user, now(), changelog.actor(ctx)
        )
    if stored is None:
        return created(record_id, _location(ctx, record_id))
    return no_content()


def patch_record(
    ctx: Writer,
    request: Request,
    timeTrackingRecordId: RecordId,
    body: TimeRecordPatch,
) -> Response:
    record_id = check_path_id(timeTrackingRecordId, "timeTrackingRecordId")
    with ctx.store.write() as conn:
        stored = _stored(conn, record_id, request)
        if stored is None:
            raise not_found("time tracking record")
        timerecords.write(
            conn, record_id, body, stored, False, ctx.user, now(), changelog.actor(ctx)
        )
    return no_content()


def delete_record(
    ctx: Writer,
    request: Request,
    timeTrackingRecordId: RecordId,
) -> Response:
    record_id = check_path_id(timeTrackingRecordId, "timeTrackingRecordId")
    with ctx.store.write() as conn:
        stored = _stored(conn, record_id, request)
        if stored is None:
            raise not_found("time tracking record")
        timerecords.remove(conn, stored, changelog.actor(ctx))
    return no_content()


def _run(ctx: Ctx, request: Request, query: search.Query) -> Response:
    objects = flag(request, "yieldObjects")
    where = search.compile_query(RECORD_IDENTS, query)
    with ctx.store.read() as conn:
        found = timerecords.fetch(conn, where)
    return ok(found if objects else [r["id"] for r in found])


def routes(t: Table) -> None:
    item = f"/{BASE}/{{timeTrackingRecordId}}"
    t.add("GET", f"/{BASE}", get_records, "Get time tracking records by ids", TAG)
    t.add("POST", f"/{BASE}", post_record, "Post time tracking record", TAG, 201)
    t.add_searches(BASE, _run, "records", TAG)
    t.add("GET", item, get_record, "Get time tracking record", TAG)
    t.add("PUT", item, put_record, "Put time tracking record", TAG, 204)
    t.add("PATCH", item, patch_record, "Patch time tracking record", TAG, 204)
    t.add("DELETE", item, delete_record, "Delete time tracking record", TAG, 204)
