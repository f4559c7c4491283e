"""Who calls, in which instance and language, with which rights: every handler starts here.

Goana's back-office roles decide what the API may do (an API key acts as its owner). Roles
are core groups named ``goana.<Role>``; the Administrator role is core's administrator, so an
officina admin is a Goana admin and the reverse. A user without a role is a field worker who
sees the jobs assigned to them and the unassigned jobs of their teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.requests import Request

from officina.core import languages
from officina.core.auth import SESSION_COOKIE, AuthError, Principal, authenticate
from officina.core.people import read_settings
from officina.core.schema import groups
from officina.core.store import Store
from officina.goana.problems import Problem

ROLE_PREFIX = "goana."
# Canonical spelling of every role, keyed by the lower-cased spellings accepted on input.
ROLES = {
    "administrator": "Administrator",
    "basedata": "BaseData",
    "jobs": "Jobs",
    "jobreccurences": "JobReccurences",
    "jobrecurrences": "JobReccurences",
    "contacts": "Contacts",
    "jobsoverview": "JobsOverview",
    "dahsboard": "Dashboard",
    "dashboard": "Dashboard",
    "reports": "Reports",
}
RIGHTS = {
    "BaseData": {"templates.read", "templates.write", "teams.read", "teams.write"},
    "Jobs": {
        "jobs.read",
        "jobs.write",
        "jobs.status",
        "templates.read",
        "teams.read",
        "contacts.read",
        "users.read",
    },
    "JobsOverview": {"jobs.read"},
    "Contacts": {"contacts.read", "contacts.write"},
}
ALL_RIGHTS = {r for rights in RIGHTS.values() for r in rights} | {"users.write", "users.full"}


@dataclass
class Ctx:
    store: Store
    principal: Principal
    settings: dict[str, Any]
    langs: tuple[str, ...]
    lang: str
    tz: ZoneInfo
    roles: set[str] = field(default_factory=set)
    rights: set[str] = field(default_factory=set)

    @property
    def user_id(self) -> int:
        return self.principal.user_id

    @property
    def is_admin(self) -> bool:
        return "Administrator" in self.roles

    def can(self, right: str) -> bool:
        return right in self.rights

    def need(self, right: str) -> None:
        if right not in self.rights:
            raise Problem(403, f"your roles do not allow this ({right})")

    def setting(self, key: str, default: Any) -> Any:
        return self.settings.get(key, default)


def role_groups(conn: Connection, group_ids: list[int]) -> set[str]:
    """The Goana roles among a user's (active) groups."""
    if not group_ids:
        return set()
    rows = conn.execute(select(groups.c.name).where(groups.c.ID.in_(group_ids)))
    found = set()
    for row in rows:
        name = str(row.name)
        if name.lower().startswith(ROLE_PREFIX):
            role = ROLES.get(name[len(ROLE_PREFIX) :].lower())
            if role:
                found.add(role)
    return found


def rights_of(roles: set[str], enforce: bool) -> set[str]:
    if "Administrator" in roles or not enforce:
        return set(ALL_RIGHTS) if "Administrator" in roles else ALL_RIGHTS - {"users.write"}
    rights: set[str] = set()
    for role in roles:
        rights |= RIGHTS.get(role, set())
    return rights


def timezone(settings: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(settings.get("goana.timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def challenge(realm: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Basic realm="{realm}", charset="UTF-8", Bearer realm="{realm}"'}


def authenticated(request: Request, store: Store, write: bool) -> Ctx:
    with store.read() as conn:
        try:
            principal = authenticate(
                conn, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
            )
        except AuthError as err:
            raise Problem(
                401, "missing or invalid credentials", headers=challenge("officina")
            ) from err
        settings = read_settings(conn)
        roles = role_groups(conn, list(principal.groups))
    if principal.is_admin:
        roles.add("Administrator")
    langs = languages.supported(settings)
    lang = languages.choose(
        langs,
        languages.default_language(settings, langs),
        content_language=request.headers.get("content-language") if write else None,
        accept_language=request.headers.get("accept-language"),
        user_language=principal.lang,
    )
    enforce = settings.get("goana.enforce_roles", True) is not False
    return Ctx(
        store=store,
        principal=principal,
        settings=settings,
        langs=langs,
        lang=lang,
        tz=timezone(settings),
        roles=roles,
        rights=rights_of(roles, enforce),
    )
