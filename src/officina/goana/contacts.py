"""Contacts: people and companies jobs refer to, identified by their Reference.

Kept in this face's own tables: the records face's CRM contacts carry a different model
(no reference, no team, addresses of their own), and faces do not reach into each other.
A contact with a team is visible to that team's members and to users whose roles cover
contacts or jobs; a contact without a team is visible to everyone who may read contacts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import func, or_, select, true
from sqlalchemy.engine import Connection
from starlette.responses import Response

from officina.core import languages
from officina.core.clock import now
from officina.core.logged import delete_where, insert_row, update_where
from officina.core.schema import groups
from officina.goana import changelog, locations, team_refs
from officina.goana.context import Ctx
from officina.goana.paging import PAGING, page_headers, page_of, total_of
from officina.goana.problems import Errors, Problem
from officina.goana.routing import Call, Param, Route, check_if_match, json_response, tagged
from officina.goana.tables import contact, contact_detail, job_parameter, location
from officina.goana.wire import Field, Shape, format_datetime, join

CONTACT_DETAIL = Shape(
    "ContactDetail",
    (
        Field("Name", "str", 100, doc="description, e.g. Work-Email"),
        Field("Type", "str", 10, required=True, doc="kind of detail: Email, Phone, …"),
        Field("Value", "str", 200, required=True, doc="the address or number"),
        Field("IsPreferred", "bool", doc="the preferred way"),
    ),
    doc="One way of reaching a contact.",
)

CONTACT = Shape(
    "Contact",
    (
        Field("Reference", "str", 200, required=True, doc="unique reference number"),
        Field("LanguageCode", "str", 2, doc="the contact's language (ISO 639-1)"),
        Field("Team", "str", 200, doc="team that may see the contact; null = all"),
        Field("Salutation", "str", 100, doc="empty, Mr or Mrs"),
        Field("CompanyName", "str", 200, doc="company name"),
        Field("FirstName", "str", 200, doc="first name"),
        Field("Name", "str", 200, doc="surname"),
        Field("Role", "str", 200, doc="role"),
        Field("DisplayName", "str", 500, doc="computed from the names unless given"),
        Field("Remarks", "str", doc="free remarks"),
        Field("Location", "object", shape=locations.LOCATION, required=True, doc="address"),
        Field("ContactDetails", "list", item="object", shape=CONTACT_DETAIL, doc="ways to reach"),
        Field("Created", "datetime", read_only=True),
        Field("Modified", "datetime", read_only=True),
    ),
    doc="A person or company used in jobs.",
)

COLUMNS = {
    "LanguageCode": "lang",
    "CompanyName": "company_name",
    "FirstName": "first_name",
    "Name": "name",
    "Role": "role",
    "Remarks": "remarks",
}
SALUTATIONS = {"": "", "mr": "Mr", "mrs": "Mrs"}
DETAIL_TYPES = {"email": "Email", "phone": "Phone"}


def find(conn: Connection, reference: str) -> int | None:
    row = conn.execute(select(contact.c.ID).where(contact.c.reference == reference)).first()
    return None if row is None else int(row.ID)


def _visible(ctx: Ctx) -> Any:
    if ctx.can("contacts.read") and (ctx.is_admin or ctx.roles & {"Contacts", "Jobs"}):
        return true()
    teams = list(ctx.principal.groups)
    return or_(contact.c.team.is_(None), contact.c.team.in_(teams or [0]))


def _default_language(ctx: Ctx) -> str | None:
    return ctx.principal.lang[:2].lower() if ctx.principal.lang else None


def _display(values: dict[str, Any]) -> str:
    parts = (values.get("company_name"), values.get("first_name"), values.get("name"))
    return " ".join(p.strip() for p in parts if p and p.strip())


def _check(
    ctx: Ctx, data: dict[str, Any], path: str, errors: Errors, current: Any | None
) -> dict[str, Any]:
    """Validate a parsed contact; returns the column values it sets."""
    values: dict[str, Any] = {COLUMNS[k]: v for k, v in data.items() if k in COLUMNS}
    ref_path = join(path, "Reference")
    blank = not (data.get("Reference") or "").strip()
    if blank and (current is None or "Reference" in data) and ref_path not in errors.found:
        errors.add(ref_path, "is required")
    if "LanguageCode" in data:
        code = (data["LanguageCode"] or "").strip().lower()
        if code and code not in languages.supported(ctx.settings):
            errors.add(join(path, "LanguageCode"), "is not a language of this instance")
        values["lang"] = code or _default_language(ctx)
    if "Salutation" in data:
        canonical = SALUTATIONS.get((data["Salutation"] or "").strip().lower())
        if canonical is None:
            errors.add(join(path, "Salutation"), "must be empty, Mr or Mrs")
        values["salutation"] = canonical or None
    company = values.get("company_name", current.company_name if current else None)
    surname = values.get("name", current.name if current else None)
    if not (company or "").strip() and not (surname or "").strip():
        errors.add(join(path, "Name"), "CompanyName or Name is required")
    if (current is None or "Location" in data) and data.get("Location") is None:
        errors.add(join(path, "Location"), "is required")
    if data.get("Location") is not None:
        locations.check(data["Location"], join(path, "Location"), errors, complete=current is None)
    for i, d in enumerate(data.get("ContactDetails") or []):
        dpath = join(path, f"ContactDetails[{i}]")
        if dpath in errors.found:  # not an object at all
            continue
        kind = (d.get("Type") or "").strip()
        if not kind:
            errors.add(join(dpath, "Type"), "is required")
        if not (d.get("Value") or "").strip():
            errors.add(join(dpath, "Value"), "is required")
        elif DETAIL_TYPES.get(kind.lower()) == "Email" and d["Value"].count("@") != 1:
            errors.add(join(dpath, "Value"), "must be an e-mail address")
    return values


def upsert(
    conn: Connection, ctx: Ctx, data: dict[str, Any], path: str, errors: Errors
) -> int | None:
    """Add or change the contact with the body's Reference (as ``POST /contacts`` does)."""
    reference = (data.get("Reference") or "").strip()
    if not reference:
        _check(ctx, data, path, errors, None)
        return None
    current = conn.execute(
        select(contact).where(contact.c.reference == reference).with_for_update()
    ).first()
    return _save(conn, ctx, data, path, errors, current, reference)


