"""Routes of jobs: the list with its filters, one job, add-or-change, change, delete, status."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import translations as tr
from officina.goana import changelog, job_model, job_view, statuses, team_refs, user_refs
from officina.goana import template_model as templates
from officina.goana.job_shapes import JOB, STATUS_CHANGE
from officina.goana.paging import page_headers, page_of
from officina.goana.problems import Errors, Problem
from officina.goana.routing import Call, Param, Route, check_if_match, json_response, tagged
from officina.goana.tables import job
from officina.goana.templates import PAGING


def _flag(call: Call, name: str) -> bool:
    value = (call.arg(name) or "").lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise Problem(400, errors={name: ["must be true or false"]})


def _filters(conn: Connection, call: Call) -> job_view.Filter:
    flt = job_view.Filter()
    errors = Errors()
    names = call.args("statusName")
    if names:
        flt.where.append(job.c.status.in_([statuses.resolve(conn, n, "statusName") for n in names]))
    if (start := call.when("plannedFrom")) is not None:
        flt.where.append(job.c.planned >= start)
    if (end := call.when("plannedTo")) is not None:
        flt.where.append(job.c.planned < end)
    if (since := call.when("modifiedSince")) is not None:
        flt.where.append(job.c.modified >= since)
    if call.has_arg("userEmail"):
        emails = call.args("userEmail")
        wanted: list[Any] = []
        for email in emails:
            if not email:
                wanted.append(job.c.user.is_(None))
                continue
            found = user_refs.find(conn, email)
            if found is None:
                errors.add("userEmail", f"no user with the e-mail {email[:200]!r}")
            wanted.append(job.c.user == found)
        flt.where.append(or_(*wanted))
    teams = call.args("team")
    if teams:
        flt.where.append(job.c.team.in_([team_refs.find(conn, t) or 0 for t in teams]))
    titles = call.args("jobTemplateTitle")
    if titles:
        ids = []
        for title in titles:
            found = tr.find_english(conn, templates.KIND, "title", title)
            if found is None:
                errors.add("jobTemplateTitle", job_model._template_error(conn, title))
            ids.append(found or 0)
        flt.where.append(job.c.template.in_(ids))
    ids_raw = call.args("jobTemplateId")
    if ids_raw:
        if not all(re.fullmatch(r"[0-9]{1,9}", x) for x in ids_raw):
            errors.add("jobTemplateId", "must be an integer")
        else:
            flt.where.append(job.c.template.in_([int(x) for x in ids_raw]))
    keys = call.args("key")
    if keys:
        flt.where.append(job.c.key.in_(keys))
    sort = (call.arg("sort") or "plannedTime").lower()
    if sort not in job_view.SORTS:
        errors.add("sort", "must be plannedTime, -plannedTime, modified, -modified, key or -key")
    else:
        flt.sort = sort
    errors.check()
    return flt


def list_jobs(call: Call) -> Response:
    if not (
        call.ctx.can("jobs.read") or not call.ctx.roles - {"Dashboard", "Reports", "JobReccurences"}
    ):
        raise Problem(403, "your roles do not allow reading jobs")
    page = page_of(call)
    binary = _flag(call, "includeBinary")
    with call.ctx.store.read() as conn:
        flt = _filters(conn, call)
        flt.offset, flt.limit = page.offset, page.limit
        found, total = job_view.read(conn, call.ctx, flt, binary)
        if not found and page.offset:
            total = int(conn.execute(job_view.count_only(call.ctx, flt)).scalar_one())
    return json_response([j for j, _ in found], headers=page_headers(call, page, total))


def _may_see(call: Call) -> None:
    if not call.ctx.can("jobs.read") and call.ctx.roles - {
        "Dashboard",
        "Reports",
        "JobReccurences",
    }:
        raise Problem(403, "your roles do not allow reading jobs")


def _one(conn: Connection, call: Call, key: str) -> tuple[dict[str, Any], int]:
    flt = job_view.Filter(where=[job.c.key == key], limit=1)
    found, _ = job_view.read(conn, call.ctx, flt, binary=True)
    if not found:
        raise Problem(404, f"no job with the key {key[:200]!r}")
    return found[0]


def get_job(call: Call) -> Response:
    _may_see(call)
    with call.ctx.store.read() as conn:
        data, rev = _one(conn, call, call.params["key"])
    return tagged(data, rev, call)


def _parse(call: Call) -> dict[str, Any]:
    reader = call.reader()
    data = reader.object(JOB, call.body)
    reader.errors.check()
    return data


def post_job(call: Call) -> Response:
    call.ctx.need("jobs.write")
    data = _parse(call)
    with call.ctx.store.write() as conn:
        key = data.get("Key")
        current = job_model.find(conn, key) if key else None
        if current is not None:
            check_if_match(call, current.rev)
        job_id, added = job_model.save(conn, call.ctx, data)
        row = conn.execute(job.select().where(job.c.ID == job_id)).one()
        result, rev = _one(conn, call, row.key)
    if added:
        location = f"{call.base}/jobs/{quote(row.key, safe='')}"
        return tagged(result, rev, call, 201, Location=location)
    return tagged(result, rev, call)


def put_job(call: Call) -> Response:
    call.ctx.need("jobs.write")
    key = call.params["key"]
    data = _parse(call)
    if data.get("Key") is not None and data["Key"] != key:
        raise Problem(400, errors={"Key": ["must match the key in the path"]})
    with call.ctx.store.write() as conn:
        current = job_model.find(conn, key)
        if current is None:
            raise Problem(404, f"no job with the key {key[:200]!r}")
        check_if_match(call, current.rev)
        job_model.change(conn, call.ctx, current, data)
        result, rev = _one(conn, call, key)
    return tagged(result, rev, call)


def delete_job(call: Call) -> Response:
    call.ctx.need("jobs.write")
    key = call.params["key"]
    with call.ctx.store.write() as conn:
        current = job_model.find(conn, key)
        if current is None:
            raise Problem(404, f"no job with the key {key[:200]!r}")
        check_if_match(call, current.rev)
        job_model.remove(conn, changelog.actor(call.ctx), current)
    return Response(status_code=204)


def post_status(call: Call) -> Response:
    key = call.params["key"]
    reader = call.reader()
    data = reader.object(STATUS_CHANGE, call.body)
    if not data.get("Status"):
        reader.errors.add("Status", "is required")
    reader.errors.check()
    with call.ctx.store.write() as conn:
        current = job_model.find(conn, key)
        visible = current is not None and (
            call.ctx.can("jobs.status")
            or current.user == call.ctx.user_id
            or (current.user is None and current.team in call.ctx.principal.groups)
        )
        if current is None or (not visible and not call.ctx.can("jobs.read")):
            raise Problem(404, f"no job with the key {key[:200]!r}")
        if not visible:
            raise Problem(403, "your roles do not allow changing this job's status")
        check_if_match(call, current.rev)
        status_id = statuses.resolve(conn, data["Status"], "Status")
        job_model.set_status(conn, changelog.actor(call.ctx), current, status_id)
        result, rev = _one(conn, call, key)
    return tagged(result, rev, call)


JOB_FILTERS = (
    Param("statusName", "English status name", repeat=True),
    Param("plannedFrom", "planned at or after"),
    Param("plannedTo", "planned before"),
    Param("userEmail", "assigned user; empty for unassigned jobs", repeat=True),
    Param("team", "team name", repeat=True),
    Param("jobTemplateTitle", "English template title", repeat=True),
    Param("jobTemplateId", "template id", "integer", repeat=True),
    Param("modifiedSince", "changed at or after"),
    Param("key", "job key", repeat=True),
    Param("sort", "plannedTime, -plannedTime, modified, -modified, key, -key"),
    Param("includeBinary", "include image and signature values", "boolean"),
)


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/jobs",
            list_jobs,
            "List jobs",
            returns=JOB,
            many=True,
            codes=(200, 400, 401, 403),
            query=(*JOB_FILTERS, *PAGING),
        ),
        Route(
            "POST",
            "/jobs/{key:path}/status",
            post_status,
            "Set the status of a job",
            body=STATUS_CHANGE,
            returns=JOB,
            codes=(200, 400, 401, 403, 404, 412, 413, 415),
        ),
        Route(
            "GET",
            "/jobs/{key:path}",
            get_job,
            "One job",
            returns=JOB,
            codes=(200, 304, 401, 403, 404),
        ),
        Route(
            "POST",
            "/jobs",
            post_job,
            "Add a job, or change the job with this Key",
            body=JOB,
            returns=JOB,
            codes=(200, 201, 400, 401, 403, 409, 412, 413, 415),
        ),
        Route(
            "PUT",
            "/jobs/{key:path}",
            put_job,
            "Change a job",
            body=JOB,
            returns=JOB,
            codes=(200, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "DELETE",
            "/jobs/{key:path}",
            delete_job,
            "Delete a job",
            codes=(204, 401, 403, 404, 412),
        ),
    ]
