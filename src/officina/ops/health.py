"""Liveness, readiness and the metrics endpoint of a worker.

``/healthz`` says the process answers; ``/readyz`` says it can serve: the control store
answers and every instance it routes to is at the newest migration, so a load balancer only
sends traffic to workers that will not fail on a missing table.
"""

from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from officina.core.store import Instances


def _json(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def healthz(request: Request) -> Response:
    return _json({"status": "ok"})


def _readiness(instances: Instances) -> tuple[bool, dict[str, object]]:
    from officina.migrations.runner import current, heads

    wanted = ",".join(sorted(heads()))
    problems: dict[str, str] = {}
    try:
        names = instances.names()
    except Exception as err:  # any failure of the store means "not ready"
        return False, {"status": "unavailable", "store": type(err).__name__}
    for name in names:
        try:
            store = instances.lookup(name)
            if store is None:
                continue
            at = current(store)
        except Exception as err:
            problems[name] = f"unreachable ({type(err).__name__})"
            continue
        if at != wanted:
            problems[name] = "migrations pending"
    ready = not problems
    return ready, {
        "status": "ready" if ready else "unavailable",
        "instances": len(names),
        "problems": problems,
    }


async def readyz(request: Request) -> Response:
    instances: Instances = request.app.state.instances
    ready, body = await run_in_threadpool(_readiness, instances)
    return _json(body, 200 if ready else 503)


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


async def metrics(request: Request) -> Response:
    """Served to the same machine, or to whoever presents the configured scrape token."""
    token = request.app.state.settings.metrics_token
    given = request.headers.get("authorization", "")
    peer = request.client.host if request.client else ""
    allowed = (token and given == f"Bearer {token}") or (not token and peer in LOOPBACK)
    if not allowed:
        return _json(
            {"error": "metrics are served to the local machine or with the scrape token"}, 403
        )
    return PlainTextResponse(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4"
    )
