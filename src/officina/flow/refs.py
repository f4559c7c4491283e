"""Checks that ids in a request body name existing objects of the right kind.

Each check returns ``(field, message)`` pairs instead of raising, so one answer can list every
bad reference of a body (``labels[2]: unknown label …``). One query per referenced kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.schema import groups, users
from officina.flow.tables import labels, price_categories, price_surcharges, project_roles

Errors = list[tuple[str, str]]


def _existing(conn: Connection, column: Any, ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return {r[0] for r in conn.execute(select(column).where(column.in_(wanted)))}


def _each(field: str, ids: list[str], known: set[str], what: str) -> Errors:
    return [(f"{field}[{i}]", f"unknown {what} {v}") for i, v in enumerate(ids) if v not in known]


def check_labels(conn: Connection, ids: list[str], field: str = "labels") -> Errors:
    return _each(field, ids, _existing(conn, labels.c.id, ids), "label")


def check_users(conn: Connection, ids: list[str], field: str) -> Errors:
    return _each(field, ids, _existing(conn, users.c.uuid, ids), "user")


def check_groups(conn: Connection, ids: list[str], field: str) -> Errors:
    return _each(field, ids, _existing(conn, groups.c.uuid, ids), "user group")


def user_exists(conn: Connection, uuid: str) -> bool:
    return bool(_existing(conn, users.c.uuid, [uuid]))


def role_exists(conn: Connection, role_id: str) -> bool:
    return bool(_existing(conn, project_roles.c.id, [role_id]))


def _price(
    conn: Connection, table: Any, value: str | None, field: str, what: str, current: str | None
) -> Errors:
    """A price category/surcharge reference: must exist; a disabled one only if kept as is."""
    if value is None:
        return []
    row = conn.execute(select(table.c.is_disabled).where(table.c.id == value)).first()
    if row is None:
        return [(field, f"unknown {what} {value}")]
    if row.is_disabled and value != current:
        return [(field, f"{what} {value} is disabled")]
    return []


def check_price_category(
    conn: Connection, value: str | None, field: str, current: str | None = None
) -> Errors:
    return _price(conn, price_categories, value, field, "price category", current)


def check_price_surcharge(
    conn: Connection, value: str | None, field: str, current: str | None = None
) -> Errors:
    return _price(conn, price_surcharges, value, field, "price surcharge", current)
