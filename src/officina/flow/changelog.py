"""Who a projects-face write is logged for: the change log's actor of a request."""

from __future__ import annotations

from officina.core.changes import Actor
from officina.flow.context import Ctx

FACE = "projects"


def actor(ctx: Ctx) -> Actor:
    """The caller of ``ctx`` writing through this face, on the instance of the request path."""
    return Actor(ctx.instance, ctx.principal.user_id, FACE)
