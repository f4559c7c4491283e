"""Extension values and tags: side data any entity row can carry.

Writes merge (extension values) or replace/add/remove (tags) inside the caller's transaction;
reads return plain strings, the way the vendor stores them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from officina.core.errors import bad_request, short
from officina.zeyos.tables import extdata, tagnames, tagrels
from officina.zeyos.values import INDEXED_TEXT_BYTES, as_float, fits_index

_BAD_NAME = re.compile(r"^\s|\s$|[\r\n]")
_BAD_TAG = re.compile(r"^[\s/]|[\s/]$|//|[\r\n]")


def _ext_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise bad_request(f"Invalid value for field 'extdata.{short(name)}'", field=f"extdata.{name}")


def validate_extdata(value: Any) -> dict[str, str | None]:
    """Checked before anything is written, so a bad entry changes nothing."""
    if isinstance(value, str) and value.strip() == "":
        return {}
    if not isinstance(value, dict):
        raise bad_request("Invalid value for field 'extdata'", field="extdata")
    out: dict[str, str | None] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name or _BAD_NAME.search(name) or len(name) > 200:
            raise bad_request(f"Invalid field 'extdata.{short(name)}'", field="extdata")
        text = None if item is None else _ext_text(name, item)
        if text is not None:
            _check_ext_text(name, text)
        out[name] = text
    return out


# Extension values share one index with their entity and name: the bound of indexed text.


def _check_ext_text(name: str, text: str) -> None:
    field = f"extdata.{name}"
    if "\x00" in text:
        raise bad_request(
            f"Invalid value for field '{short(field)}': NUL characters are not allowed", field=field
        )
    if not fits_index(text):
        raise bad_request(
            f"Invalid value for field '{short(field)}': at most {INDEXED_TEXT_BYTES} bytes of "
            "UTF-8",
            field=field,
        )


def validate_tags(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value] if value.strip() else []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise bad_request(f"Invalid value for field '{key}'", field=key)
    tags: list[str] = []
    for item in value:
        if (
            not isinstance(item, str)
            or not item
            or _BAD_TAG.search(item)
            or len(item) > 200
            or "\x00" in item
        ):
            raise bad_request(f"Invalid value for field '{key}'", field=key)
        if item not in tags:
            tags.append(item)
    return tags


def write_extdata(
    conn: Connection, entity: str, row_id: int, values: dict[str, str | None]
) -> dict[str, tuple[str | None, str | None]]:
    """Merge: listed names are set, ``None`` removes a name, unlisted names stay.

    Returns the names that changed with their values before and after (empty: no change),
    which the change log shows as part of the row.
    """
    changed: dict[str, tuple[str | None, str | None]] = {}
    for name, value in values.items():
        key = (
            (extdata.c.entity == entity) & (extdata.c["index"] == row_id) & (extdata.c.name == name)
        )
        current = conn.execute(select(extdata.c.value).where(key)).first()
        if value is None:
            if current is not None:
                conn.execute(delete(extdata).where(key))
                changed[name] = (current.value, None)
            continue
        number = as_float(value)
        if current is None:
            conn.execute(
                insert(extdata).values(
                    entity=entity, index=row_id, name=name, value=value, number=number
                )
            )
            changed[name] = (None, value)
        elif current.value != value:
            conn.execute(update(extdata).where(key).values(value=value, number=number))
            changed[name] = (current.value, value)
    return changed


def _tag_id(conn: Connection, entity: str, name: str) -> int:
    row = conn.execute(
        select(tagnames.c.ID).where(tagnames.c.entity == entity, tagnames.c.name == name)
    ).first()
    if row is not None:
        return int(row.ID)
    return int(
        conn.execute(
            insert(tagnames).values(entity=entity, name=name).returning(tagnames.c.ID)
        ).scalar_one()
    )


def read_tags(conn: Connection, entity: str, row_id: int) -> list[str]:
    rows = conn.execute(
        select(tagnames.c.name)
        .join(tagrels, tagrels.c.tag == tagnames.c.ID)
        .where(tagrels.c.entity == entity, tagrels.c["index"] == row_id)
    )
    return sort_tags([r.name for r in rows])


def sort_tags(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: (n.lower(), n))


def write_tags(
    conn: Connection,
    entity: str,
    row_id: int,
    replace: list[str] | None,
    add: list[str],
    remove: list[str],
) -> tuple[list[str], list[str]] | None:
    """Apply ``tags`` (replace), then ``+tags``, then ``-tags``; the tags before and after
    (sorted), or None when nothing changed."""
    current = set(read_tags(conn, entity, row_id))
    wanted = set(replace) if replace is not None else set(current)
    wanted |= set(add)
    wanted -= set(remove)
    if wanted == current:
        return None
    for name in current - wanted:
        tag = _tag_id(conn, entity, name)
        conn.execute(
            delete(tagrels).where(
                tagrels.c.entity == entity, tagrels.c["index"] == row_id, tagrels.c.tag == tag
            )
        )
    for name in wanted - current:
        conn.execute(
            insert(tagrels).values(entity=entity, index=row_id, tag=_tag_id(conn, entity, name))
        )
    return sort_tags(list(current)), sort_tags(list(wanted))


def read_extdata(conn: Connection, entity: str, row_id: int) -> dict[str, str]:
    rows = conn.execute(
        select(extdata.c.name, extdata.c.value)
        .where(extdata.c.entity == entity, extdata.c["index"] == row_id)
        .order_by(extdata.c.name)
    )
    return {r.name: r.value for r in rows}


def forget(conn: Connection, entity: str, row_ids: list[int]) -> None:
    """Drop the side data of deleted rows (no foreign key can do it: the link is polymorphic)."""
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start : start + 500]
        conn.execute(
            delete(extdata).where(extdata.c.entity == entity, extdata.c["index"].in_(chunk))
        )
        conn.execute(
            delete(tagrels).where(tagrels.c.entity == entity, tagrels.c["index"].in_(chunk))
        )
