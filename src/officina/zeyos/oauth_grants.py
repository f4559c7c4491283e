"""OAuth 2.0 grants on top of the core ``tokens`` table: codes, token pairs, revocation.

Every secret lives in ``tokens`` as its SHA-256 only. Kinds used here:

- ``oauth_code``: an authorization code, 10 minutes, carrying the PKCE ``challenge`` and the
  ``redirect_uri`` it was issued for; after a successful exchange its ``grant`` names the pair
  it produced, so presenting it again revokes that pair (RFC 6749 §4.1.2).
- ``oauth_access`` (1 hour) and ``oauth_refresh`` (100 days): issued together and linked by a
  shared ``grant`` value, so revoking or rotating one side reaches the other.

Each sign-in gets a pair of its own, so a second machine or a script signing in to the same
application leaves the first one signed in. The contract's "previous tokens will thereby
invalidate" is read as rotation: a refresh ends the pair it came from and no other. An
instance that wants the vendor's stricter reading sets :data:`ONE_PAIR_SETTING` to true: then
any new pair also ends the user's earlier pairs for that application. Claiming a code or a
refresh token is a conditional UPDATE, so two concurrent requests cannot both win.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from officina.core.applications import Client
from officina.core.auth import constant_time_equal, load_principal
from officina.core.clock import now
from officina.core.ids import digest, new_secret, new_uuid
from officina.core.schema import instance_settings, tokens, users

ACCESS_TTL = 3600
REFRESH_TTL = 100 * 24 * 3600
CODE_TTL = 600
ACCESS = "oauth_access"
REFRESH = "oauth_refresh"
CODE = "oauth_code"
SECRET = re.compile(r"^[0-9a-f]{40}$")
# Instance setting: true keeps one live pair per (user, application), as the vendor does.
ONE_PAIR_SETTING = "oauth.one_pair"
# RFC 7636: 43 to 128 characters of the URL-safe "unreserved" set.
PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


@dataclass
class OAuthError(Exception):
    """An RFC 6749 error answer: status, ``error`` code and a one-line description."""

    status: int
    error: str
    description: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_request(detail: str) -> OAuthError:
    return OAuthError(400, "invalid_request", f"Bad Request: {detail}")


def invalid_grant(detail: str) -> OAuthError:
    return OAuthError(403, "invalid_grant", f"Forbidden: {detail}")


def invalid_client(instance: str, detail: str = "Unknown client application") -> OAuthError:
    return OAuthError(
        401,
        "invalid_client",
        f"Unauthorized: {detail}",
        {"WWW-Authenticate": f'Basic realm="{instance}"'},
    )


def s256(verifier: str) -> str:
    """The PKCE S256 transform: unpadded base64url of the verifier's SHA-256."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# -- codes ------------------------------------------------------------------------------


def issue_code(
    conn: Connection, client: Client, user_id: int, redirect_uri: str, challenge: str | None
) -> str:
    code = new_secret()
    created = now()
    conn.execute(
        insert(tokens).values(
            hash=digest(code),
            kind=CODE,
            user=user_id,
            application=client.id,
            created=created,
            expdate=created + CODE_TTL,
            challenge=challenge,
            redirect_uri=redirect_uri,
        )
    )
    return code


def _revoke_grant(conn: Connection, grant_id: str) -> None:
    conn.execute(
        update(tokens)
        .where(
            tokens.c.grant == grant_id,
            tokens.c.kind.in_((ACCESS, REFRESH)),
            tokens.c.revoked.is_(None),
        )
        .values(revoked=now())
    )


def _claim(conn: Connection, row_id: int) -> bool:
    """Mark a token used; False when another request used it first."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.ID == row_id, tokens.c.revoked.is_(None))
        .values(revoked=now(), lastused=now())
    )
    return bool(result.rowcount)


def exchange_code(
    conn: Connection, client: Client, code: str, redirect_uri: str, verifier: str | None
) -> dict[str, Any] | OAuthError:
    """Trade a code for a pair. Errors are returned, not raised, so the caller still commits
    the code's consumption: a code is spent by its first presentation, good or bad."""
    expired = invalid_grant("Invalid or expired code")
    if not SECRET.match(code):
        return expired
    row = conn.execute(
        select(tokens).where(tokens.c.hash == digest(code), tokens.c.kind == CODE)
    ).first()
    if row is None:
        return expired
    if row.revoked is not None or not _claim(conn, row.ID):
        if row.grant is not None and row.application == client.id:
            # A second use of a code hints at theft: the pair it produced dies too.
            _revoke_grant(conn, row.grant)
        return expired
    if row.application != client.id or (row.expdate is not None and row.expdate <= now()):
        return expired
    if row.redirect_uri is None or not constant_time_equal(row.redirect_uri, redirect_uri):
        return invalid_grant("redirect_uri does not match the authorization request")
    if row.challenge is not None:
        if verifier is None:
            return invalid_request("Missing parameter 'code_verifier'")
        if not PKCE_VALUE.match(verifier) or not constant_time_equal(s256(verifier), row.challenge):
            return invalid_grant("Invalid code_verifier")
    elif verifier is not None:
        # A verifier for a code issued without a challenge: refuse rather than ignore.
        return invalid_grant("Invalid code_verifier")
    principal = load_principal(conn, row.user, "bearer")
    if principal is None or not client.may_be_used_by(principal):
        return expired
    grant_id, response = issue_pair(conn, client, principal.user_id)
    conn.execute(update(tokens).where(tokens.c.ID == row.ID).values(grant=grant_id))
    return response


