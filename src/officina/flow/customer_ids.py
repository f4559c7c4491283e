"""How a records-face account gets a Flow customer id, and back.

A customer created through Flow keeps the uuid it was created with (``flow_customers``). An
account created through the records face has no such row until Flow writes to it; its Flow id
is then derived from its integer ID: sixteen zeros followed by the ID as sixteen hex digits.
Server-generated uuids (version 4) never start with sixteen zeros, so the two cannot collide;
clients may not choose such ids for new customers either.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from officina.core.schema import metadata
from officina.flow.tables import customers

DERIVED = re.compile(r"^0{16}([0-9A-F]{16})$")
# Account types that are Flow customers even before Flow wrote to them: prospects,
# customers, customers-and-suppliers. Suppliers, competitors and employees are not.
CUSTOMER_TYPES = (0, 1, 3)


def accounts() -> Any:
    """The records face's accounts table, shared through core's metadata."""
    return metadata.tables["accounts"]


def derived_id(account_id: int) -> str:
    return f"{'0' * 16}{account_id:016X}"


def is_reserved(customer_id: str) -> bool:
    return DERIVED.match(customer_id) is not None


def customer_uuid(account_id: int | None, stored: str | None) -> str | None:
    if stored is not None:
        return stored
    return None if account_id is None else derived_id(account_id)


def is_customer() -> ColumnElement[bool]:
    """SQL condition on accounts outer-joined to flow_customers: the row is a Flow customer."""
    acc = accounts()
    return or_(customers.c.account_id.is_not(None), acc.c.type.in_(CUSTOMER_TYPES))


def account_of(
    conn: Connection, customer_id: str, visible: ColumnElement[bool] | None = None
) -> int | None:
    """The account ID behind a Flow customer id, or None when there is no such customer (or,
    given ``visible``, a condition on the accounts table, none the caller may see)."""
    acc = accounts()
    match = DERIVED.match(customer_id)
    cond: ColumnElement[bool] = customers.c.uuid == customer_id
    if match:
        derived = and_(
            acc.c.ID == int(match.group(1), 16),
            customers.c.account_id.is_(None),
            acc.c.type.in_(CUSTOMER_TYPES),
        )
        cond = or_(cond, derived)
    if visible is not None:
        cond = and_(cond, visible)
    row = conn.execute(
        select(acc.c.ID)
        .select_from(acc.outerjoin(customers, customers.c.account_id == acc.c.ID))
        .where(cond)
        .limit(1)
    ).first()
    return None if row is None else int(row.ID)


def with_ids(ids: list[str]) -> ColumnElement[bool]:
    """SQL condition: the customer's Flow id is one of ``ids`` (stored or derived)."""
    acc = accounts()
    derived = [int(m.group(1), 16) for m in map(DERIVED.match, ids) if m]
    cond: ColumnElement[bool] = customers.c.uuid.in_(ids)
    if derived:
        cond = or_(cond, and_(customers.c.account_id.is_(None), acc.c.ID.in_(derived)))
    return cond
