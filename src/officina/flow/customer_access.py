"""Who may see and change which customers: the records face's rule for accounts.

A Flow customer is an account, so the projects face asks core's rights exactly as the records
face does: the ``accounts`` module permission (read to see customers, writable to change them)
and the account's owner group. A customer the caller may not see is answered like a missing
one, wherever it is named (path, ``ids[]``, search, a project's ``flowCustomer``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from officina.core import rights
from officina.core.auth import Principal
from officina.flow.customer_ids import account_of, accounts
from officina.flow.errors import forbidden, not_found


def seen_by(p: Principal) -> ColumnElement[bool] | None:
    """SQL condition on the accounts table: customers ``p`` may see (None = all)."""
    return rights.visible_rows(rights.ACCOUNTS, accounts(), p)


def require_read(p: Principal) -> None:
    if not p.may_read(rights.ACCOUNTS.read):
        raise forbidden("the accounts permission is required")


def require_write(p: Principal) -> None:
    if not p.may_write(rights.ACCOUNTS.write):
        raise forbidden("a writable accounts permission is required")


def visible_account(conn: Connection, customer_id: str, p: Principal) -> int | None:
    """The account behind a customer id, or None when it is missing or hidden from ``p``."""
    return account_of(conn, customer_id, seen_by(p))


def writable_account(conn: Connection, customer_id: str, p: Principal) -> int:
    """The account behind a customer ``p`` is about to change or delete.

    404 when ``p`` may not see it, 403 when ``p`` sees it but its owner group is not one ``p``
    writes for (the records face answers the same two cases the same way).
    """
    require_write(p)
    account = visible_account(conn, customer_id, p)
    if account is None:
        raise not_found("customer")
    acc = accounts()
    owner = conn.execute(select(acc.c.ownergroup).where(acc.c.ID == account)).scalar()
    if not rights.may_change_owned(p, owner):
        raise forbidden("the customer belongs to a group you may not write for")
    return account