def _save(
    conn: Connection,
    ctx: Ctx,
    data: dict[str, Any],
    path: str,
    errors: Errors,
    current: Any | None,
    reference: str,
) -> int | None:
    values = _check(ctx, data, path, errors, current)
    if "Team" in data:
        values["team"] = team_refs.resolve(conn, ctx, data["Team"], join(path, "Team"), errors)
    if errors:
        return None
    if current is None and "lang" not in values:
        values["lang"] = _default_language(ctx)
    merged = {**(dict(current._mapping) if current else {}), **values}
    computed = _display(merged)
    if "DisplayName" in data:
        # A name equal to the computed one overrides nothing (a re-posted GET body sends it),
        # so it keeps following the names.
        given = (data["DisplayName"] or "").strip()
        values["display_name"] = given if given and given != computed else None
        merged["display_name"] = values["display_name"]
    values["display_sort"] = merged.get("display_name") or computed
    ts = now()
    actor = changelog.actor(ctx)
    if data.get("Location") is not None:
        values["location"] = locations.save(
            conn, actor, data["Location"], current.location if current else None
        )
    values["reference"] = reference
    if current is None:
        contact_id = int(
            insert_row(conn, actor, contact, {"created": ts, "modified": ts, **values})
        )
    else:
        contact_id = int(current.ID)
        update_where(
            conn,
            actor,
            contact,
            contact.c.ID == contact_id,
            {"modified": ts, "rev": contact.c.rev + 1, **values},
        )
    if "ContactDetails" in data:
        delete_where(conn, actor, contact_detail, contact_detail.c.contact == contact_id)
        for i, d in enumerate(data["ContactDetails"] or []):
            kind = d["Type"].strip()
            insert_row(
                conn,
                actor,
                contact_detail,
                dict(
                    contact=contact_id,
                    position=i + 1,
                    name=d.get("Name"),
                    type=DETAIL_TYPES.get(kind.lower(), kind),
                    value=d["Value"].strip(),
                    is_preferred=bool(d.get("IsPreferred")),
                ),
            )
    return contact_id


