"""Cookie sessions (``ZEYOSID``) and the end of every credential a user holds.

Only the SHA-256 of a session id is stored; the id itself goes to the browser once. A session
ends at logout, at its absolute end (``expires``), after ``idle`` seconds without use, and
when its user's password changes or the user is deactivated (:func:`end_credentials`). The
lifetimes are written into the row when it is made, so every worker judges a session alike
whatever its own settings say.

Use is recorded at most once per :data:`TOUCH_EVERY` seconds per credential, off the request's
path (:func:`note_use`): a request that only reads must not wait for a write lock, and writing
on every request would also end the memory of resolved callers (``known_callers``) at every
request. The idle lifetime therefore counts to the minute.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from officina.core.clock import now
from officina.core.ids import digest, new_secret
from officina.core.schema import sessions, tokens

log = logging.getLogger("officina.sessions")

# Seconds between two records of a credential's use.
TOUCH_EVERY = 60
# What a password change ends: everything a sign-in produced. API keys are not sign-ins
# and stay (an administrator revokes them on their own); deactivation ends them too.
SIGN_IN_KINDS = ("login", "oauth_access", "oauth_refresh", "oauth_code")


@dataclass(frozen=True)
class Lifetimes:
    """Idle and absolute lifetimes, in seconds; 0 means no limit."""

    idle: int = 0
    absolute: int = 0


def create_session(
    conn: Connection, user_id: int, ip: str = "", lifetimes: Lifetimes | None = None
) -> str:
    """Open a session for ``user_id``; returns the 40-hex id to send as the cookie."""
    sid = new_secret()
    ts = now()
    life = lifetimes or Lifetimes()
    conn.execute(
        insert(sessions).values(
            hash=digest(sid),
            user=user_id,
            created=ts,
            lastseen=ts,
            ip=ip[:64],
            expires=ts + life.absolute if life.absolute > 0 else None,
            idle=life.idle if life.idle > 0 else None,
        )
    )
    return sid


def live_session(at: int) -> Any:
    """The condition of a session that still counts at ``at``."""
    return and_(
        sessions.c.ended.is_(None),
        or_(sessions.c.expires.is_(None), sessions.c.expires > at),
        or_(sessions.c.idle.is_(None), sessions.c.lastseen + sessions.c.idle > at),
    )


def end_session(conn: Connection, sid: str) -> bool:
    """Mark a session ended; False when it was unknown or already over."""
    result = conn.execute(
        update(sessions)
        .where(sessions.c.hash == digest(sid), sessions.c.ended.is_(None))
        .values(ended=now())
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class Keep:
    """The credential a request came with, spared when its user changes their own password."""

    session: int | None = None
    token: int | None = None
    grant: str | None = None


def end_credentials(
    conn: Connection, user_id: int, keep: Keep | None = None, *, api_keys: bool = False
) -> int:
    """End every session and sign-in token of ``user_id`` (and API keys when ``api_keys``),
    except what ``keep`` names; returns how many ended. Runs in the caller's transaction, so
    the change and the ending commit together."""
    keep = keep or Keep()
    ts = now()
    kinds = SIGN_IN_KINDS + (("apikey",) if api_keys else ())
    token_where = [tokens.c.user == user_id, tokens.c.revoked.is_(None), tokens.c.kind.in_(kinds)]
    if keep.token is not None:
        token_where.append(tokens.c.ID != keep.token)
    if keep.grant is not None:
        token_where.append(or_(tokens.c.grant.is_(None), tokens.c.grant != keep.grant))
    ended = conn.execute(update(tokens).where(*token_where).values(revoked=ts)).rowcount or 0
    session_where = [sessions.c.user == user_id, sessions.c.ended.is_(None)]
    if keep.session is not None:
        session_where.append(sessions.c.ID != keep.session)
    ended += conn.execute(update(sessions).where(*session_where).values(ended=ts)).rowcount or 0
    return int(ended)


def list_sessions(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    """The user's sessions that still count, newest first."""
    at = now()
    rows = conn.execute(
        select(sessions)
        .where(sessions.c.user == user_id, live_session(at))
        .order_by(sessions.c.ID.desc())
    )
    return [
        {
            "id": r.ID,
            "created": r.created,
            "lastseen": r.lastseen,
            "expires": r.expires,
            "idle": r.idle,
            "ip": r.ip,
        }
        for r in rows
    ]


def end_session_id(conn: Connection, session_id: int, user_id: int | None = None) -> bool:
    where = [sessions.c.ID == session_id, sessions.c.ended.is_(None)]
    if user_id is not None:
        where.append(sessions.c.user == user_id)
    return bool(conn.execute(update(sessions).where(*where).values(ended=now())).rowcount)


# -- recording use ----------------------------------------------------------------------

_toucher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="officina-touch")


def _sync_engine(conn: Connection) -> Engine:
    """The thread-side engine of ``conn``'s database (the event loop's engine cannot be
    used from another thread)."""
    engine = conn.engine
    if getattr(engine.dialect, "is_async", False):
        from officina.core.store import postgres_engine

        return postgres_engine(engine.url.render_as_string(hide_password=False))
    return engine


def _touch(engine: Engine, options: dict[str, Any], table: Table, row_id: int, at: int) -> None:
    column = table.c.lastseen if table is sessions else table.c.lastused
    try:
        with engine.connect() as c:
            c = c.execution_options(**options)
            with c.begin():
                c.execute(
                    update(table)
                    .where(table.c.ID == row_id, or_(column.is_(None), column < at))
                    .values({column.name: at})
                )
    except Exception:  # a lost record only shortens an idle lifetime by a minute
        log.warning("could not record the use of a credential", exc_info=True)


def note_use(conn: Connection, table: Table, row_id: int, last: int | None, at: int) -> None:
    """Record that a session (``sessions``) or token (``tokens``) was used at ``at``, unless
    that was done less than :data:`TOUCH_EVERY` seconds ago."""
    if last is not None and at - last < TOUCH_EVERY:
        return
    options = {k: v for k, v in conn.get_execution_options().items() if k == "schema_translate_map"}
    options["officina_write"] = True
    _toucher.submit(_touch, _sync_engine(conn), options, table, row_id, at)


def wait_for_use_records() -> None:
    """Block until every use noted so far is written (tests, orderly shutdown)."""
    done: Future[None] = _toucher.submit(lambda: None)
    done.result()
