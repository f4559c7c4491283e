"""Parameter values of a job: checked against the template, merged by (Name, Variant).

A value is written in the form its type wants (option keys, a contact, a location, image
bytes, plain text); everything is checked before anything is written, so a request with one
bad value changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core import translations as tr
from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, update_where
from officina.goana import locations, param_types
from officina.goana.context import Ctx
from officina.goana.problems import Errors
from officina.goana.tables import dc_value, job_parameter, parameter_def
from officina.goana.wire import join, parse_base64


@dataclass
class Definition:
    id: int
    name: str
    type: param_types.ParamType
    max_occ: int
    default: str | None
    options: dict[str, str | None] = field(default_factory=dict)  # key -> value
    labels: dict[str, str] = field(default_factory=dict)  # normalised English label -> key


def definitions(conn: Connection, template_id: int) -> dict[str, Definition]:
    """The template's current parameter definitions, by lower-cased name."""
    rows = list(
        conn.execute(
            select(parameter_def).where(
                parameter_def.c.template == template_id, parameter_def.c.retired.is_(False)
            )
        )
    )
    defs = {
        r.name_ci: Definition(
            r.ID,
            r.name,
            param_types.lookup(r.type) or param_types.TYPES["text"],
            r.max_occ,
            r.default_value,
        )
        for r in rows
    }
    by_id = {d.id: d for d in defs.values()}
    if by_id:
        opts = list(
            conn.execute(
                select(
                    dc_value.c.ID, dc_value.c.definition, dc_value.c.key, dc_value.c.value
                ).where(dc_value.c.definition.in_(list(by_id)), dc_value.c.inactive.is_(False))
            )
        )
        labels = tr.read(conn, "dc_value", [o.ID for o in opts], "label")
        for o in opts:
            d = by_id[o.definition]
            d.options[o.key] = o.value
            english = labels[o.ID].get(tr.ENGLISH)
            if english:
                d.labels.setdefault(tr.normalize(english), o.key)
    return defs


@dataclass
class Occurrence:
    """One checked value, ready to write."""

    definition: Definition
    variant: int
    sent: dict[str, Any]
    value: str | None = None
    key: str | None = None
    data: bytes | None = None
    contact: int | None = None
    remove: bool = False


def check(
    conn: Connection,
    ctx: Ctx,
    defs: dict[str, Definition],
    template_title: str,
    items: list[dict[str, Any]],
    errors: Errors,
) -> list[Occurrence]:
    from officina.goana import contacts

    out: list[Occurrence] = []
    seen: set[tuple[str, int]] = set()
    for i, item in enumerate(items):
        path = f"Parameters[{i}]"
        name = (item.get("Name") or "").strip()
        if not name:
            errors.add(join(path, "Name"), "is required")
            continue
        d = defs.get(name.lower())
        if d is None:
            errors.add(
                join(path, "Name"), f"template {template_title!r} has no parameter {name[:200]!r}"
            )
            continue
        variant: int = item["Variant"] if item.get("Variant") is not None else 1
        if not 1 <= variant <= d.max_occ:
            errors.add(join(path, "Variant"), f"must be between 1 and {d.max_occ} (MaxOcc)")
            continue
        if (d.name, variant) in seen:
            errors.add(join(path, "Variant"), f"{d.name} variant {variant} is given twice")
            continue
        seen.add((d.name, variant))
        occ = Occurrence(d, variant, item)
        kind = d.type
        if all(item.get(k) is None for k in ("Value", "Key", "Contact", "Location")):
            occ.remove = True
            out.append(occ)
            continue
        if item.get("Contact") is not None and kind.name != "Contact":
            errors.add(join(path, "Contact"), "only Contact parameters take a contact")
        if item.get("Location") is not None and kind.name != "Location":
            errors.add(join(path, "Location"), "only Location parameters take a location")
        if item.get("Key") is not None and not (kind.options or kind.name == "Contact"):
            errors.add(join(path, "Key"), "only option and Contact parameters take a Key")
        value, key = item.get("Value"), item.get("Key")
        if kind.name == "Dropdown":
            if key is None and value is not None:
                key = _option_by_value(d, value)
                if key is None:
                    errors.add(join(path, "Value"), "matches none of the options")
            elif key is not None and key not in d.options:
                errors.add(join(path, "Key"), f"{key[:100]!r} is not one of the allowed keys")
            occ.key = key
        elif kind.name == "Multiselect":
            chosen = [k for k in (key if key is not None else value or "").split(";") if k]
            bad = [k for k in chosen if k not in d.options]
            if bad:
                errors.add(join(path, "Key"), f"{bad[0][:100]!r} is not one of the allowed keys")
            occ.key = ";".join(chosen)
        elif kind.name == "Contact":
            if item.get("Contact") is not None:
                occ.contact = contacts.upsert(
                    conn, ctx, item["Contact"], join(path, "Contact"), errors
                )
            elif key is not None:
                occ.contact = contacts.find(conn, key)
                if occ.contact is None:
                    errors.add(join(path, "Key"), f"no contact with the reference {key[:200]!r}")
        elif kind.name == "Location":
            if item.get("Location") is not None:
                locations.check(item["Location"], join(path, "Location"), errors, complete=True)
        elif kind.binary:
            occ.data = parse_base64(value) if value is not None else None
            if value is not None and occ.data is None:
                errors.add(join(path, "Value"), "must be base64-encoded bytes")
        elif kind.name == "Number" and value is not None:
            if not param_types.NUMBER.match(value.strip()):
                errors.add(join(path, "Value"), "must be a number with . as decimal separator")
            occ.value = value.strip()
        elif kind.name == "Date" and value is not None:
            if not param_types.DATE.match(value.strip()):
                errors.add(join(path, "Value"), "must be a date like 2024-03-05")
            occ.value = value.strip()
        else:
            occ.value = value
        out.append(occ)
    return out


