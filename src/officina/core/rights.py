"""Which owned rows a caller may see and change: one answer for every face.

A row of a table with owner columns (``ownergroup``, and on some tables ``owneruser``) is
public while it has no owner, a user's own when ``owneruser`` is set, and a group's when
``ownergroup`` is set. The records face, the projects face (whose customers are accounts) and
any other face that reads or writes such rows ask the functions below, so a row hidden on
one face is hidden on all of them.

Visibility is a SQL predicate rather than a check after the read, so a hidden row behaves
exactly like a missing one in lists, joins and single reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from officina.core.auth import Principal


@dataclass(frozen=True)
class Module:
    """The module permissions that guard a shared table, whichever face reaches it."""

    read: tuple[str, ...]
    write: tuple[str, ...]


# Accounts are the records face's; the projects face shows them as customers. The records
# face's registry declares the same identifiers (a test keeps the two in step).
ACCOUNTS = Module(read=("accounts",), write=("accounts",))


def owner_clause(t: Any, p: Principal, *, user_owned: bool) -> ColumnElement[bool] | None:
    """Predicate on alias ``t``: rows whose owners let ``p`` see them (None = every row).

    ``user_owned`` says whether the table has an ``owneruser`` column next to ``ownergroup``.
    A caller marked ``nopublic`` does not see unowned rows.
    """
    if p.is_admin:
        return None
    terms: list[ColumnElement[bool]] = []
    if user_owned:
        if not p.nopublic:
            terms.append(and_(t.c.owneruser.is_(None), t.c.ownergroup.is_(None)))
        terms.append(t.c.owneruser == p.user_id)
    elif not p.nopublic:
        terms.append(t.c.ownergroup.is_(None))
    group_ids = list(p.groups)
    if group_ids:
        terms.append(t.c.ownergroup.in_(group_ids))
    return or_(*terms) if terms else false()


def may_change_owned(p: Principal, ownergroup: int | None, owneruser: int | None = None) -> bool:
    """Whether ``p`` may change or delete a row it can see, given the row's owners.

    Seeing a group's row is enough to read it; changing it needs a writable membership.
    """
    if p.is_admin:
        return True
    if owneruser is not None:
        return owneruser == p.user_id
    if ownergroup is not None:
        return p.group_writable(ownergroup)
    return True


def visible_rows(module: Module, t: Any, p: Principal) -> ColumnElement[bool] | None:
    """Predicate on alias ``t`` of a group-owned table guarded by ``module``: the rows ``p``
    may read (None = every row). Without the module's read permission nothing is visible."""
    if p.is_admin:
        return None
    if not p.may_read(module.read):
        return false()
    terms: list[ColumnElement[bool]] = []
    if "fork" in t.c:
        # Rows of module forks are nobody's to see until forks exist (records face rule).
        terms.append(t.c.fork.is_(None))
    owner = owner_clause(t, p, user_owned="owneruser" in t.c)
    if owner is not None:
        terms.append(owner)
    if not terms:
        return None
    return and_(*terms) if len(terms) > 1 else terms[0]
