"""Routes of job templates: list, read, add-or-change by id or English title, change, delete."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import translations as tr
from officina.goana import changelog
from officina.goana import template_model as model
from officina.goana.paging import page_headers, page_of
from officina.goana.problems import Problem
from officina.goana.routing import Call, Param, Route, claim_version, json_response, tagged
from officina.goana.tables import template
from officina.goana.wire import parse_datetime

TEMPLATE = model.TEMPLATE


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _one(conn: Connection, call: Call, owner: int) -> dict[str, Any]:
    found = model.render(conn, call.ctx, [owner]).get(owner)
    if found is None:
        raise Problem(404, f"no job template with id {owner}")
    return found


def _path_id(call: Call) -> int:
    raw = call.params["id"]
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise Problem(404, f"no job template with id {raw[:40]!r}")
    return int(raw)


def list_templates(call: Call) -> Response:
    call.ctx.need("templates.read")
    page = page_of(call)
    english = tr.translations.alias("en_title")
    joined = template.join(
        english,
        and_(
            english.c.kind == model.KIND,
            english.c.owner == template.c.ID,
            english.c.field == "title",
            english.c.lang == tr.ENGLISH,
        ),
    )
    where = []
    title = call.arg("title")
    if title is not None:
        where.append(english.c.norm == tr.normalize(title))
    since = call.arg("modifiedSince")
    if since is not None:
        seconds = parse_datetime(since, call.ctx.tz)
        if seconds is None:
            raise Problem(400, errors={"modifiedSince": ["must be a date or date and time"]})
        where.append(template.c.modified >= seconds)
    query = (
        select(template.c.ID, func.count().over().label("total"))
        .select_from(joined)
        .where(*where)
        .order_by(english.c.norm, template.c.ID)
        .offset(page.offset)
        .limit(page.limit)
    )
    with call.ctx.store.read() as conn:
        rows = list(conn.execute(query))
        total = rows[0].total if rows else _count(conn, joined, where)
        found = model.render(conn, call.ctx, [r.ID for r in rows])
    body = [_public(found[r.ID]) for r in rows if r.ID in found]
    return json_response(body, headers=page_headers(call, page, total))


def _count(conn: Connection, joined: Any, where: list[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one())


def get_template(call: Call) -> Response:
    call.ctx.need("templates.read")
    with call.ctx.store.read() as conn:
        found = _one(conn, call, _path_id(call))
    return tagged(_public(found), found["_rev"], call)


def _parse(call: Call) -> dict[str, Any]:
    reader = call.reader()
    data = reader.object(TEMPLATE, call.body)
    reader.errors.check()
    return data


def post_template(call: Call) -> Response:
    """Add or change: by ``Id`` when given, else by the English title."""
    call.ctx.need("templates.write")
    data = _parse(call)
    with call.ctx.store.write() as conn:
        owner: int | None = data.get("Id")
        if owner is not None:
            current = _one(conn, call, owner)
            claim_version(call, conn, template.c.rev, template.c.ID == owner, current["_rev"])
        else:
            english = model.english_title(call.ctx, data)
            owner = tr.find_english(conn, model.KIND, "title", english) if english else None
            if owner is not None:
                rev = _one(conn, call, owner)["_rev"]
                claim_version(call, conn, template.c.rev, template.c.ID == owner, rev)
            else:
                _warn_translation(conn, data)
        errors = call.reader().errors
        model.check_definition(call.ctx, data, errors, creating=owner is None)
        errors.check()
        created = owner is None
        owner = model.save(conn, call.ctx, data, owner)
        result = _one(conn, call, owner)
    if created:
        location = f"{call.base}/jobtemplates/{quote(str(owner), safe='')}"
        return tagged(_public(result), result["_rev"], call, 201, Location=location)
    return tagged(_public(result), result["_rev"], call)


def _warn_translation(conn: Connection, data: dict[str, Any]) -> None:
    """A new template titled like another's translation is allowed but usually a mistake."""
    title = data.get("Title")
    if title and tr.find_translation(conn, model.KIND, "title", title):
        import logging

        logging.getLogger("officina.goana").warning(
            "a new job template is titled like another template's translation; "
            "clients should send Id to change an existing template"
        )


def put_template(call: Call) -> Response:
    call.ctx.need("templates.write")
    owner = _path_id(call)
    data = _parse(call)
    if data.get("Id") is not None and data["Id"] != owner:
        raise Problem(400, errors={"Id": ["must match the id in the path"]})
    with call.ctx.store.write() as conn:
        current = _one(conn, call, owner)
        claim_version(call, conn, template.c.rev, template.c.ID == owner, current["_rev"])
        errors = call.reader().errors
        model.check_definition(call.ctx, data, errors, creating=False)
        errors.check()
        model.save(conn, call.ctx, data, owner)
        result = _one(conn, call, owner)
    return tagged(_public(result), result["_rev"], call)


def delete_template(call: Call) -> Response:
    call.ctx.need("templates.write")
    owner = _path_id(call)
    with call.ctx.store.write() as conn:
        current = _one(conn, call, owner)
        claim_version(call, conn, template.c.rev, template.c.ID == owner, current["_rev"])
        model.remove(conn, changelog.actor(call.ctx), owner)
    return Response(status_code=204)


PAGING = (
    Param("page", "page number, from 1", "integer"),
    Param("pageSize", "items per page (default 100, at most 1000)", "integer"),
    Param("skip", "items to skip (alternative to page)", "integer"),
    Param("take", "items to return (alternative to pageSize)", "integer"),
)


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/jobtemplates",
            list_templates,
            "List job templates, sorted by English title",
            returns=TEMPLATE,
            many=True,
            codes=(200, 400, 401, 403),
            query=(
                Param("title", "English title (exact, case-insensitive)"),
                Param("modifiedSince", "changed at or after this time"),
                *PAGING,
            ),
        ),
        Route(
            "GET",
            "/jobtemplates/{id}",
            get_template,
            "One job template",
            returns=TEMPLATE,
            codes=(200, 304, 401, 403, 404),
        ),
        Route(
            "POST",
            "/jobtemplates",
            post_template,
            "Add a job template, or change the one with this Id or English Title",
            body=TEMPLATE,
            returns=TEMPLATE,
            codes=(200, 201, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "PUT",
            "/jobtemplates/{id}",
            put_template,
            "Change a job template",
            body=TEMPLATE,
            returns=TEMPLATE,
            codes=(200, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "DELETE",
            "/jobtemplates/{id}",
            delete_template,
            "Delete a job template no job uses",
            codes=(204, 401, 403, 404, 409, 412),
        ),
    ]
