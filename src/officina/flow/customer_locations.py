"""Customer locations: the seed's "complete array" rule for PATCH.

On create every item is a new location (``number`` required). On PATCH each item names an
existing location by ``id`` or by ``number`` (a number nobody has yet creates a location); the
locations no item names are deleted. Numbers stay unique within a customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.changes import Actor
from officina.core.ids import new_uuid
from officina.core.logged import delete_where, insert_rows, update_where
from officina.flow.errors import invalid_many
from officina.flow.models import LocationIn
from officina.flow.refs import Errors
from officina.flow.tables import customer_locations as locations

FIELDS = ("number", "name", "street", "zip", "city", "country")


def _given(item: LocationIn) -> dict[str, Any]:
    return {f: getattr(item, f) for f in FIELDS if f in item.model_fields_set}


def _duplicates(numbers: list[tuple[int, str]]) -> Errors:
    seen: set[str] = set()
    errors: Errors = []
    for i, number in numbers:
        if number in seen:
            errors.append((f"locations[{i}].number", f"number {number!r} is used twice"))
        seen.add(number)
    return errors


def check_new_locations(conn: Connection, items: list[LocationIn]) -> Errors:
    """Create: each item needs a number; a given id must be unused."""
    errors: Errors = []
    for i, item in enumerate(items):
        if item.number is None:
            errors.append((f"locations[{i}].number", "is required for a new location"))
    ids = [item.id for item in items if item.id is not None]
    if ids:
        used = {r[0] for r in conn.execute(select(locations.c.id).where(locations.c.id.in_(ids)))}
        errors += [
            (f"locations[{i}].id", "already used")
            for i, item in enumerate(items)
            if item.id in used
        ]
        errors += _id_repeats(items)
    errors += _duplicates([(i, item.number) for i, item in enumerate(items) if item.number])
    return errors


def _id_repeats(items: list[LocationIn]) -> Errors:
    seen: set[str] = set()
    errors: Errors = []
    for i, item in enumerate(items):
        if item.id is not None and item.id in seen:
            errors.append((f"locations[{i}].id", "appears twice"))
        if item.id is not None:
            seen.add(item.id)
    return errors


def apply_locations(
    conn: Connection, account_id: int, items: list[LocationIn], actor: Actor, creating: bool
) -> None:
    if creating:
        if items:
            insert_rows(
                conn,
                actor,
                locations,
                [
                    {
                        "id": item.id or new_uuid(),
                        "account_id": account_id,
                        **{f: getattr(item, f) or "" for f in FIELDS},
                    }
                    for item in items
                ],
            )
        return
    existing = {
        r.id: r for r in conn.execute(select(locations).where(locations.c.account_id == account_id))
    }
    by_number = {r.number: r.id for r in existing.values()}
    errors: Errors = []
    matched: set[str] = set()
    updates: list[tuple[str, dict[str, Any]]] = []
    creates: list[dict[str, Any]] = []
    final_numbers: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        target: str | None
        if item.id is not None:
            if item.id not in existing:
                errors.append((f"locations[{i}].id", "unknown location"))
                continue
            target = item.id
        elif item.number is not None:
            target = by_number.get(item.number)
        else:
            errors.append((f"locations[{i}]", "either id or number has to be given"))
            continue
        if target is None:
            fields = {f: getattr(item, f) or "" for f in FIELDS}
            creates.append({"id": new_uuid(), "account_id": account_id, **fields})
            final_numbers.append((i, str(item.number)))
            continue
        if target in matched:
            errors.append((f"locations[{i}]", "names a location an earlier item already named"))
            continue
        matched.add(target)
        changes = _given(item)
        updates.append((target, changes))
        final_numbers.append((i, changes.get("number", existing[target].number)))
    errors += _duplicates(final_numbers)
    if errors:
        raise invalid_many(errors)
    gone = [lid for lid in existing if lid not in matched]
    if gone:
        delete_where(conn, actor, locations, locations.c.id.in_(gone))
    for target, changes in updates:
        if changes:
            update_where(conn, actor, locations, locations.c.id == target, changes)
    insert_rows(conn, actor, locations, creates)
