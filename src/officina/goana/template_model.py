"""Job templates as stored: writing a definition (title, parameters, options) and reading it.

Titles, parameter titles, page titles and option labels are translated (core
``translations``); a write in language L changes only L, except that a field's first value
also becomes its English one. Parameters and options that jobs still use are retired or made
inactive instead of deleted, so existing jobs keep showing their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core import translations as tr
from officina.core.changes import Actor
from officina.core.clock import now
from officina.core.logged import delete_where, insert_row, update_where
from officina.goana import changelog, param_types
from officina.goana.context import Ctx
from officina.goana.problems import Errors, Problem
from officina.goana.tables import dc_value, job, job_parameter, parameter_def, template
from officina.goana.wire import Field, Shape, format_datetime, join

KIND = "job_template"
DEF_KIND = "parameter_def"
DCV_KIND = "dc_value"
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_COLOR = "#015167"

DC_VALUE = Shape(
    "DataCollectionValue",
    (
        Field("Key", "str", 100, required=True, doc="unique key of the option"),
        Field("ParentKey", "str", 100, doc="key of the parent option (one level)"),
        Field("Label", "str", 100, required=True, doc="text of the option (translated)"),
        Field("LabelTranslations", "map", 100, doc="every translation of Label"),
        Field("Value", "str", 200, doc="a value carried by the option"),
    ),
    doc="One selectable option of a dropdown or multiselect parameter.",
)

PARAM_DEF = Shape(
    "ParameterDefinition",
    (
        Field("Name", "str", 200, required=True, doc="identifying name within the template"),
        Field("Type", "str", 20, required=True, doc="parameter type"),
        Field("Title", "str", 100, required=True, doc="label shown to users (translated)"),
        Field("TitleTranslations", "map", 100, doc="every translation of Title"),
        Field("DefaultValue", "str", 100, doc="value a new job starts with"),
        Field("MinOcc", "int", doc="minimum number of occurrences"),
        Field("MaxOcc", "int", doc="maximum number of occurrences"),
        Field("Order", "int", doc="display order"),
        Field("DataCollectionValues", "list", item="object", shape=DC_VALUE, doc="options"),
        Field("UseAsJobTitle", "bool", doc="the value becomes the job's title"),
        Field("PageTitle", "str", 30, doc="section of the form (translated)"),
        Field("PageTitleTranslations", "map", 30, doc="every translation of PageTitle"),
    ),
    doc="The definition of one parameter of a job template.",
)

TEMPLATE = Shape(
    "JobTemplate",
    (
        Field("Id", "int", doc="template id (server-assigned)"),
        Field("Title", "str", 200, required=True, doc="title in the request language"),
        Field("TitleTranslations", "map", 200, doc="every translation, always with en"),
        Field("ColorCode", "str", 7, doc="colour of the job type, e.g. #CACACA"),
        Field("CanCreateOnMobile", "bool", doc="jobs may be created on the mobile app"),
        Field("CanEditOnMobile", "bool", doc="jobs may be edited on the mobile app"),
        Field("Parameters", "list", item="object", shape=PARAM_DEF, doc="parameters"),
        Field("Created", "datetime", read_only=True),
        Field("Modified", "datetime", read_only=True),
    ),
    doc="A job template: the form a job of this kind fills in.",
)


# -- writing -----------------------------------------------------------------------------------


def _check_map(ctx: Ctx, texts: dict[str, Any] | None, path: str, errors: Errors) -> None:
    for lang, text in (texts or {}).items():
        if lang not in ctx.langs:
            errors.add(f"{path}.{lang}", f"unsupported language; supported: {', '.join(ctx.langs)}")
        elif lang == tr.ENGLISH and not (text or "").strip():
            errors.add(f"{path}.{lang}", "English may not be empty")


def _translate(
    conn: Connection,
    ctx: Ctx,
    kind: str,
    owner: int,
    field: str,
    text: str | None,
    texts: dict[str, Any] | None,
) -> None:
    if text is not None and text.strip() and (not texts or ctx.lang not in texts):
        tr.write(conn, kind, owner, field, ctx.lang, text)
    if texts:
        tr.write_many(conn, kind, owner, field, texts)


def check_definition(
    ctx: Ctx, data: dict[str, Any], errors: Errors, creating: bool, path: str = ""
) -> None:
    """Validate the template part of a body (a template or a job's full shape)."""
    title_path = join(path, "Title") if path else "Title"
    if creating and not (data.get("Title") or "").strip():
        texts = data.get("TitleTranslations") or {}
        if not (texts.get(tr.ENGLISH) or "").strip() and not any(texts.values()):
            errors.add(title_path, "is required")
    elif "Title" in data and not (data.get("Title") or "").strip():
        errors.add(title_path, "may not be empty")
    _check_map(ctx, data.get("TitleTranslations"), join(path, "TitleTranslations"), errors)
    color = data.get("ColorCode")
    if color is not None and not COLOR.match(color):
        errors.add(join(path, "ColorCode"), "must be a colour like #CACACA")
    seen: set[str] = set()
    for i, p in enumerate(data.get("Parameters") or []):
        _check_param(ctx, p, join(path, f"Parameters[{i}]"), errors, seen)


def _check_param(ctx: Ctx, p: dict[str, Any], path: str, errors: Errors, seen: set[str]) -> None:
    name = (p.get("Name") or "").strip()
    if not name:
        errors.add(join(path, "Name"), "is required")
    elif name.lower() in seen:
        errors.add(join(path, "Name"), f"the name {name!r} is used twice")
    seen.add(name.lower())
    kind = param_types.lookup(p.get("Type") or "")
    if not p.get("Type"):
        errors.add(join(path, "Type"), "is required")
    elif kind is None:
        known = ", ".join(t.name for t in param_types.TYPES.values())
        errors.add(join(path, "Type"), f"unknown type; the types are: {known}")
    texts = p.get("TitleTranslations") or {}
    if not (p.get("Title") or "").strip() and not any((v or "").strip() for v in texts.values()):
        errors.add(join(path, "Title"), "is required")
    _check_map(ctx, p.get("TitleTranslations"), join(path, "TitleTranslations"), errors)
    _check_map(ctx, p.get("PageTitleTranslations"), join(path, "PageTitleTranslations"), errors)
    low: int = p["MinOcc"] if p.get("MinOcc") is not None else 0
    high: int = p["MaxOcc"] if p.get("MaxOcc") is not None else 1
    if low < 0:
        errors.add(join(path, "MinOcc"), "must be 0 or more")
    if high < max(low, 1):
        errors.add(join(path, "MaxOcc"), "must be at least 1 and at least MinOcc")
    if p.get("UseAsJobTitle") and kind is not None and not kind.titled:
        errors.add(join(path, "UseAsJobTitle"), f"a {kind.name} value cannot be a job title")
    options = p.get("DataCollectionValues") or []
    if options and kind is not None and not kind.options:
        errors.add(join(path, "DataCollectionValues"), f"a {kind.name} parameter has no options")
    keys: dict[str, str | None] = {}
    for j, o in enumerate(options):
        opath = join(path, f"DataCollectionValues[{j}]")
        key = (o.get("Key") or "").strip()
        if not key:
            errors.add(join(opath, "Key"), "is required")
        elif key in keys:
            errors.add(join(opath, "Key"), f"the key {key!r} is used twice")
        keys[key] = o.get("ParentKey")
        labelled = any((v or "").strip() for v in (o.get("LabelTranslations") or {}).values())
        if not (o.get("Label") or o.get("Value") or "").strip() and not labelled:
            errors.add(join(opath, "Label"), "is required when Value is empty")
        _check_map(ctx, o.get("LabelTranslations"), join(opath, "LabelTranslations"), errors)
    for j, o in enumerate(options):
        parent = o.get("ParentKey")
        if parent and (parent not in keys or keys[parent]):
            errors.add(
                join(path, f"DataCollectionValues[{j}].ParentKey"),
                "must name a top-level option of the same collection",
            )


def english_title(ctx: Ctx, data: dict[str, Any]) -> str | None:
    """The English title this write would leave a new template with."""
    texts = data.get("TitleTranslations") or {}
    if (texts.get(tr.ENGLISH) or "").strip():
        return str(texts[tr.ENGLISH])
    if (data.get("Title") or "").strip():
        return str(data["Title"])
    first = next((v for v in texts.values() if (v or "").strip()), None)
    return None if first is None else str(first)


def check_title_free(conn: Connection, ctx: Ctx, owner: int | None, data: dict[str, Any]) -> None:
    """409 when the English title this write leaves would be another template's."""
    texts = data.get("TitleTranslations") or {}
    if owner is None:
        english = english_title(ctx, data)
    elif (texts.get(tr.ENGLISH) or "").strip():
        english = texts[tr.ENGLISH]
    elif ctx.lang == tr.ENGLISH and (data.get("Title") or "").strip():
        english = data["Title"]
    else:
        return
    if english is None:
        return
    other = tr.find_english(conn, KIND, "title", english)
    if other is not None and other != owner:
        raise Problem(
            409,
            f"template {other} already has the English title {english!r}",
            {"Title": [f"the English title {english!r} is taken by template {other}"]},
        )


def save(conn: Connection, ctx: Ctx, data: dict[str, Any], owner: int | None) -> int:
    """Create (``owner`` None) or change a template from a validated body."""
    ts = now()
    values: dict[str, Any] = {}
    if "ColorCode" in data:
        values["color"] = data["ColorCode"] or DEFAULT_COLOR
    if "CanCreateOnMobile" in data:
        values["can_create_on_mobile"] = bool(data["CanCreateOnMobile"])
    if "CanEditOnMobile" in data:
        values["can_edit_on_mobile"] = bool(data["CanEditOnMobile"])
    check_title_free(conn, ctx, owner, data)
    actor = changelog.actor(ctx)
    if owner is None:
        owner = int(insert_row(conn, actor, template, {"created": ts, "modified": ts, **values}))
        english = english_title(ctx, data)
        texts = data.get("TitleTranslations") or {}
        if english is not None and not (texts.get(tr.ENGLISH) or "").strip():
            texts = {**texts, tr.ENGLISH: english}
        _translate(conn, ctx, KIND, owner, "title", data.get("Title"), texts)
    else:
        update_where(
            conn,
            actor,
            template,
            template.c.ID == owner,
            {"modified": ts, "rev": template.c.rev + 1, **values},
        )
        _translate(
            conn, ctx, KIND, owner, "title", data.get("Title"), data.get("TitleTranslations")
        )
    if "Parameters" in data:
        _save_params(conn, ctx, actor, owner, data.get("Parameters") or [])
    return owner


def _used_defs(conn: Connection, defs: Iterable[int]) -> set[int]:
    ids = list(defs)
    if not ids:
        return set()
    rows = conn.execute(
        select(job_parameter.c.definition).where(job_parameter.c.definition.in_(ids)).distinct()
    )
    return {int(r.definition) for r in rows}


def _save_params(
    conn: Connection, ctx: Ctx, actor: Actor, owner: int, params: list[dict[str, Any]]
) -> None:
    existing = {
        r.name_ci: r.ID
        for r in conn.execute(
            select(parameter_def.c.ID, parameter_def.c.name_ci).where(
                parameter_def.c.template == owner
            )
        )
    }
    kept: set[int] = set()
    for position, p in enumerate(params):
        kind = param_types.lookup(p["Type"])
        assert kind is not None
        name = p["Name"].strip()
        values = {
            "name": name,
            "name_ci": name.lower(),
            "type": kind.name,
            "default_value": p.get("DefaultValue"),
            "min_occ": p.get("MinOcc") if p.get("MinOcc") is not None else 0,
            "max_occ": p.get("MaxOcc") if p.get("MaxOcc") is not None else 1,
            "position": p.get("Order") if p.get("Order") is not None else position + 1,
            "use_as_job_title": bool(p.get("UseAsJobTitle")),
            "retired": False,
        }
        def_id = existing.get(name.lower())
        if def_id is None:
            def_id = int(insert_row(conn, actor, parameter_def, {"template": owner, **values}))
        else:
            update_where(conn, actor, parameter_def, parameter_def.c.ID == def_id, values)
        kept.add(def_id)
        _translate(conn, ctx, DEF_KIND, def_id, "title", p.get("Title"), p.get("TitleTranslations"))
        if "PageTitle" in p or "PageTitleTranslations" in p:
            _translate(
                conn,
                ctx,
                DEF_KIND,
                def_id,
                "page_title",
                p.get("PageTitle"),
                p.get("PageTitleTranslations"),
            )
        _save_options(conn, ctx, actor, def_id, p.get("DataCollectionValues") or [])
    dropped = set(existing.values()) - kept
    used = _used_defs(conn, dropped)
    if used:
        update_where(conn, actor, parameter_def, parameter_def.c.ID.in_(used), {"retired": True})
    unused = dropped - used
    if unused:
        gone = [
            r.ID
            for r in conn.execute(select(dc_value.c.ID).where(dc_value.c.definition.in_(unused)))
        ]
        tr.forget(conn, DCV_KIND, gone)
        tr.forget(conn, DEF_KIND, unused)
        delete_where(conn, actor, parameter_def, parameter_def.c.ID.in_(unused))


def _used_keys(conn: Connection, def_id: int) -> set[str]:
    rows = conn.execute(
        select(job_parameter.c.key)
        .where(job_parameter.c.definition == def_id, job_parameter.c.key.is_not(None))
        .distinct()
    )
    return {k for r in rows for k in str(r.key).split(";") if k}


def _save_options(
    conn: Connection, ctx: Ctx, actor: Actor, def_id: int, options: list[dict[str, Any]]
) -> None:
    existing = {
        r.key: r.ID
        for r in conn.execute(
            select(dc_value.c.ID, dc_value.c.key).where(dc_value.c.definition == def_id)
        )
    }
    kept: set[str] = set()
    for position, o in enumerate(options):
        key = o["Key"].strip()
        kept.add(key)
        label = o.get("Label") if (o.get("Label") or "").strip() else None
        if label is None and not any((o.get("LabelTranslations") or {}).values()):
            label = o.get("Value")
        values = {
            "parent_key": o.get("ParentKey") or None,
            "value": o.get("Value"),
            "position": position + 1,
            "inactive": False,
        }
        dcv = existing.get(key)
        if dcv is None:
            dcv = int(
                insert_row(conn, actor, dc_value, {"definition": def_id, "key": key, **values})
            )
        else:
            update_where(conn, actor, dc_value, dc_value.c.ID == dcv, values)
        _translate(conn, ctx, DCV_KIND, dcv, "label", label, o.get("LabelTranslations"))
    dropped = {k: i for k, i in existing.items() if k not in kept}
    if not dropped:
        return
    used = _used_keys(conn, def_id)
    inactive = [i for k, i in dropped.items() if k in used]
    gone = [i for k, i in dropped.items() if k not in used]
    if inactive:
        update_where(conn, actor, dc_value, dc_value.c.ID.in_(inactive), {"inactive": True})
    if gone:
        tr.forget(conn, DCV_KIND, gone)
        delete_where(conn, actor, dc_value, dc_value.c.ID.in_(gone))


def remove(conn: Connection, actor: Actor, owner: int) -> None:
    in_use = conn.execute(select(job.c.ID).where(job.c.template == owner).limit(1)).first()
    if in_use is not None:
        raise Problem(409, "jobs use this template; delete them first")
    defs = [
        r.ID
        for r in conn.execute(select(parameter_def.c.ID).where(parameter_def.c.template == owner))
    ]
    if defs:
        opts = [
            r.ID for r in conn.execute(select(dc_value.c.ID).where(dc_value.c.definition.in_(defs)))
        ]
        tr.forget(conn, DCV_KIND, opts)
        tr.forget(conn, DEF_KIND, defs)
    tr.forget(conn, KIND, [owner])
    # Its parameter definitions and their options go with it (foreign key cascade).
    delete_where(conn, actor, template, template.c.ID == owner)


# -- reading -----------------------------------------------------------------------------------


def render(conn: Connection, ctx: Ctx, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The wire form of several templates, in a fixed number of statements."""
    if not ids:
        return {}
    rows = list(conn.execute(select(template).where(template.c.ID.in_(ids))))
    defs = list(
        conn.execute(
            select(parameter_def)
            .where(parameter_def.c.template.in_(ids), parameter_def.c.retired.is_(False))
            .order_by(parameter_def.c.position, parameter_def.c.ID)
        )
    )
    def_ids = [d.ID for d in defs]
    opts = (
        list(
            conn.execute(
                select(dc_value)
                .where(dc_value.c.definition.in_(def_ids), dc_value.c.inactive.is_(False))
                .order_by(dc_value.c.position, dc_value.c.ID)
            )
        )
        if def_ids
        else []
    )
    titles = tr.read(conn, KIND, ids, "title")
    def_titles = tr.read(conn, DEF_KIND, def_ids, "title")
    page_titles = tr.read(conn, DEF_KIND, def_ids, "page_title")
    labels = tr.read(conn, DCV_KIND, [o.ID for o in opts], "label")
    by_def: dict[int, list[dict[str, Any]]] = {}
    for o in opts:
        by_def.setdefault(o.definition, []).append(
            {
                "Key": o.key,
                "ParentKey": o.parent_key,
                "Label": tr.pick(labels[o.ID], ctx.lang),
                "LabelTranslations": labels[o.ID],
                "Value": o.value,
            }
        )
    by_template: dict[int, list[dict[str, Any]]] = {}
    for d in defs:
        by_template.setdefault(d.template, []).append(
            {
                "Name": d.name,
                "Type": d.type,
                "Title": tr.pick(def_titles[d.ID], ctx.lang),
                "TitleTranslations": def_titles[d.ID],
                "DefaultValue": d.default_value,
                "MinOcc": d.min_occ,
                "MaxOcc": d.max_occ,
                "Order": d.position,
                "DataCollectionValues": by_def.get(d.ID, []),
                "UseAsJobTitle": bool(d.use_as_job_title),
                "PageTitle": tr.pick(page_titles[d.ID], ctx.lang),
                "PageTitleTranslations": page_titles[d.ID],
            }
        )
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        out[r.ID] = {
            "Id": r.ID,
            "Title": tr.pick(titles[r.ID], ctx.lang),
            "TitleTranslations": titles[r.ID],
            "ColorCode": r.color,
            "CanCreateOnMobile": bool(r.can_create_on_mobile),
            "CanEditOnMobile": bool(r.can_edit_on_mobile),
            "Parameters": by_template.get(r.ID, []),
            "Created": format_datetime(r.created, ctx.tz),
            "Modified": format_datetime(r.modified, ctx.tz),
            "_rev": r.rev,
        }
    return out