def _option_by_value(d: Definition, value: str) -> str | None:
    wanted = tr.normalize(value)
    for key, option_value in d.options.items():
        if option_value is not None and tr.normalize(option_value) == wanted:
            return key
    return d.labels.get(wanted)


def defaults(defs: dict[str, Definition], given: list[Occurrence]) -> list[Occurrence]:
    """Variant 1 of every parameter with a default value that the new job does not mention."""
    named = {o.definition.id for o in given}
    extra = []
    for d in defs.values():
        if d.default is not None and d.id not in named:
            occ = Occurrence(d, 1, {"Value": d.default})
            occ.value = d.default
            extra.append(occ)
    return extra


def write(conn: Connection, actor: Actor, job_id: int, occurrences: list[Occurrence]) -> None:
    """Merge occurrences into the job: each replaces its (Name, Variant), others stay."""
    for occ in occurrences:
        row = conn.execute(
            select(job_parameter.c.ID, job_parameter.c.location).where(
                job_parameter.c.job == job_id,
                job_parameter.c.definition == occ.definition.id,
                job_parameter.c.variant == occ.variant,
            )
        ).first()
        if occ.remove:
            if row is not None:
                delete_where(conn, actor, job_parameter, job_parameter.c.ID == row.ID)
                locations.drop(conn, actor, [row.location])
            continue
        sent = occ.sent
        values: dict[str, Any] = {}
        kind = occ.definition.type
        if kind.name == "Location":
            if sent.get("Location") is not None:
                existing = row.location if row is not None else None
                values["location"] = locations.save(conn, actor, sent["Location"], existing)
        elif kind.name == "Contact":
            if occ.contact is not None:
                values["contact"] = occ.contact
                values["key"] = None
        elif kind.options:
            values["key"] = occ.key
        elif kind.binary:
            values["data"] = occ.data
        elif "Value" in sent:
            values["value"] = occ.value
        if row is None:
            insert_row(
                conn,
                actor,
                job_parameter,
                {"job": job_id, "definition": occ.definition.id, "variant": occ.variant, **values},
            )
        elif values:
            update_where(conn, actor, job_parameter, job_parameter.c.ID == row.ID, values)


def is_full_shape(items: list[dict[str, Any]]) -> bool:
    """Does every parameter carry its definition (Type and Title)?"""
    return bool(items) and all(i.get("Type") and i.get("Title") for i in items)
