"""Cookie sessions (``ZEYOSID``): created by a login page, ended by logout or timeout.

Only the SHA-256 of a session id is stored; the id itself goes to the browser once.
"""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from officina.core.clock import now
from officina.core.ids import digest, new_secret
from officina.core.schema import sessions


def create_session(conn: Connection, user_id: int, ip: str = "") -> str:
    """Open a session for ``user_id``; returns the 40-hex id to send as the cookie."""
    sid = new_secret()
    ts = now()
    conn.execute(
        insert(sessions).values(hash=digest(sid), user=user_id, created=ts, lastseen=ts, ip=ip[:64])
    )
    return sid


def end_session(conn: Connection, sid: str) -> bool:
    """Mark a session ended; False when it was unknown or already over."""
    result = conn.execute(
        update(sessions)
        .where(sessions.c.hash == digest(sid), sessions.c.ended.is_(None))
        .values(ended=now())
    )
    return bool(result.rowcount)
