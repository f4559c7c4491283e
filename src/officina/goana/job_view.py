"""Reading jobs: one SQL statement per page, whatever the page holds.

An inner query picks the page (filters, visibility, sort, paging, total count); the outer
query adds English and request-language names of template and status, the assignee's e-mail,
the team, and every parameter value with its contact and location folded into a JSON
column. Python only reshapes rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.engine import Connection

from officina.core import translations as tr
from officina.core.schema import groups, users
from officina.core.sqljson import decode, json_rows
from officina.goana.context import Ctx
from officina.goana.tables import (
    contact,
    contact_detail,
    dc_value,
    job,
    job_parameter,
    location,
    parameter_def,
)
from officina.goana.wire import b64, format_datetime, format_timespan

SORTS = {
    "plannedtime": (job.c.planned, False),
    "-plannedtime": (job.c.planned, True),
    "modified": (job.c.modified, False),
    "-modified": (job.c.modified, True),
    "key": (job.c.key, False),
    "-key": (job.c.key, True),
}


@dataclass
class Filter:
    where: list[Any] = field(default_factory=list)
    sort: str = "plannedtime"
    offset: int = 0
    limit: int = 100


def visible(ctx: Ctx) -> Any:
    """Field workers see their own jobs and the unassigned jobs of their teams."""
    if ctx.can("jobs.read"):
        return literal(True)
    mine = job.c.user == ctx.user_id
    teams = list(ctx.principal.groups)
    if not teams:
        return mine
    return or_(mine, and_(job.c.user.is_(None), job.c.team.in_(teams)))


def _names(kind: str, field_name: str, owner: Any, lang: str, tag: str) -> tuple[Any, Any]:
    en = tr.translations.alias(f"{tag}_en")
    local = tr.translations.alias(f"{tag}_local")
    on_en = and_(
        en.c.kind == kind, en.c.owner == owner, en.c.field == field_name, en.c.lang == tr.ENGLISH
    )
    on_local = and_(
        local.c.kind == kind,
        local.c.owner == owner,
        local.c.field == field_name,
        local.c.lang == lang,
    )
    return (en, on_en), (local, on_local)


def _params_column(dialect: str, binary: bool) -> Any:
    own_loc = location.alias("p_loc")
    c_loc = location.alias("c_loc")
    team = groups.alias("c_team")
    label = tr.translations.alias("opt_label")
    details = json_rows(
        dialect,
        [
            contact_detail.c.position,
            contact_detail.c.name,
            contact_detail.c.type,
            contact_detail.c.value,
            contact_detail.c.is_preferred,
        ],
        contact_detail.c.contact == contact.c.ID,
    )
    if dialect == "sqlite":
        details = func.json(details)
    columns = [
        parameter_def.c.position,
        parameter_def.c.name,
        job_parameter.c.variant,
        parameter_def.c.type,
        parameter_def.c.use_as_job_title,
        job_parameter.c.value,
        job_parameter.c.key,
        dc_value.c.value,
        label.c.text,
        own_loc.c.ID,
        own_loc.c.street,
        own_loc.c.street_number,
        own_loc.c.street_supplement,
        own_loc.c.zip,
        own_loc.c.city,
        own_loc.c.country,
        own_loc.c.latitude,
        own_loc.c.longitude,
        contact.c.ID,
        contact.c.reference,
        contact.c.lang,
        team.c.name,
        contact.c.salutation,
        contact.c.company_name,
        contact.c.first_name,
        contact.c.name,
        contact.c.role,
        contact.c.display_sort,
        contact.c.remarks,
        c_loc.c.ID,
        c_loc.c.street,
        c_loc.c.street_number,
        c_loc.c.street_supplement,
        c_loc.c.zip,
        c_loc.c.city,
        c_loc.c.country,
        c_loc.c.latitude,
        c_loc.c.longitude,
        details,
        contact.c.created,
        contact.c.modified,
    ]
    if binary:
        if dialect == "postgresql":
            columns.append(func.translate(func.encode(job_parameter.c.data, "base64"), "\n", ""))
        else:
            columns.append(func.hex(job_parameter.c.data))
    source = (
        job_parameter.join(parameter_def, parameter_def.c.ID == job_parameter.c.definition)
        .outerjoin(
            dc_value,
            and_(
                dc_value.c.definition == job_parameter.c.definition,
                dc_value.c.key == job_parameter.c.key,
            ),
        )
        .outerjoin(
            label,
            and_(
                label.c.kind == "dc_value",
                label.c.owner == dc_value.c.ID,
                label.c.field == "label",
                label.c.lang == tr.ENGLISH,
            ),
        )
        .outerjoin(own_loc, own_loc.c.ID == job_parameter.c.location)
        .outerjoin(contact, contact.c.ID == job_parameter.c.contact)
        .outerjoin(team, team.c.ID == contact.c.team)
        .outerjoin(c_loc, c_loc.c.ID == contact.c.location)
    )
    if dialect == "postgresql":
        agg = func.json_agg(func.json_build_array(*columns))
    else:
        agg = func.json_group_array(func.json_array(*columns))
    return select(agg).select_from(source).where(job_parameter.c.job == job.c.ID).scalar_subquery()


def query(ctx: Ctx, dialect: str, flt: Filter, binary: bool) -> Select[Any]:
    column, descending = SORTS[flt.sort]
    order = [column.desc() if descending else column.asc()]
    if flt.sort not in ("key", "-key"):
        order.append(job.c.key.asc())
    page = (
        select(job.c.ID.label("page_id"), func.count().over().label("total"))
        .where(visible(ctx), *flt.where)
        .order_by(*order)
        .offset(flt.offset)
        .limit(flt.limit)
        .subquery("page")
    )
    (t_en, on_t_en), (t_loc, on_t_loc) = _names(
        "job_template", "title", job.c.template, ctx.lang, "t"
    )
    (s_en, on_s_en), (s_loc, on_s_loc) = _names("status", "name", job.c.status, ctx.lang, "s")
    source = (
        page.join(job, job.c.ID == page.c.page_id)
        .join(t_en, on_t_en)
        .outerjoin(t_loc, on_t_loc)
        .join(s_en, on_s_en)
        .outerjoin(s_loc, on_s_loc)
        .outerjoin(users, users.c.ID == job.c.user)
        .outerjoin(groups, groups.c.ID == job.c.team)
    )
    return (
        select(
            page.c.total,
            job,
            t_en.c.text.label("template_en"),
            t_loc.c.text.label("template_local"),
            s_en.c.text.label("status_en"),
            s_loc.c.text.label("status_local"),
            users.c.email.label("user_email"),
            groups.c.name.label("team_name"),
            _params_column(dialect, binary).label("params"),
        )
        .select_from(source)
        .order_by(*order)
    )


def count_only(ctx: Ctx, flt: Filter) -> Select[Any]:
    return select(func.count()).select_from(job).where(visible(ctx), *flt.where)


def _location(p: list[Any], at: int) -> dict[str, Any] | None:
    if p[at] is None:
        return None
    keys = ("Street", "StreetNumber", "StreetSupplement", "Zip", "City", "CountryIsoCode")
    out: dict[str, Any] = dict(zip(keys, p[at + 1 : at + 7], strict=True))
    out["Latitude"], out["Longitude"] = p[at + 7], p[at + 8]
    return out


def _contact(p: list[Any], ctx: Ctx) -> dict[str, Any] | None:
    if p[18] is None:
        return None
    details = p[38]
    if isinstance(details, str):
        details = orjson.loads(details)
    ordered = sorted(decode(details), key=lambda d: d[0])
    return {
        "Reference": p[19],
        "LanguageCode": p[20],
        "Team": p[21],
        "Salutation": p[22] or "",
        "CompanyName": p[23],
        "FirstName": p[24],
        "Name": p[25],
        "Role": p[26],
        "DisplayName": p[27],
        "Remarks": p[28],
        "Location": _location(p, 29),
        "ContactDetails": [
            {"Name": d[1], "Type": d[2], "Value": d[3], "IsPreferred": bool(d[4])} for d in ordered
        ],
        "Created": format_datetime(p[39], ctx.tz),
        "Modified": format_datetime(p[40], ctx.tz),
    }


def _binary(raw: Any, dialect: str) -> str | None:
    if raw is None:
        return None
    if dialect == "postgresql":
        return str(raw)
    return b64(bytes.fromhex(str(raw)))


def render(row: Any, ctx: Ctx, dialect: str, binary: bool) -> dict[str, Any]:
    params = sorted(decode(row.params), key=lambda p: (p[0], p[1], p[2]))
    title: str | None = None
    out_params = []
    for p in params:
        kind = p[3]
        value, key = p[5], p[6]
        if kind == "Dropdown":
            value = p[7] if p[7] is not None else p[8]
        elif kind == "Multiselect":
            value = key
        contact_obj = _contact(p, ctx) if kind == "Contact" else None
        if kind == "Contact":
            key = contact_obj["Reference"] if contact_obj else None
        if kind in ("Image", "Signature"):
            value = _binary(p[41], dialect) if binary and len(p) > 41 else None
        if p[4] and title is None and value:
            title = value
        out_params.append(
            {
                "Name": p[1],
                "Value": value,
                "Key": key,
                "Variant": p[2],
                "Contact": contact_obj,
                "Location": _location(p, 9) if kind == "Location" else None,
            }
        )
    display_template = row.template_local or row.template_en
    return {
        "Key": row.key,
        "PlannedTime": format_datetime(row.planned, ctx.tz),
        "Duration": format_timespan(row.duration),
        "JobTemplateTitle": row.template_en,
        "JobTemplateId": row.template,
        "Team": row.team_name,
        "UserEmail": row.user_email,
        "Status": row.status_en,
        "Parameters": out_params,
        "StatusDisplayName": row.status_local or row.status_en,
        "JobTemplateDisplayTitle": display_template,
        "Title": title or display_template,
        "Created": format_datetime(row.created, ctx.tz),
        "Modified": format_datetime(row.modified, ctx.tz),
    }


def read(
    conn: Connection, ctx: Ctx, flt: Filter, binary: bool
) -> tuple[list[tuple[dict[str, Any], int]], int]:
    """A page of jobs as ``(wire object, rev)`` pairs, and the total count."""
    dialect = conn.dialect.name
    rows = list(conn.execute(query(ctx, dialect, flt, binary)))
    total = rows[0].total if rows else 0
    return [(render(r, ctx, dialect, binary), r.rev) for r in rows], total
