"""Addresses and GPS positions, owned by a contact or by one parameter value of a job.

A location has no identity of its own on the wire, so writing one replaces the owner's
previous location row. Coordinates stay as the client sent them: officina ships no
geocoder, so missing coordinates remain null rather than being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.changes import Actor
from officina.core.logged import delete_where, insert_row, update_where
from officina.goana.problems import Errors
from officina.goana.tables import location as loc_t
from officina.goana.wire import Field, Shape, join

LOCATION = Shape(
    "Location",
    (
        Field("Street", "str", 200, doc="street name"),
        Field("StreetNumber", "str", 50, doc="house number, e.g. 12/13"),
        Field("StreetSupplement", "str", 200, doc="addition such as a building"),
        Field("Zip", "str", 200, required=True, doc="postal code"),
        Field("City", "str", 200, required=True, doc="city"),
        Field("CountryIsoCode", "str", 2, required=True, doc="ISO 3166-1 alpha-2 code"),
        Field("Latitude", "float", doc="GPS latitude, -90 to 90"),
        Field("Longitude", "float", doc="GPS longitude, -180 to 180"),
    ),
    doc="An address or another known GPS position.",
)

COLUMNS = {
    "Street": "street",
    "StreetNumber": "street_number",
    "StreetSupplement": "street_supplement",
    "Zip": "zip",
    "City": "city",
    "CountryIsoCode": "country",
    "Latitude": "latitude",
    "Longitude": "longitude",
}
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def check(data: dict[str, Any], path: str, errors: Errors, complete: bool) -> None:
    """Validate a parsed location; ``complete`` when it must carry every mandatory field."""
    for name in ("Zip", "City", "CountryIsoCode"):
        value = data.get(name)
        if (complete or name in data) and (value is None or not str(value).strip()):
            errors.add(join(path, name), "is required")
    country = data.get("CountryIsoCode")
    if country and not _COUNTRY.match(country):
        errors.add(join(path, "CountryIsoCode"), "must be a two-letter ISO 3166-1 code")
    lat, lon = data.get("Latitude"), data.get("Longitude")
    if lat is not None and not -90 <= lat <= 90:
        errors.add(join(path, "Latitude"), "must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        errors.add(join(path, "Longitude"), "must be between -180 and 180")


def _values(data: dict[str, Any]) -> dict[str, Any]:
    out = {COLUMNS[k]: v for k, v in data.items() if k in COLUMNS}
    if out.get("country"):
        out["country"] = str(out["country"]).upper()
    return out


def save(conn: Connection, actor: Actor, data: dict[str, Any], existing: int | None) -> int:
    """Write a location; an existing row is changed in place (absent fields unchanged)."""
    values = _values(data)
    if existing is not None:
        if values:
            update_where(conn, actor, loc_t, loc_t.c.ID == existing, values)
        return existing
    return int(insert_row(conn, actor, loc_t, values))


def drop(conn: Connection, actor: Actor, ids: Iterable[int | None]) -> None:
    gone = [i for i in ids if i is not None]
    if gone:
        delete_where(conn, actor, loc_t, loc_t.c.ID.in_(gone))


def render(conn: Connection, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(loc_t).where(loc_t.c.ID.in_(wanted)))
    return {row.ID: as_wire(row._mapping) for row in rows}


def as_wire(row: Any) -> dict[str, Any]:
    return {wire: row[column] for wire, column in COLUMNS.items()}
