"""Writing jobs: add-or-change by Key, the template rules, assignment, merge semantics.

A job's template is fixed once the job exists (a job write never alters a shared template);
a job for a template that does not exist yet may bring the template's definition along (the
full shape), and both are written in the request's one transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core import translations as tr
from officina.core.changes import Actor
from officina.core.clock import now
from officina.core.logged import delete_where, insert_row, update_where
from officina.goana import changelog, job_params, statuses, team_refs, user_refs
from officina.goana import template_model as templates
from officina.goana.context import Ctx
from officina.goana.problems import Errors, Problem
from officina.goana.tables import job, template

DEFAULT_DURATION = 15 * 60


def find(conn: Connection, key: str) -> Any:
    """The job row, locked until the transaction ends so If-Match checks cannot race."""
    return conn.execute(select(job).where(job.c.key == key).with_for_update()).first()


def _template_error(conn: Connection, title: str) -> str:
    other = tr.find_translation(conn, templates.KIND, "title", title)
    if other is None:
        return (
            f"no job template has the English title {title[:200]!r}; send the full shape "
            "(every parameter with Type and Title) to create it"
        )
    owner, lang = other
    english = tr.read(conn, templates.KIND, [owner], "title")[owner].get(tr.ENGLISH)
    return (
        f"{title[:200]!r} is the {lang!r} title of template {owner}, whose English title is "
        f"{english!r}; templates are referred to by their English title"
    )


def _template_exists(conn: Connection, template_id: int) -> bool:
    return (
        conn.execute(select(template.c.ID).where(template.c.ID == template_id)).first() is not None
    )


def resolve_template(conn: Connection, ctx: Ctx, data: dict[str, Any]) -> int:
    """The template of a new job, creating it from a full-shape body when it is unknown."""
    by_id, title = data.get("JobTemplateId"), data.get("JobTemplateTitle")
    by_title = tr.find_english(conn, templates.KIND, "title", title) if title else None
    if by_id is not None:
        if not _template_exists(conn, by_id):
            raise Problem(400, errors={"JobTemplateId": [f"no job template with id {by_id}"]})
        if title and by_title != by_id:
            message = "JobTemplateTitle and JobTemplateId name different templates"
            raise Problem(400, errors={"JobTemplateId": [message], "JobTemplateTitle": [message]})
        return int(by_id)
    if not title:
        raise Problem(400, errors={"JobTemplateTitle": ["is required for a new job"]})
    if by_title is not None:
        return by_title
    items = data.get("Parameters") or []
    if not job_params.is_full_shape(items):
        raise Problem(400, errors={"JobTemplateTitle": [_template_error(conn, title)]})
    definition = {
        "Title": title,
        "ColorCode": data.get("ColorCode"),
        "CanCreateOnMobile": data.get("CanCreateOnMobile"),
        "CanEditOnMobile": data.get("CanEditOnMobile"),
        "Parameters": items,
    }
    definition = {k: v for k, v in definition.items() if v is not None}
    errors = Errors()
    templates.check_definition(ctx, definition, errors, creating=True)
    errors.check()
    ctx.need("templates.write")
    return templates.save(conn, ctx, definition, None)


def _assignment(
    conn: Connection, ctx: Ctx, data: dict[str, Any], values: dict[str, Any], errors: Errors
) -> None:
    if "UserEmail" in data:
        email = data["UserEmail"]
        values["user"] = (
            user_refs.assignable(conn, email, "UserEmail", errors)
            if email and email.strip()
            else None
        )
    if "Team" in data:
        values["team"] = team_refs.resolve(conn, ctx, data["Team"], "Team", errors)


def save(conn: Connection, ctx: Ctx, data: dict[str, Any]) -> tuple[int, bool]:
    """Add or change the job the body names; returns its row id and whether it was added."""
    key = data.get("Key")
    if key is not None and not key.strip():
        raise Problem(400, errors={"Key": ["may not be empty"]})
    current = find(conn, key) if key else None
    if current is not None:
        change(conn, ctx, current, data)
        return int(current.ID), False
    template_id = resolve_template(conn, ctx, data)
    errors = Errors()
    ts = now()
    values: dict[str, Any] = {
        "key": key or str(uuid.uuid4()),
        "template": template_id,
        "status": statuses.initial_id(conn),
        "planned": data.get("PlannedTime") if data.get("PlannedTime") is not None else ts,
        "duration": data.get("Duration") if data.get("Duration") is not None else DEFAULT_DURATION,
        "created": ts,
        "modified": ts,
    }
    _assignment(conn, ctx, data, values, errors)
    defs = job_params.definitions(conn, template_id)
    title = tr.read(conn, templates.KIND, [template_id], "title")[template_id].get(tr.ENGLISH, "")
    occurrences = job_params.check(conn, ctx, defs, title, data.get("Parameters") or [], errors)
    errors.check()
    actor = changelog.actor(ctx)
    job_id = int(insert_row(conn, actor, job, values))
    job_params.write(conn, actor, job_id, occurrences + job_params.defaults(defs, occurrences))
    return job_id, True


def change(conn: Connection, ctx: Ctx, current: Any, data: dict[str, Any]) -> None:
    """Merge a body into an existing job: absent properties stay as they are."""
    errors = Errors()
    by_id, title = data.get("JobTemplateId"), data.get("JobTemplateTitle")
    if by_id is not None and by_id != current.template:
        errors.add("JobTemplateId", "a job's template cannot be changed")
    if title:
        found = tr.find_english(conn, templates.KIND, "title", title)
        if found != current.template:
            errors.add("JobTemplateTitle", "a job's template cannot be changed")
    values: dict[str, Any] = {}
    if "PlannedTime" in data:
        values["planned"] = data["PlannedTime"] if data["PlannedTime"] is not None else now()
    if "Duration" in data:
        values["duration"] = data["Duration"] if data["Duration"] is not None else DEFAULT_DURATION
    _assignment(conn, ctx, data, values, errors)
    occurrences: list[job_params.Occurrence] = []
    if data.get("Parameters"):
        defs = job_params.definitions(conn, current.template)
        english = tr.read(conn, templates.KIND, [current.template], "title")[current.template]
        occurrences = job_params.check(
            conn, ctx, defs, english.get(tr.ENGLISH, ""), data["Parameters"], errors
        )
    errors.check()
    actor = changelog.actor(ctx)
    update_where(
        conn,
        actor,
        job,
        job.c.ID == current.ID,
        {"modified": now(), "rev": job.c.rev + 1, **values},
    )
    job_params.write(conn, actor, current.ID, occurrences)


def set_status(conn: Connection, actor: Actor, current: Any, status_id: int) -> None:
    update_where(
        conn,
        actor,
        job,
        job.c.ID == current.ID,
        {"status": status_id, "modified": now(), "rev": job.c.rev + 1},
    )


def remove(conn: Connection, actor: Actor, current: Any) -> None:
    """Delete a job with its values; the locations its values owned go with it."""
    from officina.goana import locations
    from officina.goana.tables import job_parameter

    owned = [
        r.location
        for r in conn.execute(
            select(job_parameter.c.location).where(job_parameter.c.job == current.ID)
        )
    ]
    # The job's values go with it (foreign key cascade), each with its own entry.
    delete_where(conn, actor, job, job.c.ID == current.ID)
    locations.drop(conn, actor, owned)