# -- token pairs ------------------------------------------------------------------------


def one_pair(conn: Connection) -> bool:
    """Whether the instance keeps a single live pair per (user, application)."""
    value = conn.execute(
        select(instance_settings.c.value).where(instance_settings.c.key == ONE_PAIR_SETTING)
    ).scalar()
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true"))


def issue_pair(conn: Connection, client: Client, user_id: int) -> tuple[str, dict[str, Any]]:
    """A fresh access and refresh token; with the one-pair setting the user's earlier pairs
    for ``client`` die."""
    # Serialises grants of one user on PostgreSQL (SQLite already holds its write lock).
    conn.execute(select(users.c.ID).where(users.c.ID == user_id).with_for_update())
    current = now()
    if one_pair(conn):
        conn.execute(
            update(tokens)
            .where(
                tokens.c.user == user_id,
                tokens.c.application == client.id,
                tokens.c.kind.in_((ACCESS, REFRESH)),
                tokens.c.revoked.is_(None),
            )
            .values(revoked=current)
        )
    grant_id = new_uuid()
    access, refresh = new_secret(), new_secret()
    for secret, kind, ttl in ((access, ACCESS, ACCESS_TTL), (refresh, REFRESH, REFRESH_TTL)):
        conn.execute(
            insert(tokens).values(
                hash=digest(secret),
                kind=kind,
                user=user_id,
                application=client.id,
                created=current,
                expdate=current + ttl,
                grant=grant_id,
            )
        )
    return grant_id, {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": ACCESS_TTL,
        "refresh_token": refresh,
        "refresh_token_expires_in": REFRESH_TTL,
    }


def _valid_row(conn: Connection, client: Client, secret: str, kinds: tuple[str, ...]) -> Any:
    """A live, unexpired token of ``client`` among ``kinds``; None for anything else."""
    if not SECRET.match(secret):
        return None
    row = conn.execute(
        select(tokens).where(tokens.c.hash == digest(secret), tokens.c.kind.in_(kinds))
    ).first()
    if row is None or row.application != client.id or row.revoked is not None:
        return None
    if row.expdate is not None and row.expdate <= now():
        return None
    return row


def refresh(conn: Connection, client: Client, secret: str) -> dict[str, Any] | OAuthError:
    """Rotate: the refresh token is spent, its own pair revoked, a new pair returned; the
    user's other pairs for the application live on."""
    rejected = invalid_grant("Invalid or expired refresh_token")
    row = _valid_row(conn, client, secret, (REFRESH,))
    if row is None or not _claim(conn, row.ID):
        return rejected
    if row.grant is not None:
        _revoke_grant(conn, row.grant)
    principal = load_principal(conn, row.user, "bearer")
    if principal is None or not client.may_be_used_by(principal):
        return rejected
    return issue_pair(conn, client, principal.user_id)[1]


# -- revocation and introspection ------------------------------------------------------


def revoke(conn: Connection, client: Client, secret: str) -> None:
    """RFC 7009: a refresh token takes its access token along; anything else is a no-op."""
    row = _valid_row(conn, client, secret, (ACCESS, REFRESH))
    if row is None:
        return
    _claim(conn, row.ID)
    if row.kind == REFRESH and row.grant is not None:
        _revoke_grant(conn, row.grant)


def introspect(conn: Connection, client: Client, secret: str) -> dict[str, Any]:
    """RFC 7662, limited to the caller's own tokens: others' look inactive."""
    row = _valid_row(conn, client, secret, (ACCESS, REFRESH))
    principal = load_principal(conn, row.user, "bearer") if row is not None else None
    if row is None or principal is None:
        return {"active": False}
    return {
        "active": True,
        "client_id": client.identifier,
        "username": principal.name,
        "sub": str(principal.user_id),
        "exp": row.expdate,
    }