def render(conn: Connection, ctx: Ctx, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = list(
        conn.execute(
            select(contact, groups.c.name.label("team_name"))
            .select_from(contact.outerjoin(groups, groups.c.ID == contact.c.team))
            .where(contact.c.ID.in_(ids))
        )
    )
    places = locations.render(conn, [r.location for r in rows])
    details: dict[int, list[dict[str, Any]]] = {}
    for d in conn.execute(
        select(contact_detail)
        .where(contact_detail.c.contact.in_(ids))
        .order_by(contact_detail.c.position)
    ):
        details.setdefault(d.contact, []).append(
            {"Name": d.name, "Type": d.type, "Value": d.value, "IsPreferred": bool(d.is_preferred)}
        )
    return {
        r.ID: {
            "Reference": r.reference,
            "LanguageCode": r.lang,
            "Team": r.team_name,
            "Salutation": r.salutation or "",
            "CompanyName": r.company_name,
            "FirstName": r.first_name,
            "Name": r.name,
            "Role": r.role,
            "DisplayName": r.display_sort,
            "Remarks": r.remarks,
            "Location": places.get(r.location) if r.location else None,
            "ContactDetails": details.get(r.ID, []),
            "Created": format_datetime(r.created, ctx.tz),
            "Modified": format_datetime(r.modified, ctx.tz),
            "_rev": r.rev,
        }
        for r in rows
    }


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _current(conn: Connection, call: Call, reference: str, lock: bool = False) -> Any:
    query = select(contact).where(contact.c.reference == reference, _visible(call.ctx))
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise Problem(404, f"no contact with the reference {reference[:200]!r}")
    return row


def _filters(call: Call) -> list[Any]:
    """The list's conditions; a repeated parameter ORs its values."""
    where = [_visible(call.ctx)]
    if (q := call.arg("q")) is not None:
        text = q.strip().lower()
        columns = (
            contact.c.reference,
            contact.c.display_sort,
            contact.c.company_name,
            contact.c.first_name,
            contact.c.name,
        )
        where.append(
            or_(
                *(func.lower(func.coalesce(c, "")).contains(text, autoescape=True) for c in columns)
            )
        )
    if teams := call.args("team"):
        named = select(groups.c.ID).where(
            groups.c.name_ci.in_([t.strip().lower() for t in teams]), team_refs.is_team_clause()
        )
        where.append(contact.c.team.in_(named))
    if refs := call.args("reference"):
        where.append(contact.c.reference.in_(refs))
    if zips := call.args("zip"):
        where.append(location.c.zip.in_([z.strip() for z in zips]))
    if cities := call.args("city"):
        where.append(func.lower(location.c.city).in_([c.strip().lower() for c in cities]))
    if (since := call.when("modifiedSince")) is not None:
        where.append(contact.c.modified >= since)
    return where


def list_contacts(call: Call) -> Response:
    call.ctx.need("contacts.read")
    page = page_of(call)
    where = _filters(call)
    source = contact.outerjoin(location, location.c.ID == contact.c.location)
    query = (
        select(contact.c.ID, func.count().over().label("total"))
        .select_from(source)
        .where(*where)
        .order_by(contact.c.display_sort, contact.c.reference)
        .offset(page.offset)
        .limit(page.limit)
    )
    with call.ctx.store.read() as conn:
        rows = list(conn.execute(query))

        def count() -> int:
            counting = select(func.count()).select_from(source).where(*where)
            return int(conn.execute(counting).scalar_one())

        total = total_of(rows, page, count)
        found = render(conn, call.ctx, [r.ID for r in rows])
    body = [_public(found[r.ID]) for r in rows]
    return json_response(body, headers=page_headers(call, page, total))


def get_contact(call: Call) -> Response:
    call.ctx.need("contacts.read")
    with call.ctx.store.read() as conn:
        row = _current(conn, call, call.params["reference"])
        data = render(conn, call.ctx, [row.ID])[row.ID]
    return tagged(_public(data), data["_rev"], call)


def _parsed(call: Call) -> tuple[dict[str, Any], Errors]:
    """The body and the errors found so far; the rules add theirs before anyone answers."""
    reader = call.reader()
    return reader.object(CONTACT, call.body), reader.errors


def post_contact(call: Call) -> Response:
    call.ctx.need("contacts.write")
    data, errors = _parsed(call)
    reference = (data.get("Reference") or "").strip()
    if not reference:
        _check(call.ctx, data, "", errors, None)
        errors.check()
    with call.ctx.store.write() as conn:
        current = conn.execute(
            select(contact).where(contact.c.reference == reference).with_for_update()
        ).first()
        if current is not None:
            check_if_match(call, current.rev)
        contact_id = _save(conn, call.ctx, data, "", errors, current, reference)
        errors.check()
        assert contact_id is not None
        result = render(conn, call.ctx, [contact_id])[contact_id]
    if current is None:
        location = f"{call.base}/contacts/{quote(reference, safe='')}"
        return tagged(_public(result), result["_rev"], call, 201, Location=location)
    return tagged(_public(result), result["_rev"], call)


def put_contact(call: Call) -> Response:
    call.ctx.need("contacts.write")
    reference = call.params["reference"]
    data, errors = _parsed(call)
    with call.ctx.store.write() as conn:
        current = _current(conn, call, reference, lock=True)
        check_if_match(call, current.rev)
        new_ref = (data.get("Reference") or reference).strip()
        if new_ref != reference and find(conn, new_ref) is not None:
            raise Problem(
                409, f"the reference {new_ref[:200]!r} is taken", {"Reference": ["is taken"]}
            )
        contact_id = _save(conn, call.ctx, data, "", errors, current, new_ref)
        errors.check()
        assert contact_id is not None
        result = render(conn, call.ctx, [contact_id])[contact_id]
    return tagged(_public(result), result["_rev"], call)


def delete_contact(call: Call) -> Response:
    call.ctx.need("contacts.write")
    with call.ctx.store.write() as conn:
        current = _current(conn, call, call.params["reference"], lock=True)
        check_if_match(call, current.rev)
        used = conn.execute(
            select(job_parameter.c.ID).where(job_parameter.c.contact == current.ID).limit(1)
        ).first()
        if used is not None:
            raise Problem(409, "jobs use this contact")
        actor = changelog.actor(call.ctx)
        delete_where(conn, actor, contact, contact.c.ID == current.ID)
        locations.drop(conn, actor, [current.location])
    return Response(status_code=204)


def routes() -> list[Route]:
    filters = (
        Param("q", "text in reference or names"),
        Param("team", "team name"),
        Param("zip", "postal code"),
        Param("city", "city"),
        Param("reference", "reference"),
        Param("modifiedSince", "changed at or after"),
        *PAGING,
    )
    return [
        Route(
            "GET",
            "/contacts",
            list_contacts,
            "List contacts",
            returns=CONTACT,
            many=True,
            codes=(200, 400, 401, 403),
            query=filters,
        ),
        Route(
            "GET",
            "/contacts/{reference:path}",
            get_contact,
            "One contact",
            returns=CONTACT,
            codes=(200, 304, 401, 403, 404),
        ),
        Route(
            "POST",
            "/contacts",
            post_contact,
            "Add a contact, or change the one with this Reference",
            body=CONTACT,
            returns=CONTACT,
            codes=(200, 201, 400, 401, 403, 412, 413, 415),
        ),
        Route(
            "PUT",
            "/contacts/{reference:path}",
            put_contact,
            "Change a contact",
            body=CONTACT,
            returns=CONTACT,
            codes=(200, 400, 401, 403, 404, 409, 412, 413, 415),
        ),
        Route(
            "DELETE",
            "/contacts/{reference:path}",
            delete_contact,
            "Delete a contact no job uses",
            codes=(204, 401, 403, 404, 409, 412),
        ),
    ]
