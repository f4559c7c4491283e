"""The SQLite connections an event loop's thread keeps for the store work it runs itself.

Short single-row work on SQLite runs on the event loop: handing it to a worker thread and
back cost more than the work, and with a thread and the loop both busy, every row SQLite
stepped over became a switch between threads. Such work is plain code with no wait inside,
so one connection per loop thread serves all of it, kept open between requests (taking a
pooled connection and giving it back cost more than the lookups it was taken for): one for
lookups and one for writes.

What could make the loop wait is kept off it. The write connection does not wait for
SQLite's write lock: when another connection (a worker thread, another process) holds it,
:class:`WriteLockTaken` says so at once and the caller does the work on a thread, which
waits its turn. Nor does it checkpoint the write-ahead log, which copies pages into the
database file and syncs it to disk: every ``CHECKPOINT_EVERY`` commits a worker thread does
that instead. Committing itself appends to the log without syncing (``synchronous=NORMAL``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from officina.core import known_callers

log = logging.getLogger("officina.store")

# Loop threads whose connections are kept at most before those of threads that are gone
# are closed (a test client starts an event loop on a thread of its own each time).
MAX_THREADS = 8


# Primary result codes of a lock held elsewhere (extended codes keep them in the low byte).
_LOCK_HELD = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class WriteLockTaken(Exception):
    """SQLite's write lock is held by another connection: write on a worker thread."""


class LoopConnections:
    """One store's kept connections, by the thread of the event loop that uses them."""

    CHECKPOINT_EVERY = 256

    def __init__(self, engine: Engine, options: Callable[[bool], dict[str, Any]]) -> None:
        self._engine = engine
        self._options = options
        self._lookups: dict[int, Connection] = {}
        self._writers: dict[int, Connection] = {}
        self._in_use: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._commits = 0

    @contextmanager
    def lookups(
        self, ordinary: Callable[[], AbstractContextManager[Connection]]
    ) -> Iterator[Connection]:
        """A connection for lookups; each statement sees the latest committed data, as any
        reader in WAL mode does, and a block that began a transaction is rolled back at its
        end. A block nested in another on the same thread takes an ``ordinary`` one."""
        ident = threading.get_ident()
        if ("lookups", ident) in self._in_use:
            with ordinary() as conn:
                yield conn
            return
        held = self._lookups.get(ident) or self._open(self._lookups, ident, write=False)
        with self._using("lookups", self._lookups, ident, held):
            yield held

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction on the loop's write connection, committed when the block
        ends; :class:`WriteLockTaken` before the block runs when the lock is held."""
        ident = threading.get_ident()
        if ("write", ident) in self._in_use:
            raise RuntimeError("a write block inside another on the event loop")
        held = self._writers.get(ident) or self._open(self._writers, ident, write=True)
        driver: Any = held.connection.dbapi_connection
        try:
            driver.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", 0) & 0xFF in _LOCK_HELD:
                raise WriteLockTaken() from err
            raise
        # The store's begin hook sees the transaction already open.
        with self._using("write", self._writers, ident, held), held.begin():
            yield held
        self._committed()

    @contextmanager
    def _using(
        self, kind: str, kept: dict[int, Connection], ident: int, held: Connection
    ) -> Iterator[None]:
        """One block's use of a kept connection: no other block of the thread takes it
        meanwhile, a connection the block broke is forgotten, and no transaction outlives
        the block."""
        self._in_use.add((kind, ident))
        try:
            yield
        except BaseException:
            if held.invalidated or held.closed:
                kept.pop(ident, None)
            raise
        finally:
            self._in_use.discard((kind, ident))
            if not held.closed and not held.invalidated:
                if held.in_transaction():
                    held.rollback()
                driver: Any = held.connection.dbapi_connection
                if driver.in_transaction:
                    driver.rollback()

    def _open(self, kept: dict[int, Connection], ident: int, write: bool) -> Connection:
        with self._lock:
            if len(self._lookups.keys() | self._writers.keys()) >= MAX_THREADS:
                alive = {t.ident for t in threading.enumerate()}
                for held in (self._lookups, self._writers):
                    for gone in [i for i in held if i not in alive]:
                        held.pop(gone).close()
            conn = self._engine.connect()
            if write:
                # Its settings differ from the pool's, so it never goes back to the pool.
                conn.connection.detach()
                driver: Any = conn.connection.dbapi_connection
                driver.execute("PRAGMA busy_timeout=0")
                driver.execute("PRAGMA wal_autocheckpoint=0")
                conn.execution_options(**self._options(True))
            else:
                # It never writes, so it may remember the callers it resolved.
                conn.execution_options(
                    **self._options(False),
                    **{known_callers.OPTION: known_callers.KnownCallers()},
                )
            kept[ident] = conn
            return conn

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop on this thread: nothing to keep free
            self._checkpoint()
            return
        loop.run_in_executor(None, self._checkpoint).add_done_callback(_report)

    def _checkpoint(self) -> None:
        """Copy what the log holds into the database file, as SQLite's automatic checkpoint
        would have done after one of the loop's commits (readers are not waited for)."""
        with self._engine.connect() as conn:
            driver: Any = conn.connection.dbapi_connection
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        with self._lock:
            for held in (self._lookups, self._writers):
                for conn in held.values():
                    conn.close()
                held.clear()


def _report(done: Future[None] | asyncio.Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.warning("checkpoint of the write-ahead log failed: %s", error)
