"""Creating people, groups, grants and credentials: the operations behind the admin CLI.

Administrators are ordinary users in a group holding the ``admin`` permission, exactly as the
records face models it, so "is admin" means the same thing in every face.

Users, groups, memberships and grants are rows every face shows, so each write here appends
its change entries; a caller acting for a face passes its ``actor``, other work (the command
line, instance setup) is logged as the command line's. Credentials are not logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from officina.core.changes import Actor, actor_for, log_create, log_delete
from officina.core.clock import now
from officina.core.ids import digest, new_api_key, new_secret, new_uuid
from officina.core.passwords import hash_password
from officina.core.schema import groups, groups2users, instance_settings, permissions, tokens, users

ADMIN_GROUP = "Administrators"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

# The modules a new instance grants to nobody but admins until an admin says otherwise.
MODULES = (
    "accounts",
    "actionsteps",
    "billing",
    "calendar",
    "campaigns",
    "collection",
    "contacts",
    "contracts",
    "documents",
    "inventory",
    "links",
    "mailinglists",
    "messages",
    "notes",
    "opportunities",
    "payments",
    "pricelists",
    "procurement",
    "production",
    "projects",
    "tasks",
    "tickets",
)

DEFAULT_SETTINGS = {
    "currency": "EUR",
    "locale": "en_US",
    "timezone": "Europe/Berlin",
    "country": "DE",
    "language": "en",
}


class PeopleError(ValueError):
    """Bad input to an admin operation; the message names the offending value."""


@dataclass(frozen=True)
class NewUser:
    id: int
    uuid: str
    email: str
    name: str


def create_user(
    conn: Connection,
    *,
    email: str,
    password: str,
    name: str | None = None,
    admin: bool = False,
    lang: str = "en",
    actor: Actor | None = None,
) -> NewUser:
    email = email.strip()
    if not EMAIL.match(email):
        raise PeopleError(f"invalid e-mail address {email!r}")
    if len(password) < 8:
        raise PeopleError("password must have at least 8 characters")
    name = (name or email.split("@", 1)[0]).strip()
    if not name or "\n" in name or len(name) > 200:
        raise PeopleError(f"invalid user name {name!r}")
    taken = conn.execute(
        select(users.c.ID).where(
            (users.c.email_ci == email.lower()) | (users.c.name_ci == name.lower())
        )
    ).first()
    if taken:
        raise PeopleError(f"a user with e-mail {email!r} or name {name!r} already exists")
    ts = now()
    uid = new_uuid()
    values = {
        "creationdate": ts,
        "lastmodified": ts,
        "name": name,
        "email": email,
        "name_ci": name.lower(),
        "email_ci": email.lower(),
        "uuid": uid,
        "password": hash_password(password),
        "lang": lang,
    }
    user_id = conn.execute(insert(users).values(values).returning(users.c.ID)).scalar_one()
    actor = actor or _system(conn)
    log_create(conn, actor, users.name, user_id, {"ID": user_id, **values})
    if admin:
        group_id = ensure_admin_group(conn, actor=actor)
        add_member(conn, group_id, user_id, writable=True, actor=actor)
    return NewUser(user_id, uid, email, name)


def _system(conn: Connection) -> Actor:
    return actor_for(conn, None, "cli")


def create_group(
    conn: Connection, name: str, creator: int | None = None, actor: Actor | None = None
) -> int:
    name = name.strip()
    if not name:
        raise PeopleError("group name must not be empty")
    existing = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.lower())).first()
    if existing:
        raise PeopleError(f"group {name!r} already exists")
    ts = now()
    values = {
        "creator": creator,
        "creationdate": ts,
        "lastmodified": ts,
        "name": name,
        "name_ci": name.lower(),
        "uuid": new_uuid(),
    }
    group_id = int(conn.execute(insert(groups).values(values).returning(groups.c.ID)).scalar_one())
    log_create(conn, actor or _system(conn), groups.name, group_id, {"ID": group_id, **values})
    return group_id


def ensure_admin_group(conn: Connection, actor: Actor | None = None) -> int:
    row = conn.execute(select(groups.c.ID).where(groups.c.name_ci == ADMIN_GROUP.lower())).first()
    if row:
        return int(row.ID)
    group_id = create_group(conn, ADMIN_GROUP, actor=actor)
    grant(conn, group_id, "admin", writable=True, actor=actor)
    return group_id


def _replace(
    conn: Connection, actor: Actor, table: Any, match: Any, values: dict[str, Any]
) -> None:
    """Replace the row ``match`` selects (if any) by a new one with ``values``: the old row's
    deletion and the new row's creation are two change entries."""
    for old in conn.execute(select(table).where(match)).mappings().all():
        conn.execute(delete(table).where(table.c.ID == old["ID"]))
        log_delete(conn, actor, table.name, old["ID"], dict(old))
    row_id = conn.execute(insert(table).values(values).returning(table.c.ID)).scalar_one()
    log_create(conn, actor, table.name, row_id, {"ID": row_id, **values})


def add_member(
    conn: Connection, group_id: int, user_id: int, writable: bool, actor: Actor | None = None
) -> None:
    ts = now()
    _replace(
        conn,
        actor or _system(conn),
        groups2users,
        (groups2users.c.group == group_id) & (groups2users.c.user == user_id),
        {
            "creationdate": ts,
            "lastmodified": ts,
            "group": group_id,
            "user": user_id,
            "writable": int(writable),
        },
    )


