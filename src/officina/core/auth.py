"""Who is calling: every face accepts the same four credential schemes.

- ``Authorization: Bearer <token>``: a login token, an OAuth access token or an API key;
- ``Authorization: Basic email:password``;
- ``Authorization: Basic api:<API key>``;
- cookie ``ZEYOSID=<session id>``.

An Authorization header, when present, is authoritative: a bad one is a 401 even if a good
cookie is also sent. Faces turn :class:`AuthError` into their own 401 dialect.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from officina.core import known_callers
from officina.core import sessions as session_rules
from officina.core.clock import now
from officina.core.direct import Direct
from officina.core.ids import digest
from officina.core.passwords import verify_password
from officina.core.schema import applications, groups, groups2users, permissions, sessions, tokens
from officina.core.schema import users as users_t

SESSION_COOKIE = "ZEYOSID"
API_USER = "api"


class AuthFailure(enum.Enum):
    MISSING = "missing"
    BAD_BEARER = "bad_bearer"
    BAD_BASIC = "bad_basic"
    BAD_SESSION = "bad_session"


class AuthError(Exception):
    def __init__(self, failure: AuthFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


@dataclass
class Principal:
    """The authenticated user of one request, with grants computed once."""

    user_id: int
    uuid: str
    name: str
    email: str
    lang: str
    nopublic: bool
    apionly: bool
    contact: int | None
    # How the caller authenticated: bearer, basic, apikey or session.
    scheme: str
    application_id: int | None = None
    token_kind: str | None = None
    # The row of the credential used (tokens.ID or sessions.ID) and a token's OAuth grant.
    credential_id: int | None = None
    grant: str | None = None
    # group ID -> membership writable (active groups only)
    groups: dict[int, bool] = field(default_factory=dict)
    # permission identifier -> writable
    perms: dict[str, bool] = field(default_factory=dict)
    # application IDs the user holds a permission for
    app_perms: set[int] = field(default_factory=set)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.perms

    def may_read(self, identifiers: tuple[str, ...]) -> bool:
        """Any one identifier suffices; an empty tuple means any authenticated user."""
        if not identifiers or self.is_admin:
            return True
        return any(i in self.perms for i in identifiers)

    def may_write(self, identifiers: tuple[str, ...], need_writable: bool = True) -> bool:
        if not identifiers or self.is_admin:
            return True
        if not need_writable:
            return self.may_read(identifiers)
        return any(self.perms.get(i, False) for i in identifiers)

    def group_writable(self, group_id: int) -> bool:
        return self.is_admin or self.groups.get(group_id, False)

    def keep(self) -> session_rules.Keep:
        """The credential to spare when this caller changes their own password: the
        session or token they came with (an OAuth access token with its refresh token)."""
        if self.scheme == "session":
            return session_rules.Keep(session=self.credential_id)
        if self.scheme == "bearer" and self.credential_id is not None:
            return session_rules.Keep(token=self.credential_id, grant=self.grant)
        return session_rules.Keep()


# Statements every request runs, built once: constructing SQL expressions costs more than
# running these indexed lookups, and the compiled forms are cached by SQLAlchemy. None of
# them uses an expanding IN list: SQLAlchemy rewrites such a statement's text on every
# execution, which cost more than the lookup itself.
_PRINCIPAL_COLUMNS = (
    users_t.c.ID,
    users_t.c.uuid,
    users_t.c.name,
    users_t.c.email,
    users_t.c.lang,
    users_t.c.nopublic,
    users_t.c.apionly,
    users_t.c.contact,
)
# Memberships of active groups with each group's grants: one row per grant, one row with
# null grant columns for a group without grants, one row with null group columns for a
# user in no active group.
_GRANT_COLUMNS = (
    groups.c.ID.label("group"),
    groups2users.c.writable.label("member_writable"),
    permissions.c.identifier,
    permissions.c.application,
    permissions.c.writable,
)


def _with_grants(source: Any) -> Any:
    return (
        source.outerjoin(groups2users, groups2users.c.user == users_t.c.ID)
        .outerjoin(groups, and_(groups.c.ID == groups2users.c.group, groups.c.activity == 0))
        .outerjoin(permissions, permissions.c.group == groups.c.ID)
    )


def _user_is_active() -> Any:
    return and_(
        users_t.c.activity == 0,
        or_(users_t.c.expdate.is_(None), users_t.c.expdate > bindparam("now")),
    )


_ACTIVE_USER = Direct(
    select(*_PRINCIPAL_COLUMNS, *_GRANT_COLUMNS)
    .select_from(_with_grants(users_t))
    .where(users_t.c.ID == bindparam("user_id"), _user_is_active())
)


def _token_statement(kinds: tuple[str, ...]) -> Any:
    """The caller of a token with their grants, in one statement (one round trip): a token
    counts while unrevoked and unexpired, its user active, and its application, if any,
    active."""
    source = _with_grants(
        tokens.join(users_t, users_t.c.ID == tokens.c.user).outerjoin(
            applications, applications.c.ID == tokens.c.application
        )
    )
    return (
        select(
            *_PRINCIPAL_COLUMNS,
            tokens.c.ID.label("token_id"),
            tokens.c.grant.label("token_grant"),
            tokens.c.application.label("token_application"),
            tokens.c.kind.label("token_kind"),
            # Until when the answer holds (KnownCallers): the earlier expiry of both.
            tokens.c.expdate.label("token_expdate"),
            users_t.c.expdate.label("user_expdate"),
            tokens.c.idle.label("token_idle"),
            func.coalesce(tokens.c.lastused, tokens.c.created).label("token_lastused"),
            *_GRANT_COLUMNS,
        )
        .select_from(source)
        .where(
            tokens.c.hash == bindparam("hash"),
            or_(*[tokens.c.kind == k for k in kinds]),
            tokens.c.revoked.is_(None),
            or_(tokens.c.expdate.is_(None), tokens.c.expdate > bindparam("now")),
            or_(
                tokens.c.idle.is_(None),
                func.coalesce(tokens.c.lastused, tokens.c.created) + tokens.c.idle
                > bindparam("now"),
            ),
            or_(tokens.c.application.is_(None), applications.c.activity == 0),
            _user_is_active(),
        )
    )


def _principal_of(
    rows: Sequence[Any],
    scheme: str,
    application_id: int | None = None,
    token_kind: str | None = None,
) -> Principal | None:
    if not rows:
        return None
    u = rows[0]
    p = Principal(
        user_id=u.ID,
        uuid=u.uuid,
        name=u.name,
        email=u.email,
        lang=u.lang,
        nopublic=bool(u.nopublic),
        apionly=bool(u.apionly),
        contact=u.contact,
        scheme=scheme,
        application_id=application_id,
        token_kind=token_kind,
    )
    for g in rows:
        if g.group is None:
            continue
        p.groups[g.group] = bool(g.member_writable)
        if g.identifier:
            p.perms[g.identifier] = p.perms.get(g.identifier, False) or bool(g.writable)
        if g.application is not None:
            p.app_perms.add(g.application)
    return p


def load_principal(
    conn: Connection,
    user_id: int,
    scheme: str,
    application_id: int | None = None,
    token_kind: str | None = None,
) -> Principal | None:
    """Build the principal of an active user, or None when the user may not authenticate."""
    rows = _ACTIVE_USER.rows(conn, {"user_id": user_id, "now": now()})
    return _principal_of(rows, scheme, application_id, token_kind)


# An API key is accepted as a bearer token too: the vendor's own examples send one so.
BEARER_KINDS = ("login", "oauth_access", "apikey")
_TOKEN_PRINCIPAL = {
    "bearer": Direct(_token_statement(BEARER_KINDS)),
    "apikey": Direct(_token_statement(("apikey",))),
}


def _token_principal(conn: Connection, secret: str, scheme: str) -> Principal | None:
    hashed, at = digest(secret), now()
    known = known_callers.of(conn)
    version = None
    if known is not None:
        version = known.version(conn)
        found = known.get(version, (scheme, hashed), at)
        if found is not None:
            return cast(Principal, found)
    rows = _TOKEN_PRINCIPAL[scheme].rows(conn, {"hash": hashed, "now": at})
    if not rows:
        return None
    first = rows[0]
    # An API key acts for its user alone, never in an application's name.
    kind = first.token_kind
    used = "apikey" if kind == "apikey" else scheme
    application = first.token_application if used == "bearer" else None
    principal = _principal_of(rows, used, application, kind)
    if principal is None:
        return None
    principal.credential_id = int(first.token_id)
    principal.grant = first.token_grant
    ends = [e for e in (first.token_expdate, first.user_expdate) if e is not None]
    if first.token_idle is not None:
        session_rules.note_use(conn, tokens, first.token_id, first.token_lastused, at)
        # Answered again after a while, so that the use is recorded and the idle end seen.
        ends.append(first.token_lastused + first.token_idle)
        ends.append(at + session_rules.TOUCH_EVERY)
    if known is not None:
        known.put(version, (scheme, hashed), principal, min(ends, default=float("inf")))
    return principal


def basic_pair(credentials: str) -> tuple[str, str] | None:
    """User and password of Basic credentials, or None when they are malformed."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def password_login(authorization: str | None) -> str | None:
    """The login name of ``Basic login:password`` credentials (not ``api:<key>``), if any."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    pair = basic_pair(value)
    if pair is None or pair[0].lower() == API_USER:
        return None
    return pair[0]


_SCOPE_LOGIN = "officina.password_login"


def scope_password_login(scope: MutableMapping[str, Any]) -> str | None:
    """:func:`password_login` of a request's Authorization header, decoded once per request
    and kept in its ASGI scope: several layers ask (throttling, where the work runs)."""
    if _SCOPE_LOGIN in scope:
        return cast(str | None, scope[_SCOPE_LOGIN])
    authorization = None
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            authorization = value.decode("latin-1")
            break
    login = password_login(authorization)
    scope[_SCOPE_LOGIN] = login
    return login


def _basic(conn: Connection, credentials: str) -> Principal | None:
    pair = basic_pair(credentials)
    if pair is None:
        return None
    user, password = pair
    if user.lower() == API_USER:  # no e-mail address can equal "api" in any case
        return _token_principal(conn, password, "apikey")
    return password_principal(conn, user, password, "basic")


def find_user_id(conn: Connection, login: str) -> int | None:
    """A user by e-mail or user name, case-insensitively."""
    key = login.strip().lower()
    row = conn.execute(
        select(users_t.c.ID).where(or_(users_t.c.email_ci == key, users_t.c.name_ci == key))
    ).first()
    return None if row is None else int(row.ID)


def password_principal(
    conn: Connection, login: str, password: str, scheme: str
) -> Principal | None:
    """Check a login name (e-mail or user name) and password; None when they do not match."""
    key = login.strip().lower()
    row = conn.execute(
        select(users_t.c.ID, users_t.c.password).where(
            or_(users_t.c.email_ci == key, users_t.c.name_ci == key)
        )
    ).first()
    if not verify_password(row.password if row else None, password) or row is None:
        return None
    return load_principal(conn, row.ID, scheme)


def _session(conn: Connection, sid: str) -> Principal | None:
    """A live session's user: not ended, within its absolute and idle lifetimes."""
    at = now()
    row = conn.execute(
        select(sessions.c.ID, sessions.c.user, sessions.c.lastseen).where(
            sessions.c.hash == digest(sid), session_rules.live_session(at)
        )
    ).first()
    if row is None:
        return None
    principal = load_principal(conn, row.user, "session")
    if principal is not None:
        principal.credential_id = int(row.ID)
        session_rules.note_use(conn, sessions, row.ID, row.lastseen, at)
    return principal


def authenticate(conn: Connection, authorization: str | None, cookie: str | None) -> Principal:
    """Resolve the caller from the request's credentials or raise :class:`AuthError`."""
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer":
            principal = _token_principal(conn, value, "bearer") if value else None
            if principal is None:
                raise AuthError(AuthFailure.BAD_BEARER)
            return principal
        if scheme == "basic":
            principal = _basic(conn, value)
            if principal is None:
                raise AuthError(AuthFailure.BAD_BASIC)
            return principal
        raise AuthError(AuthFailure.BAD_BEARER)
    if cookie:
        principal = _session(conn, cookie)
        if principal is None:
            raise AuthError(AuthFailure.BAD_SESSION)
        return principal
    raise AuthError(AuthFailure.MISSING)


def bearer_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def revoke_token(conn: Connection, secret: str) -> bool:
    """End the token ``secret`` of any kind; False when it was unknown or already over.
    Logout refuses API keys before it gets here."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.hash == digest(secret), tokens.c.revoked.is_(None))
        .values(revoked=now())
    )
    return bool(result.rowcount)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
