"""Slows down password guessing at the sign-in endpoints of every face, without handing an
attacker a way to lock the owner out.

Failures are counted in the instance's own store (so every worker process sees the same
counts) under three keys:

- ``pair:<login>|<address>``: one account guessed from one client address. After
  ``Limits.pair_free`` failures each further attempt from that address must wait a delay that
  doubles per failure (1 s, 2 s, 4 s, ...); at ``Limits.account`` failures that address is
  refused for the account until the window ends. A correct password clears the pair.
- ``address:<address>``: one address across every account (a password sprayer). Past a fifth
  of ``Limits.address`` the same doubling delays apply, at ``Limits.address`` it is refused.
- ``account:<login>``: one account across every address. It never refuses an address that has
  not failed for the account, so a correct password from a clean address always gets through;
  once it reaches ``Limits.account_wide`` failures, addresses that have failed for the account
  at least once are refused until the window ends (many addresses guessing one account).

A refusal or a delay answers 429 with ``Retry-After`` without checking the password, which
also keeps a flood of guesses from spending the server's CPU on password hashing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Integer, String, Table, case, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from officina.core import clock
from officina.core.auth import Principal, password_principal
from officina.core.errors import HttpError
from officina.core.schema import metadata
from officina.core.store import Store

login_failures = Table(
    "login_failures",
    metadata,
    # "pair:<login>|<ip>", "account:<login>" or "address:<ip>"
    Column("key", String(320), primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    # When the latest failure happened: the growing delays count from it.
    Column("last_failure", BigInteger, nullable=True),
)

# Longest single delay, in seconds, before the hard limit takes over.
MAX_DELAY = 60
LOGIN_CHARS = 240
ADDRESS_CHARS = 64


@dataclass(frozen=True)
class Limits:
    # Failures of one account from one address before that address is refused for it.
    account: int = 10
    # Failures from one address across every account before the address is refused.
    address: int = 100
    window: int = 15 * 60

    @property
    def pair_free(self) -> int:
        """Failures of one account from one address that cost no waiting."""
        return max(1, min(3, self.account - 1))

    @property
    def address_free(self) -> int:
        return max(1, self.address // 5)

    @property
    def account_wide(self) -> int:
        return self.account * 5


LIMITS = Limits()
# One failure in this many also deletes the counters whose window has passed.
SWEEP_ONE_IN = 100


def configure(account: int, address: int, window: int) -> None:
    """Set the limits this process applies (from the server's settings)."""
    global LIMITS
    LIMITS = Limits(account, address, window)


def _login(login: str) -> str:
    return login.strip().lower()[:LOGIN_CHARS]


def pair_key(login: str, address: str) -> str:
    return f"pair:{_login(login)}|{address[:ADDRESS_CHARS]}"


def account_key(login: str) -> str:
    return f"account:{_login(login)}"


def address_key(address: str) -> str:
    return f"address:{address[:ADDRESS_CHARS]}"


def delay(failures: int, free: int) -> int:
    """Seconds to wait after the latest of ``failures`` before the next attempt."""
    if failures < free:
        return 0
    return int(min(MAX_DELAY, 2 ** min(failures - free, 16)))


def retry_after(store: Store, login: str, address: str) -> int | None:
    """Seconds until sign-in may be tried again from ``address``, or None when it may be
    tried now."""
    pair, account, per_address = pair_key(login, address), account_key(login), address_key(address)
    current = clock.now()
    limits = LIMITS
    with store.read() as conn:
        rows = {
            row.key: row
            for row in conn.execute(
                select(login_failures).where(login_failures.c.key.in_([pair, account, per_address]))
            )
            if row.window_start + limits.window > current
        }
    waits: list[int] = []

    def held(key: str, limit: int, free: int) -> None:
        row = rows.get(key)
        if row is None:
            return
        if row.failures >= limit:
            waits.append(row.window_start + limits.window - current)
            return
        last = row.last_failure if row.last_failure is not None else row.window_start
        pause = last + delay(row.failures, free) - current
        if pause > 0:
            waits.append(pause)

    held(pair, limits.account, limits.pair_free)
    held(per_address, limits.address, limits.address_free)
    wide = rows.get(account)
    if wide is not None and wide.failures >= limits.account_wide and pair in rows:
        waits.append(wide.window_start + limits.window - current)
    return max(waits) if waits else None


def record_failure(store: Store, login: str, address: str) -> None:
    current = clock.now()
    window = LIMITS.window
    build = pg_insert if store.dialect == "postgresql" else sqlite_insert
    with store.write() as conn:
        if secrets.randbelow(SWEEP_ONE_IN) == 0:
            # Guesses at ever new names leave rows; expired ones are swept now and then.
            conn.execute(
                delete(login_failures).where(login_failures.c.window_start < current - window)
            )
        for key in (pair_key(login, address), account_key(login), address_key(address)):
            stmt = build(login_failures).values(
                key=key, window_start=current, failures=1, last_failure=current
            )
            expired = stmt.excluded.window_start - window >= login_failures.c.window_start
            stmt = stmt.on_conflict_do_update(
                index_elements=[login_failures.c.key],
                set_={
                    "failures": case((expired, 1), else_=login_failures.c.failures + 1),
                    "window_start": case(
                        (expired, stmt.excluded.window_start), else_=login_failures.c.window_start
                    ),
                    "last_failure": stmt.excluded.last_failure,
                },
            )
            conn.execute(stmt)


def forget_pair(store: Store, login: str, address: str) -> None:
    """A correct password clears its own address's count for the account, nothing more: the
    account-wide and per-address counts keep what other guesses did."""
    with store.write() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.key == pair_key(login, address)))


def forget_account(store: Store, login: str) -> int:
    """Clear every count of an account (``officina user unlock``); returns the rows cleared."""
    prefix = f"pair:{_login(login)}|"
    with store.write() as conn:
        result = conn.execute(
            delete(login_failures).where(
                or_(
                    login_failures.c.key == account_key(login),
                    login_failures.c.key.startswith(prefix, autoescape=True),
                )
            )
        )
    return int(result.rowcount or 0)


def forget_address(store: Store, address: str) -> int:
    """Clear the count of one client address across accounts."""
    with store.write() as conn:
        result = conn.execute(
            delete(login_failures).where(
                or_(
                    login_failures.c.key == address_key(address),
                    login_failures.c.key.endswith(f"|{address[:ADDRESS_CHARS]}", autoescape=True),
                )
            )
        )
    return int(result.rowcount or 0)


def too_many(seconds: int) -> HttpError:
    return HttpError(
        429,
        "Too Many Requests: too many failed sign-ins; try again later",
        {"Retry-After": str(max(1, seconds))},
    )


def check_password(
    store: Store, login: str, password: str, scheme: str, address: str
) -> Principal | None:
    """``password_principal`` behind the throttle: 429 while delayed or refused, failures
    counted, a success clearing its own address's count."""
    wait = retry_after(store, login, address)
    if wait is not None:
        raise too_many(wait)
    with store.read() as conn:
        principal = password_principal(conn, login, password, scheme)
    if principal is None:
        record_failure(store, login, address)
    else:
        forget_pair(store, login, address)
    return principal
