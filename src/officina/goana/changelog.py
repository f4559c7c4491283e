"""Who a jobs-face write is logged for: the change log's actor of a request."""

from __future__ import annotations

from officina.core.changes import Actor
from officina.goana.context import Ctx

FACE = "jobs"


def actor(ctx: Ctx) -> Actor:
    """The caller of ``ctx`` writing through this face, on the instance of the request path."""
    return Actor(ctx.store.name, ctx.principal.user_id, FACE)
