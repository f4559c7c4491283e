"""What an administrator does about a user's credentials from the command line: list and
revoke API keys, list and end sessions and sign-in tokens, set a password.

Each function runs in the caller's transaction; a revocation is a commit, so every worker
feels it at the next request (see ``known_callers``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from officina.core.clock import now
from officina.core.passwords import hash_password
from officina.core.schema import applications, tokens, users
from officina.core.sessions import SIGN_IN_KINDS, end_credentials, list_sessions

MIN_PASSWORD = 8


class CredentialError(ValueError):
    """Bad input; the message names the value."""


def list_api_keys(conn: Connection, user_id: int | None = None) -> list[dict[str, Any]]:
    """API keys (never the keys themselves, only their row), live ones first."""
    query = (
        select(
            tokens.c.ID,
            tokens.c.hint,
            tokens.c.created,
            tokens.c.lastused,
            tokens.c.revoked,
            users.c.email,
        )
        .join(users, users.c.ID == tokens.c.user)
        .where(tokens.c.kind == "apikey")
        .order_by(tokens.c.revoked.is_not(None), tokens.c.ID)
    )
    if user_id is not None:
        query = query.where(tokens.c.user == user_id)
    return [
        {
            "id": r.ID,
            "email": r.email,
            "label": r.hint,
            "created": r.created,
            "lastused": r.lastused,
            "revoked": r.revoked,
        }
        for r in conn.execute(query)
    ]


def revoke_api_key(conn: Connection, key_id: int) -> bool:
    """Revoke one API key by its ID; False when there is no live key with that ID."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.ID == key_id, tokens.c.kind == "apikey", tokens.c.revoked.is_(None))
        .values(revoked=now())
    )
    return bool(result.rowcount)


def list_sign_ins(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's live cookie sessions and sign-in tokens (login and OAuth)."""
    at = now()
    out: list[dict[str, Any]] = [{"kind": "session", **row} for row in list_sessions(conn, user_id)]
    rows = conn.execute(
        select(
            tokens.c.ID,
            tokens.c.kind,
            tokens.c.hint,
            tokens.c.created,
            tokens.c.lastused,
            tokens.c.expdate,
            tokens.c.idle,
            applications.c.identifier,
        )
        .outerjoin(applications, applications.c.ID == tokens.c.application)
        .where(
            tokens.c.user == user_id,
            tokens.c.kind.in_(SIGN_IN_KINDS),
            tokens.c.kind != "oauth_code",
            tokens.c.revoked.is_(None),
            or_(tokens.c.expdate.is_(None), tokens.c.expdate > at),
        )
        .order_by(tokens.c.ID.desc())
    )
    for r in rows:
        out.append(
            {
                "kind": r.kind,
                "id": r.ID,
                "application": r.identifier,
                "device": r.hint,
                "created": r.created,
                "lastused": r.lastused,
                "expires": r.expdate,
                "idle": r.idle,
            }
        )
    return out


def end_sign_ins(conn: Connection, user_id: int, api_keys: bool = False) -> int:
    """End every session and sign-in token of the user (and API keys when asked)."""
    return end_credentials(conn, user_id, api_keys=api_keys)


def set_password(conn: Connection, user_id: int, password: str) -> int:
    """Give the user a new password and end their sessions and sign-in tokens; returns how
    many ended."""
    if len(password) < MIN_PASSWORD:
        raise CredentialError(f"password must have at least {MIN_PASSWORD} characters")
    conn.execute(
        update(users)
        .where(users.c.ID == user_id)
        .values(password=hash_password(password), lastmodified=now(), _rev=users.c._rev + 1)
    )
    return end_credentials(conn, user_id)
