"""Job statuses: system-defined, translated, referred to by their English name.

The set lives in a code table seeded by migration, so it can change without code changes;
the API only reads it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import translations as tr
from officina.goana.problems import Problem
from officina.goana.routing import Call, Route, json_response
from officina.goana.tables import status as status_t
from officina.goana.wire import Field, Shape

KIND = "status"

STATUS = Shape(
    "Status",
    (
        Field("Name", "str", 200, read_only=True, doc="English name: the reference"),
        Field("DisplayName", "str", read_only=True, doc="name in the request language"),
        Field("NameTranslations", "map", read_only=True, doc="every translation, with en"),
        Field("Order", "int", read_only=True, doc="lifecycle order"),
        Field("IsInitial", "bool", read_only=True, doc="the status new jobs get"),
        Field("IsFinal", "bool", read_only=True, doc="the status ends a job"),
    ),
    doc="A system-defined job status.",
)


def all_statuses(conn: Connection, lang: str) -> list[dict[str, Any]]:
    rows = list(conn.execute(select(status_t).order_by(status_t.c.position)))
    names = tr.read(conn, KIND, [r.ID for r in rows], "name")
    return [
        {
            "Name": names[r.ID].get(tr.ENGLISH),
            "DisplayName": tr.pick(names[r.ID], lang),
            "NameTranslations": names[r.ID],
            "Order": r.position,
            "IsInitial": bool(r.initial),
            "IsFinal": bool(r.final),
            "_id": r.ID,
        }
        for r in rows
    ]


def public(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if not k.startswith("_")}


def initial_id(conn: Connection) -> int:
    row = conn.execute(
        select(status_t.c.ID).where(status_t.c.initial.is_(True)).order_by(status_t.c.position)
    ).first()
    if row is None:
        raise RuntimeError("no initial job status is defined")
    return int(row.ID)


def resolve(conn: Connection, name: str, field: str) -> int:
    """The status whose English name is ``name``; a 400 naming ``field`` otherwise."""
    found = tr.find_english(conn, KIND, "name", name)
    if found is not None:
        return found
    known = ", ".join(s["Name"] for s in all_statuses(conn, tr.ENGLISH))
    other = tr.find_translation(conn, KIND, "name", name)
    if other is not None:
        english = tr.read(conn, KIND, [other[0]], "name")[other[0]].get(tr.ENGLISH)
        message = (
            f"{name!r} is the {other[1]!r} name of the status {english!r}; "
            f"statuses are referred to by their English name"
        )
    else:
        message = f"unknown status {name[:200]!r}; the statuses are: {known}"
    raise Problem(400, errors={field: [message]})


def list_statuses(call: Call) -> Response:
    with call.ctx.store.read() as conn:
        return json_response([public(s) for s in all_statuses(conn, call.ctx.lang)])


def get_status(call: Call) -> Response:
    name = call.params["name"]
    with call.ctx.store.read() as conn:
        for s in all_statuses(conn, call.ctx.lang):
            if tr.normalize(s["Name"] or "") == tr.normalize(name):
                return json_response(public(s))
    raise Problem(404, f"no status with the English name {name[:200]!r}")


def refuse(call: Call) -> Response:
    raise Problem(405, "statuses are defined by the system", headers={"Allow": "GET, HEAD"})


def routes() -> list[Route]:
    out = [
        Route(
            "GET",
            "/statuses",
            list_statuses,
            "List the job statuses in lifecycle order",
            returns=STATUS,
            many=True,
            codes=(200, 401),
        ),
        Route(
            "GET",
            "/statuses/{name:path}",
            get_status,
            "One status by its English name",
            returns=STATUS,
            codes=(200, 401, 404),
        ),
    ]
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        out.append(Route(method, "/statuses", refuse, codes=(405,)))
        out.append(Route(method, "/statuses/{name:path}", refuse, codes=(405,)))
    return out
