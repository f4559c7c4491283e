"""Teams as references: a team is a core group, named on the wire by its name.

Goana clients may never call a team endpoint, so a name that does not exist yet creates the
team (instance setting ``goana.auto_create_teams``, on by default). The groups that carry
Goana roles (``goana.<Role>``) are not teams, and neither is a group that grants a module
permission: such a group is a role of the other faces (it decides what its members may do
there), so the jobs face may neither change it nor delete it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from officina.core import people
from officina.core.changes import Actor
from officina.core.schema import groups, metadata, permissions
from officina.goana import changelog
from officina.goana.context import ROLE_PREFIX, Ctx
from officina.goana.problems import Errors

# Table names of the jobs face's own rows.
OWN_PREFIX = "goana_"


def is_team_clause() -> ColumnElement[bool]:
    """Active groups other than those carrying roles: not ``goana.*``, not the
    administrators, and granting no permission on any face."""
    grants = select(permissions.c.ID).where(permissions.c.group == groups.c.ID)
    return and_(
        groups.c.activity == 0,
        not_(groups.c.name_ci.startswith(ROLE_PREFIX)),
        groups.c.name_ci != people.ADMIN_GROUP.lower(),
        not_(exists(grants)),
    )


def find(conn: Connection, name: str) -> int | None:
    row = conn.execute(
        select(groups.c.ID).where(groups.c.name_ci == name.strip().lower(), is_team_clause())
    ).first()
    return None if row is None else int(row.ID)


def resolve(conn: Connection, ctx: Ctx, name: str | None, path: str, errors: Errors) -> int | None:
    """The group id of a team name; None for no team. Unknown names create the team."""
    if name is None or not name.strip():
        return None
    if name.strip().lower().startswith(ROLE_PREFIX):
        errors.add(path, f"team names may not start with {ROLE_PREFIX!r}")
        return None
    found = find(conn, name)
    if found is not None:
        return found
    if ctx.setting("goana.auto_create_teams", True) is False:
        errors.add(path, f"no team named {name.strip()!r}")
        return None
    if held_by_other_group(conn, name):
        errors.add(path, f"{name.strip()!r} names a group that is not a team")
        return None
    return create_or_find(conn, name.strip(), ctx.user_id, changelog.actor(ctx))


def held_by_other_group(conn: Connection, name: str) -> bool:
    """Whether a group that is no team (a role's, the administrators', an inactive one) has
    this name: group names are unique, so no team can be made with it."""
    row = conn.execute(
        select(groups.c.ID).where(groups.c.name_ci == name.strip().lower(), not_(is_team_clause()))
    ).first()
    return row is not None


def create_or_find(conn: Connection, name: str, creator: int | None, actor: Actor) -> int:
    """Create a group, or take the one a concurrent request created a moment ago.

    Two requests naming the same new team would otherwise race for the unique name and the
    loser would fail; the savepoint lets it step back and use the winner's row.
    """
    if conn.dialect.name != "postgresql":  # SQLite runs one writer at a time
        return people.create_group(conn, name, creator=creator, actor=actor)
    # The savepoint also covers the case where the other request committed in between.
    try:
        with conn.begin_nested():
            return people.create_group(conn, name, creator=creator, actor=actor)
    except (IntegrityError, people.PeopleError):
        row = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.lower())).first()
        if row is None:
            raise
        return int(row.ID)


def names(conn: Connection, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(select(groups.c.ID, groups.c.name).where(groups.c.ID.in_(wanted)))
    return {row.ID: row.name for row in rows}


# References to groups the jobs face manages itself: memberships (removed with the team) and
# grants (a team has none by definition).
_MANAGED_REFERENCES = {"groups2users", "permissions"}


def owned_elsewhere(conn: Connection, group_id: int) -> list[str]:
    """Tables of other faces with rows that refer to the group (as owner group or recipient).

    Deleting the group would delete those rows (owner groups cascade) or change them, so a
    team delete must not go on while any exist. The jobs face's own tables are left to the
    caller, which names them in its answer.
    """
    found = []
    for table in metadata.tables.values():
        if table.name in _MANAGED_REFERENCES or table.name.startswith(OWN_PREFIX):
            continue
        columns = [fk.parent for fk in table.foreign_keys if fk.column.table.name == groups.name]
        if (
            columns
            and conn.execute(
                select(columns[0]).where(or_(*[c == group_id for c in columns])).limit(1)
            ).first()
        ):
            found.append(table.name)
    return found
