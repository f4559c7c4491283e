"""Slows down password guessing at the sign-in endpoints of every face.

Failures are counted per account and per client address in the instance's own store, so
every worker process sees the same counts. Past the limit within the window, sign-in answers
429 with ``Retry-After`` without even checking the password, which also keeps a flood of
guesses from spending the server's CPU on password hashing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Integer, String, Table, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from officina.core.auth import Principal, password_principal
from officina.core.clock import now
from officina.core.errors import HttpError
from officina.core.schema import metadata
from officina.core.store import Store

login_failures = Table(
    "login_failures",
    metadata,
    # "account:<login>" or "address:<ip>"
    Column("key", String(320), primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
)


@dataclass(frozen=True)
class Limits:
    account: int = 10
    address: int = 100
    window: int = 15 * 60


LIMITS = Limits()
# One failure in this many also deletes the counters whose window has passed.
SWEEP_ONE_IN = 100


def configure(account: int, address: int, window: int) -> None:
    """Set the limits this process applies (from the server's settings)."""
    global LIMITS
    LIMITS = Limits(account, address, window)


def _keys(login: str, address: str) -> dict[str, int]:
    return {
        f"account:{login.strip().lower()[:300]}": LIMITS.account,
        f"address:{address[:300]}": LIMITS.address,
    }


def retry_after(store: Store, login: str, address: str) -> int | None:
    """Seconds until sign-in may be tried again, or None when it may be tried now."""
    keys = _keys(login, address)
    current = now()
    with store.read() as conn:
        rows = conn.execute(select(login_failures).where(login_failures.c.key.in_(list(keys))))
        waits = [
            row.window_start + LIMITS.window - current
            for row in rows
            if row.failures >= keys[row.key] and row.window_start + LIMITS.window > current
        ]
    return max(waits) if waits else None


def record_failure(store: Store, login: str, address: str) -> None:
    current = now()
    build = pg_insert if store.dialect == "postgresql" else sqlite_insert
    with store.write() as conn:
        if secrets.randbelow(SWEEP_ONE_IN) == 0:
            # Guesses at ever new names leave a row each; expired ones are swept now and then.
            conn.execute(
                delete(login_failures).where(
                    login_failures.c.window_start < current - LIMITS.window
                )
            )
        for key in _keys(login, address):
            stmt = build(login_failures).values(key=key, window_start=current, failures=1)
            expired = stmt.excluded.window_start - LIMITS.window >= login_failures.c.window_start
            stmt = stmt.on_conflict_do_update(
                index_elements=[login_failures.c.key],
                set_={
                    "failures": case((expired, 1), else_=login_failures.c.failures + 1),
                    "window_start": case(
                        (expired, stmt.excluded.window_start), else_=login_failures.c.window_start
                    ),
                },
            )
            conn.execute(stmt)


def forget_account(store: Store, login: str) -> None:
    with store.write() as conn:
        conn.execute(
            delete(login_failures).where(
                login_failures.c.key == f"account:{login.strip().lower()[:300]}"
            )
        )


def too_many(seconds: int) -> HttpError:
    return HttpError(
        429,
        "Too Many Requests: too many failed sign-ins; try again later",
        {"Retry-After": str(max(1, seconds))},
    )


def check_password(
    store: Store, login: str, password: str, scheme: str, address: str
) -> Principal | None:
    """``password_principal`` behind the throttle: 429 while blocked, failures counted."""
    wait = retry_after(store, login, address)
    if wait is not None:
        raise too_many(wait)
    with store.read() as conn:
        principal = password_principal(conn, login, password, scheme)
    if principal is None:
        record_failure(store, login, address)
    else:
        forget_account(store, login)
    return principal
