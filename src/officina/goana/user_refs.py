"""Users as references: jobs name the assigned person by e-mail (case-insensitive)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from officina.core.schema import users
from officina.goana.problems import Errors
from officina.goana.tables import user_profile


def find(conn: Connection, email: str) -> int | None:
    """An active user by e-mail."""
    row = conn.execute(
        select(users.c.ID).where(users.c.email_ci == email.strip().lower(), users.c.activity == 0)
    ).first()
    return None if row is None else int(row.ID)


def assignable(conn: Connection, email: str, field: str, errors: Errors) -> int | None:
    """The user a job may be assigned to; an error naming ``field`` otherwise."""
    row = conn.execute(
        select(users.c.ID, users.c.activity, user_profile.c.work_assignable)
        .select_from(users.outerjoin(user_profile, user_profile.c.user == users.c.ID))
        .where(users.c.email_ci == email.strip().lower())
    ).first()
    if row is None:
        errors.add(field, f"no user with the e-mail {email[:200]!r} in this instance")
        return None
    if row.activity != 0 or row.work_assignable is False:
        errors.add(field, f"the user {email[:200]!r} cannot be assigned jobs")
        return None
    return int(row.ID)


def emails(conn: Connection, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(users.c.ID, users.c.email).where(users.c.ID.in_(wanted)))
    return {row.ID: row.email for row in rows}
