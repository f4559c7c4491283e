"""Who calls which instance: the request context every Flow handler starts from.

The instance comes from the first path segment; the caller from any of core's credential
schemes. Grants: ``flow`` to read, writable ``flow`` to write, writable ``flow.billing`` to
create or change billings and settings; administrators hold them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from officina.core.auth import SESSION_COOKIE, AuthError, Principal, authenticate
from officina.core.store import Store
from officina.flow.errors import FlowError, forbidden, not_found

READ = ("flow",)
BILLING = ("flow.billing",)


@dataclass(frozen=True)
class Ctx:
    store: Store
    principal: Principal
    instance: str

    @property
    def user(self) -> str:
        """The acting user's uuid (``lastChangedBy``, ``createdBy``, ``completedBy``)."""
        return self.principal.uuid


# Scope key under which the mount keeps the outer officina application (its state holds the
# instance index); inside the face, ``request.app`` is the face's own FastAPI application.
OUTER_APP = "officina.app"


def store_of(request: Request) -> Store:
    instance = request.path_params.get("instance", "")
    store = request.scope[OUTER_APP].state.instances.lookup(instance)
    if store is None:
        raise not_found("instance")
    return store


def _authenticate(request: Request) -> Ctx:
    store = store_of(request)
    try:
        with store.read() as conn:
            principal = authenticate(
                conn, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
            )
    except AuthError as err:
        challenge = f'Basic realm="{store.name}", Bearer realm="{store.name}"'
        raise FlowError(
            401,
            "unauthorized",
            "missing or invalid credentials",
            headers={"WWW-Authenticate": challenge},
        ) from err
    return Ctx(store, principal, store.name)


def reader(request: Request) -> Ctx:
    ctx = _authenticate(request)
    if not ctx.principal.may_read(READ):
        raise forbidden("the flow permission is required")
    return ctx


def writer(request: Request) -> Ctx:
    ctx = _authenticate(request)
    if not ctx.principal.may_write(READ):
        raise forbidden("a writable flow permission is required")
    return ctx


def biller(request: Request) -> Ctx:
    ctx = writer(request)
    if not ctx.principal.may_write(BILLING):
        raise forbidden("a writable flow.billing permission is required")
    return ctx
