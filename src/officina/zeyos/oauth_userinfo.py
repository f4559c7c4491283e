"""``GET /oauth2/v1/userinfo``: the caller's OpenID Connect profile plus ZeyOS extensions.

Profile details (names, phone, birth date, address) come from the user's linked contact when
there is one; optional claims are left out rather than sent empty. ``groups`` and
``permissions`` list what the caller holds through active groups, one entry per group and per
distinct grant (a grant held through several groups is writable if any of them says so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.auth import Principal
from officina.core.schema import groups, permissions, users
from officina.zeyos.tables import table

LOCALES = {"de": "de-DE", "en": "en-US", "es": "es-ES"}


def _locale(lang: str) -> str:
    return LOCALES.get((lang or "en")[:2].lower(), "en-US")


def _contact_claims(conn: Connection, contact_id: int | None) -> dict[str, Any]:
    if contact_id is None:
        return {}
    contacts = table("contacts")
    row = conn.execute(select(contacts).where(contacts.c.ID == contact_id)).first()
    if row is None:
        return {}
    out: dict[str, Any] = {}
    first, last = (row.firstname or "").strip(), (row.lastname or "").strip()
    if first:
        out["given_name"] = first
    if last:
        out["family_name"] = last
    if first or last:
        out["name"] = f"{first} {last}".strip()
    if row.phone:
        out["phone_number"] = row.phone
    if row.birthdate is not None:
        day = dt.datetime.fromtimestamp(int(row.birthdate), dt.UTC).date()
        out["birthdate"] = day.isoformat()
    address = {
        "street_address": row.address or "",
        "locality": row.city or "",
        "region": row.region or "",
        "postal_code": row.postalcode or "",
        "country": row.country or "",
    }
    if any(address.values()):
        out["address"] = address
    return out


def _groups(conn: Connection, p: Principal) -> list[dict[str, Any]]:
    if not p.groups:
        return []
    rows = conn.execute(
        select(groups.c.ID, groups.c.name)
        .where(groups.c.ID.in_(list(p.groups)))
        .order_by(groups.c.ID)
    ).all()
    return [{"id": r.ID, "name": r.name, "writable": p.groups[r.ID]} for r in rows]


def _permissions(conn: Connection, p: Principal) -> list[dict[str, Any]]:
    if not p.groups:
        return []
    rows = conn.execute(
        select(
            permissions.c.identifier,
            permissions.c.fork,
            permissions.c.application,
            permissions.c.writable,
        ).where(permissions.c.group.in_(list(p.groups)))
    ).all()
    merged: dict[tuple[str, Any], bool] = {}
    for r in rows:
        if r.identifier:
            key: tuple[str, Any] = ("identifier", r.identifier)
        elif r.fork is not None:
            key = ("fork", r.fork)
        elif r.application is not None:
            key = ("application", r.application)
        else:
            continue
        merged[key] = merged.get(key, False) or bool(r.writable)
    ordered = sorted(merged.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))
    return [{kind: value, "writable": writable} for (kind, value), writable in ordered]


def userinfo(conn: Connection, p: Principal) -> dict[str, Any]:
    row = conn.execute(
        select(users.c.timezone, users.c.lastmodified).where(users.c.ID == p.user_id)
    ).one()
    data: dict[str, Any] = {
        "sub": str(p.user_id),
        "name": p.name,
        "preferred_username": p.name,
        "email": p.email,
        "zoneinfo": row.timezone or "UTC",
        "locale": _locale(p.lang),
        "nopublic": p.nopublic,
        "apionly": p.apionly,
        "updated_at": int(row.lastmodified),
    }
    data.update(_contact_claims(conn, p.contact))
    data["groups"] = _groups(conn, p)
    data["permissions"] = _permissions(conn, p)
    return data