def grant(
    conn: Connection, group_id: int, identifier: str, writable: bool, actor: Actor | None = None
) -> None:
    ts = now()
    _replace(
        conn,
        actor or _system(conn),
        permissions,
        (permissions.c.group == group_id) & (permissions.c.identifier == identifier),
        {
            "creationdate": ts,
            "lastmodified": ts,
            "group": group_id,
            "identifier": identifier,
            "writable": int(writable),
        },
    )


def user_id_by_email(conn: Connection, email: str) -> int:
    row = conn.execute(select(users.c.ID).where(users.c.email_ci == email.strip().lower())).first()
    if row is None:
        raise PeopleError(f"no user with e-mail {email!r}")
    return int(row.ID)


def create_api_key(conn: Connection, user_id: int, label: str = "") -> str:
    """A new API key for ``user_id``; the key is returned once and stored only as a hash."""
    key = new_api_key()
    conn.execute(
        insert(tokens).values(
            hash=digest(key), kind="apikey", user=user_id, created=now(), hint=label
        )
    )
    return key


def issue_token(
    conn: Connection,
    user_id: int,
    kind: str,
    ttl: int | None,
    *,
    application: int | None = None,
    hint: str = "",
    grant_id: str | None = None,
    expdate: int | None = None,
) -> tuple[str, int | None]:
    """A new bearer secret of ``kind``; returns it with its expiry (Unix seconds)."""
    secret = new_secret()
    created = now()
    if expdate is None and ttl is not None:
        expdate = created + ttl
    conn.execute(
        insert(tokens).values(
            hash=digest(secret),
            kind=kind,
            user=user_id,
            application=application,
            created=created,
            expdate=expdate,
            hint=hint,
            grant=grant_id,
        )
    )
    return secret, expdate


def init_settings(conn: Connection, overrides: dict[str, object] | None = None) -> None:
    values = {**DEFAULT_SETTINGS, **(overrides or {})}
    existing = {r.key for r in conn.execute(select(instance_settings.c.key))}
    for key, value in values.items():
        if key not in existing:
            conn.execute(insert(instance_settings).values(key=key, value=value))


def read_settings(conn: Connection) -> dict[str, object]:
    values: dict[str, object] = dict(DEFAULT_SETTINGS)
    for row in conn.execute(select(instance_settings.c.key, instance_settings.c.value)):
        values[row.key] = row.value
    return values


# -- managing groups and their grants ---------------------------------------------------------

# What a group may be granted: the records face's modules, the two modules no new instance
# hands out but whose entities exist (``carat``, ``dev``), and the projects face's rights.
# ``admin`` is left out on purpose: it is given by making a user an administrator.
GRANTABLE = (*MODULES, "carat", "dev", "flow", "flow.billing")


@dataclass(frozen=True)
class GroupInfo:
    """A group as the CLI shows it: its grants (module -> writable) and its members' e-mails
    (e-mail -> membership writable)."""

    id: int
    name: str
    grants: dict[str, bool]
    members: dict[str, bool]


def check_module(identifier: str) -> str:
    """The permission identifier, or a one-line refusal listing the valid ones."""
    module = identifier.strip().lower()
    if module not in GRANTABLE:
        raise PeopleError(f"unknown module {identifier!r}; valid modules: {', '.join(GRANTABLE)}")
    return module


def group_id_by_name(conn: Connection, name: str) -> int:
    row = conn.execute(select(groups.c.ID).where(groups.c.name_ci == name.strip().lower())).first()
    if row is None:
        raise PeopleError(f"no group named {name!r}")
    return int(row.ID)


def revoke(conn: Connection, group_id: int, identifier: str) -> bool:
    """Take one grant from a group; False when the group did not hold it."""
    gone = conn.execute(
        delete(permissions).where(
            permissions.c.group == group_id, permissions.c.identifier == identifier
        )
    )
    return bool(gone.rowcount)


def remove_member(conn: Connection, group_id: int, user_id: int) -> bool:
    """Take a user out of a group; False when the user was not a member."""
    gone = conn.execute(
        delete(groups2users).where(groups2users.c.group == group_id, groups2users.c.user == user_id)
    )
    return bool(gone.rowcount)


def list_groups(conn: Connection) -> list[GroupInfo]:
    found: dict[int, GroupInfo] = {}
    for row in conn.execute(select(groups.c.ID, groups.c.name).order_by(groups.c.name_ci)):
        found[int(row.ID)] = GroupInfo(int(row.ID), str(row.name), {}, {})
    grants = select(permissions.c.group, permissions.c.identifier, permissions.c.writable).where(
        permissions.c.identifier.is_not(None)
    )
    for grant_row in conn.execute(grants.order_by(permissions.c.identifier)):
        if grant_row.group in found:
            found[grant_row.group].grants[str(grant_row.identifier)] = bool(grant_row.writable)
    members = (
        select(groups2users.c.group, users.c.email, groups2users.c.writable)
        .join(users, users.c.ID == groups2users.c.user)
        .order_by(users.c.email_ci)
    )
    for member in conn.execute(members):
        if member.group in found:
            found[member.group].members[str(member.email)] = bool(member.writable)
    return list(found.values())
