"""Handlers of the billing operations: the seed's four (BI1–BI4) and officina's additions
(patch the ERP fields, cancel, search)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from starlette.responses import Response

from officina.core.clock import now
from officina.core.ids import new_uuid
from officina.flow import billing, changelog, search
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
from officina.flow.models import BillingCreate, BillingPatch
from officina.flow.params import Biller, Flag, IdsQuery, Reader, Table
from officina.flow.search_idents import BILLING_IDENTS
from officina.flow.tables import billings
from officina.flow.values import UUID_PATTERN

TAG = "Billings REST"
BASE = "billings"
BillingId = Annotated[str, Path(pattern=UUID_PATTERN, description="UUID of the billing")]


def _flags(request: Request) -> tuple[bool, bool, bool]:
    return (
        flag(request, "withSums"),
        flag(request, "withTimeRecordIds"),
        flag(request, "withWorkPackageIds"),
    )


def get_billings(
    ctx: Reader,
    request: Request,
    ids: IdsQuery = None,
    withSums: Flag = None,
    withTimeRecordIds: Flag = None,
    withWorkPackageIds: Flag = None,
) -> Response:
    wanted = ids_param(request, required=True) or []
    flags = _flags(request)
    with ctx.store.read() as conn:
        rows = {r.id: r for r in billing.fetch(conn, billings.c.id.in_(wanted))}
        ordered = [rows[i] for i in wanted if i in rows]
        return ok(billing.serialize(conn, ordered, *flags))


def _create(ctx: Ctx, body: BillingCreate, billing_id: str) -> Response:
    with ctx.store.write() as conn:
        billing.create(conn, body, billing_id, ctx.user, now(), changelog.actor(ctx))
    return created(billing_id, f"/{ctx.instance}/flow/api/v1/{BASE}/{billing_id}")


def create_billing(ctx: Biller, body: BillingCreate) -> Response:
    return _create(ctx, body, new_uuid())


def get_billing(
    ctx: Reader,
    request: Request,
    billingId: BillingId,
    withSums: Flag = None,
    withTimeRecordIds: Flag = None,
    withWorkPackageIds: Flag = None,
) -> Response:
    check_path_id(billingId, "billingId")
    flags = _flags(request)
    with ctx.store.read() as conn:
        row = billing.load(conn, billingId)
        if row is None:
            raise not_found("billing")
        found = billing.serialize(conn, [row], *flags)[0]
    return ok(found, headers={"ETag": etag_of(found)})


def put_billing(ctx: Biller, billingId: BillingId, body: BillingCreate) -> Response:
    return _create(ctx, body, check_path_id(billingId, "billingId"))


def _stored(conn: Any, billing_id: str, request: Request) -> Any:
    row = billing.load(conn, billing_id)
    if row is None:
        raise not_found("billing")
    if request.headers.get("if-match") is not None:
        lock_row(conn, billings.c.id, billing_id)
        row = billing.load(conn, billing_id)
        if row is None:  # deleted by the writer we waited for
            raise not_found("billing")
        check_if_match(request, billing.serialize(conn, [row], False, False, False)[0])
    return row


def patch_billing(
    ctx: Biller,
    request: Request,
    billingId: BillingId,
    body: BillingPatch,
) -> Response:
    check_path_id(billingId, "billingId")
    with ctx.store.write() as conn:
        billing.patch(conn, _stored(conn, billingId, request), body, changelog.actor(ctx))
    return no_content()


def delete_billing(ctx: Biller, request: Request, billingId: BillingId) -> Response:
    check_path_id(billingId, "billingId")
    with ctx.store.write() as conn:
        billing.cancel(conn, _stored(conn, billingId, request), changelog.actor(ctx))
    return no_content()


def _run(ctx: Ctx, request: Request, query: search.Query) -> Response:
    objects = flag(request, "yieldObjects")
    flags = _flags(request)
    where = search.compile_query(BILLING_IDENTS, query)
    with ctx.store.read() as conn:
        rows = billing.fetch(conn, where)
        if not objects:
            return ok([r.id for r in rows])
        return ok(billing.serialize(conn, rows, *flags))


def routes(t: Table) -> None:
    item = f"/{BASE}/{{billingId}}"
    t.add("GET", f"/{BASE}", get_billings, "Get billings by ids", TAG)
    t.add("POST", f"/{BASE}", create_billing, "Create billing", TAG, 201)
    t.add_searches(BASE, _run, "billings", TAG, "Simple search (X)")
    t.add("GET", item, get_billing, "Get billing", TAG)
    t.add("PUT", item, put_billing, "Create billing with id", TAG, 201)
    t.add("PATCH", item, patch_billing, "Patch billing notes and ERP fields (X)", TAG, 204)
    t.add("DELETE", item, delete_billing, "Cancel a billing (X)", TAG, 204)
