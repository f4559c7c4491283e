"""Handlers and routes of the customer operations (CU1–CU8)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import and_
from starlette.responses import Response

from officina.core.clock import now
from officina.flow import changelog, customer_access, customers, search
from officina.flow.context import Ctx
from officina.flow.customer_ids import accounts
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
from officina.flow.models import CustomerCreate, CustomerPatch
from officina.flow.params import CustomerId, IdsQuery, Reader, Table, Writer
from officina.flow.search_idents import customer_idents

BASE = "customers"


def _list(ctx: Ctx, request: Request) -> Response:
    ids = ids_param(request, required=False)
    customer_access.require_read(ctx.principal)
    seen = customer_access.seen_by(ctx.principal)
    with ctx.store.read() as conn:
        if ids is None:
            return ok(customers.fetch(conn, seen))
        return ok(customers.fetch_ids(conn, ids, seen))


def _get(ctx: Ctx, customer_id: str) -> Response:
    check_path_id(customer_id, "customerId")
    customer_access.require_read(ctx.principal)
    with ctx.store.read() as conn:
        account = customer_access.visible_account(conn, customer_id, ctx.principal)
        found = customers.fetch_one(conn, account) if account is not None else None
    if found is None:
        raise not_found("customer")
    return ok(found, headers={"ETag": etag_of(found)})


def _create(ctx: Ctx, body: CustomerCreate, customer_id: str | None = None) -> Response:
    if customer_id is not None:
        check_path_id(customer_id, "customerId")
    customer_access.require_write(ctx.principal)
    with ctx.store.write() as conn:
        new_id = customers.create(
            conn, body, ctx.principal.user_id, now(), changelog.actor(ctx), customer_id
        )
    return created(new_id, f"/{ctx.instance}/flow/api/v1/{BASE}/{new_id}")


def _account(ctx: Ctx, conn: Any, customer_id: str, request: Request) -> int:
    account = customer_access.writable_account(conn, customer_id, ctx.principal)
    if request.headers.get("if-match") is not None:
        lock_row(conn, accounts().c.ID, account)
        check_if_match(request, customers.fetch_one(conn, account))
    return account


def _patch(ctx: Ctx, request: Request, customer_id: str, body: CustomerPatch) -> Response:
    check_path_id(customer_id, "customerId")
    with ctx.store.write() as conn:
        account = _account(ctx, conn, customer_id, request)
        customers.patch(conn, account, body, now(), changelog.actor(ctx))
    return no_content()


def _delete(ctx: Ctx, request: Request, customer_id: str) -> Response:
    check_path_id(customer_id, "customerId")
    with ctx.store.write() as conn:
        account = _account(ctx, conn, customer_id, request)
        customers.delete_customer(conn, account, customer_id, now(), changelog.actor(ctx))
    return no_content()


def _run(ctx: Ctx, request: Request, query: search.Query) -> Response:
    objects = flag(request, "yieldObjects")
    where = search.compile_query(customer_idents(), query)
    customer_access.require_read(ctx.principal)
    seen = customer_access.seen_by(ctx.principal)
    if seen is not None:
        where = and_(where, seen)
    with ctx.store.read() as conn:
        found = customers.fetch(conn, where)
    return ok(found if objects else [c["id"] for c in found])


# -- endpoints ---------------------------------------------------------------------------------


def list_customers(ctx: Reader, request: Request, ids: IdsQuery = None) -> Response:
    return _list(ctx, request)


def create_customer(ctx: Writer, body: CustomerCreate) -> Response:
    return _create(ctx, body)


def get_customer(ctx: Reader, customerId: CustomerId) -> Response:
    return _get(ctx, customerId)


def put_customer(ctx: Writer, customerId: CustomerId, body: CustomerCreate) -> Response:
    return _create(ctx, body, customerId)


def patch_customer(
    ctx: Writer,
    request: Request,
    customerId: CustomerId,
    body: CustomerPatch,
) -> Response:
    return _patch(ctx, request, customerId, body)


def delete_customer(ctx: Writer, request: Request, customerId: CustomerId) -> Response:
    return _delete(ctx, request, customerId)


def routes(t: Table) -> None:
    tag = "Customers"
    item = f"/{BASE}/{{customerId}}"
    t.add("GET", f"/{BASE}", list_customers, "Gets customers", tag)
    t.add("POST", f"/{BASE}", create_customer, "Creates a customer", tag, 201)
    t.add_searches(BASE, _run, "customers", tag)
    t.add("GET", item, get_customer, "Gets one customer", tag)
    t.add("PUT", item, put_customer, "Creates a customer (id in path)", tag, 201)
    t.add("PATCH", item, patch_customer, "Patches a customer", tag, 204)
    t.add("DELETE", item, delete_customer, "Deletes a customer", tag, 204)
