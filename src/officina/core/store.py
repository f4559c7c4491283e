"""Where an instance's data lives, and how a request gets a connection to it.

Each instance (one company) is isolated: on SQLite it is a file of its own, on PostgreSQL a
schema of its own. A small control store lists the instances and where each one lives, so
every worker process finds the same instances without sharing memory.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool
from sqlalchemy.util.concurrency import greenlet_spawn, in_greenlet
from sqlalchemy.util.queue import AsyncAdaptedQueue
from starlette.concurrency import run_in_threadpool

from officina.core.errors import HttpError
from officina.core.loop_conns import LoopConnections
from officina.core.sqlfuncs import install_sqlite_functions
from officina.settings import Settings

# Lower-case start, then letters, digits, '_' and '-'. Short enough that the PostgreSQL schema
# name built from it stays within the 63-byte identifier limit.
INSTANCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
# First path segments that belong to the server, not to an instance.
RESERVED_NAMES = frozenset({"healthz", "readyz", "metrics", "docs", "static", "favicon.ico"})
CONTROL_SCHEMA = "officina"
SCHEMA_PREFIX = "inst_"


def valid_instance_name(name: str) -> bool:
    return bool(INSTANCE_NAME.match(name)) and name not in RESERVED_NAMES


def sqlalchemy_url(url: str) -> str:
    """Accept the plain ``postgresql://`` URLs people copy around; pick the psycopg driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# A query parameter of officina's own in a PostgreSQL URL: the server behind it is a
# pooler in transaction mode (PgBouncer), which hands each transaction to any of its server
# connections, so nothing may outlive a transaction there. psycopg would otherwise prepare
# statements it runs often on the server connection it happened to use.
POOLER_PARAMETER = "pgbouncer"


def _pg_target(url: str) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL for ``url`` without officina's own parameter, and the driver
    arguments that parameter asks for."""
    target = make_url(sqlalchemy_url(url))
    flag = target.query.get(POOLER_PARAMETER)
    if flag is None:
        return target.render_as_string(hide_password=False), {}
    value = flag if isinstance(flag, str) else flag[-1]
    target = target.difference_update_query([POOLER_PARAMETER])
    if value.strip().lower() not in ("1", "true", "yes", "on"):
        return target.render_as_string(hide_password=False), {}
    return target.render_as_string(hide_password=False), {"prepare_threshold": None}


def _sqlite_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        # Connections are kept, not made per request: a new one (with its pragmas and
        # functions) cost more than the request's own queries. They open only when needed,
        # so the bound is room for OFFICINA_THREADS raised well past its SQLite default
        # plus the reads that run on the event loop.
        pool_size=40,
        max_overflow=10,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how a transaction starts (see below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.close()
        install_sqlite_functions(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take SQLite's write lock up front: a deferred transaction that upgrades
        # later can fail with "database is locked" instead of waiting its turn.
        # Sent straight to the driver: every request begins a transaction, and SQLAlchemy's
        # statement machinery cost more than SQLite's BEGIN itself.
        # A connection kept by the event loop has begun its transaction itself.
        write = conn.get_execution_options().get("officina_write")
        driver: Any = conn.connection.dbapi_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")

    return engine


_pg_engines: dict[str, Engine] = {}
_pg_loop_engines: dict[str, Engine] = {}
_pg_lock = threading.Lock()


def postgres_engine(url: str) -> Engine:
    """One pooled engine per PostgreSQL database, shared by all instances placed there.

    Work on worker threads uses it (lists, exports, sign-ins with a password, the other
    faces, the command line)."""
    key = sqlalchemy_url(url)
    with _pg_lock:
        engine = _pg_engines.get(key)
        if engine is None:
            target, connect_args = _pg_target(url)
            # No ping before each checkout: it doubled the round trips of a short request.
            # A connection broken by a database restart fails one request and is replaced.
            engine = create_engine(
                target,
                connect_args=connect_args,
                pool_size=20,
                max_overflow=20,
                pool_recycle=1800,
            )
            _pg_engines[key] = engine
        return engine


# Connections of the engine that serves work on the event loop. No overflow: a connection
# opened past the pool's size is closed again when it is given back, so a burst above the
# size opened and closed a connection (a PostgreSQL process) per request; waiting for a
# pooled connection is cheaper and does not block the loop.
LOOP_POOL_SIZE = 16


class _AnyLoopQueue(AsyncAdaptedQueue[Any]):
    """The loop pool's idle connections, for whichever event loop is running.

    asyncio's queue ties itself to the first loop that waits on it, so once the pool had been
    drained under one loop, a program that runs several loops in turn (a test client starts
    one per request) found the pool unusable under the next. With nobody waiting, the tie is
    loosened before each use; a server runs a single loop and never notices."""

    def _loosen(self) -> None:
        queue = self.__dict__.get("_queue")
        if queue is None or getattr(queue, "_loop", None) is None:
            return
        if not getattr(queue, "_getters", None) and not getattr(queue, "_putters", None):
            queue._loop = None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        self._loosen()
        return super().get(block, timeout)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self._loosen()
        super().put(item, block, timeout)


class _AnyLoopPool(AsyncAdaptedQueuePool):
    _queue_class = _AnyLoopQueue


# The loop engine's connections stay in autocommit between uses: most of its work is a
# request's lookups, which want no transaction (see ``Store.read``), and switching a psycopg
# asynchronous connection into autocommit and back at every checkout cost about a sixth of
# a single-row GET. Blocks that need a transaction ask for this level instead.
TRANSACTIONAL = "READ COMMITTED"


def postgres_loop_engine(url: str) -> Engine:
    """The same database through psycopg's asynchronous connections, for store work run on
    the event loop by :func:`run_store_work`; in autocommit unless a block asks otherwise."""
    key = sqlalchemy_url(url)
    with _pg_lock:
        engine = _pg_loop_engines.get(key)
        if engine is None:
            target, connect_args = _pg_target(url)
            engine = create_async_engine(
                target,
                connect_args=connect_args,
                poolclass=_AnyLoopPool,
                pool_size=LOOP_POOL_SIZE,
                max_overflow=0,
                pool_recycle=1800,
                isolation_level="AUTOCOMMIT",
            ).sync_engine
            _pg_loop_engines[key] = engine
        return engine


def dispose_engines() -> None:
    with _pg_lock:
        for engine in _pg_engines.values():
            engine.dispose()
        _pg_engines.clear()
        for engine in _pg_loop_engines.values():
            # Closing an asynchronous connection needs its event loop; let them go instead.
            engine.dispose(close=False)
        _pg_loop_engines.clear()


@dataclass
class Store:
    """One instance's data: an engine plus, on PostgreSQL, the instance's schema."""

    name: str
    engine: Engine
    schema: str | None = None
    # Where it lives when it has a database of its own (None: the server's store).
    database_url: str | None = None
    # Set while the instance is being moved: writes are refused until it is back.
    read_only: bool = False
    # When this process last checked the routing table for it (monotonic seconds).
    checked: float = 0.0
    # PostgreSQL: the same database through the asynchronous driver, used by work that
    # run_store_work runs on the event loop.
    loop_engine: Engine | None = None
    # SQLite: the connections each event loop's thread keeps for the work it runs itself.
    loop: LoopConnections | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.loop is None and self.dialect == "sqlite":
            self.loop = LoopConnections(self.engine, self._options)

    def _engine(self) -> Engine:
        """The loop engine inside work run on the event loop (a greenlet of SQLAlchemy's,
        where its asynchronous driver can wait), the threads' engine everywhere else."""
        if self.loop_engine is not None and in_greenlet():
            return self.loop_engine
        return self.engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _options(self, write: bool) -> dict[str, Any]:
        # ``officina_instance``: lets the change log name the instance a write belongs to.
        opts: dict[str, Any] = {"officina_write": write, "officina_instance": self.name}
        if self.schema is not None:
            opts["schema_translate_map"] = {None: self.schema}
        return opts

    def _connect(self, write: bool, lookups: bool = False) -> Connection:
        """A connection of the engine the calling code should use, with the store's options;
        on PostgreSQL in autocommit exactly when ``lookups``."""
        engine = self._engine()
        options = self._options(write)
        if engine is self.loop_engine:  # autocommit unless told otherwise
            if not lookups:
                options["isolation_level"] = TRANSACTIONAL
        elif lookups and self.dialect == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        conn = engine.connect()
        try:
            return conn.execution_options(**options)
        except BaseException:
            conn.close()
            raise

    @contextmanager
    def read(self, lookups: bool = False) -> Iterator[Connection]:
        """A connection for reads; its implicit transaction is rolled back at the end.

        ``lookups``: the block only looks rows up (no time limit, no locks), so PostgreSQL
        runs it without a transaction: under READ COMMITTED each statement sees a snapshot of
        its own anyway, and BEGIN and ROLLBACK were half of a short read's round trips.
        SQLite keeps its transaction, which costs no round trip and gives the block one
        snapshot.
        """
        with self._connect(False, lookups) as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    def _writable(self) -> None:
        if self.read_only:
            raise HttpError(
                503, "Service Unavailable: the instance is being moved", {"Retry-After": "10"}
            )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        self._writable()
        with self._connect(True) as conn, conn.begin():
            yield conn

    def loop_lookups(self) -> AbstractContextManager[Connection]:
        """``read(lookups=True)`` for work run on the event loop itself: on SQLite through
        the connection the loop's thread keeps (see ``loop_conns``)."""
        if self.loop is None:
            return self.read(lookups=True)
        return self.loop.lookups(lambda: self.read(lookups=True))

    @contextmanager
    def loop_write(self) -> Iterator[Connection]:
        """``write()`` for work run on the event loop itself (SQLite only); raises
        :class:`WriteLockTaken` at once where ``write()`` would wait for the lock."""
        self._writable()
        if self.loop is None:
            raise RuntimeError("only SQLite stores write on the event loop")
        with self.loop.write() as conn:
            yield conn

    def dispose(self) -> None:
        if self.loop is not None:
            self.loop.close()
        if self.dialect == "sqlite":
            self.engine.dispose()


T = TypeVar("T")


async def run_store_work(store: Store, work: Callable[[], T], *, may_stall: bool = False) -> T:
    """Run a request's store work without holding up the event loop while it waits.

    On PostgreSQL, work whose only waits are the database's runs on the loop itself, in a
    greenlet: its statements go through the asynchronous driver (``Store.loop_engine``) and
    the loop serves other requests while they are under way. Handing the work to a thread
    and back cost more than a short request's own statements, and with many busy threads
    each network wait also handed the interpreter lock around. Callers pass ``may_stall``
    for work that would hold the loop for long without waiting on the database (hashing a
    password, reading many rows); it goes to a worker thread, as does all work on SQLite,
    which has no asynchronous driver and whose write lock is waited for in the driver.
    """
    if store.loop_engine is not None and not may_stall:
        return cast(T, await greenlet_spawn(work))
    return await run_in_threadpool(work)


control_metadata = MetaData()
instances_table = Table(
    "instances",
    control_metadata,
    Column("name", String(64), primary_key=True),
    Column("created", BigInteger, nullable=False),
    # None: the server's default database. Otherwise the PostgreSQL URL of its own database.
    Column("database_url", Text, nullable=True),
    Column("state", String(16), nullable=False, server_default=text("'active'")),
)


class Instances:
    """The control store plus a process-local cache of opened instance stores.

    The cache only holds connection handles. Each entry is re-checked against the routing
    table at most every ``ROUTE_TTL`` seconds, so every worker notices within that time when
    an instance is created, dropped, made read-only or moved by another process.
    """

    ROUTE_TTL = 2.0

    def __init__(self, settings: Settings, prepare: Callable[[Store], None] | None = None) -> None:
        self.settings = settings
        # Brings a freshly opened store to the current schema (the migration runner).
        self._prepare = prepare
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()
        if settings.is_postgres:
            assert settings.database_url is not None
            self._control_engine = postgres_engine(settings.database_url)
            self._control_schema: str | None = settings.schema_prefix + CONTROL_SCHEMA
        else:
            self._control_engine = create_engine(
                f"sqlite+pysqlite:///{Path(settings.data_dir) / 'officina.sqlite'}",
                poolclass=NullPool,
            )
            Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
            self._control_schema = None
        self._ensure_control()

    # -- control store ----------------------------------------------------------------

    def _control(self) -> Any:
        conn = self._control_engine.connect()
        if self._control_schema:
            conn = conn.execution_options(schema_translate_map={None: self._control_schema})
        return conn

    def _ensure_control(self) -> None:
        with self._control_engine.begin() as conn:
            if self._control_schema:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self._control_schema}"'))
                conn = conn.execution_options(schema_translate_map={None: self._control_schema})
            control_metadata.create_all(conn, checkfirst=True)

    def names(self) -> list[str]:
        with self._control() as conn:
            rows = conn.execute(select(instances_table.c.name).order_by(instances_table.c.name))
            return [r[0] for r in rows]

    def _placement(self, name: str) -> tuple[bool, str | None, str]:
        """(listed, database URL of its own or None, state) from the routing table."""
        if not valid_instance_name(name):
            return False, None, "active"
        with self._control() as conn:
            row = conn.execute(
                select(instances_table.c.database_url, instances_table.c.state).where(
                    instances_table.c.name == name
                )
            ).first()
        if row is None:
            return False, None, "active"
        return True, row.database_url, row.state

    def exists(self, name: str) -> bool:
        return self.lookup(name) is not None

    def database_url(self, name: str) -> str | None:
        """Where an instance lives when it has a database of its own (None: the default)."""
        return self._placement(name)[1]

    def state(self, name: str) -> str:
        return self._placement(name)[2]

    def create(self, name: str, database_url: str | None = None) -> Store:
        """Register a new instance and build its schema; refuses names already taken.

        ``database_url`` places the instance in a PostgreSQL database of its own (a cell);
        the routing table remembers it, so every worker finds the instance there.
        """
        if database_url is not None and not database_url.startswith(("postgresql", "postgres:")):
            raise ValueError("an instance's own database must be a postgresql:// URL")
        if name in RESERVED_NAMES:
            raise ValueError(
                f"invalid instance name {name!r}: it is reserved for the server's own paths "
                f"({', '.join(sorted(RESERVED_NAMES))})"
            )
        if not valid_instance_name(name):
            raise ValueError(
                f"invalid instance name {name!r}: use 1-48 characters a-z, 0-9, '_' or '-', "
                "starting with a letter or digit"
            )
        with self._control() as conn:
            taken = conn.execute(
                select(instances_table.c.name).where(instances_table.c.name == name)
            ).first()
        if taken:
            raise ValueError(f"instance {name!r} already exists")
        # Build the store first and list the instance only once it is complete, so a failed
        # migration leaves no half-made instance behind.
        store = self._open(name, database_url)
        if self._prepare is not None:
            self._prepare(store)
        with self._control() as conn:
            conn.execute(
                instances_table.insert().values(
                    name=name, created=int(time.time()), database_url=database_url
                )
            )
            conn.commit()
        with self._lock:
            store.checked = time.monotonic()
            self._stores[name] = store
        return store

    # -- instance stores --------------------------------------------------------------

    def _open(self, name: str, database_url: str | None = None) -> Store:
        url = database_url or (self.settings.database_url if self.settings.is_postgres else None)
        if url is not None:
            engine = postgres_engine(url)
            schema = self.settings.schema_prefix + SCHEMA_PREFIX + name
            return Store(
                name,
                engine,
                schema,
                database_url=database_url,
                loop_engine=postgres_loop_engine(url),
            )
        path = Path(self.settings.data_dir) / "instances" / f"{name}.sqlite"
        return Store(name, _sqlite_engine(path), None)

    def get(self, name: str) -> Store:
        """The store of an existing instance, migrated to the current schema on first use."""
        store = self.lookup(name)
        if store is None:
            raise KeyError(name)
        return store

    def lookup(self, name: str) -> Store | None:
        """The store of ``name`` or None (request routing); cheap while the entry is fresh."""
        store = self._stores.get(name)
        if store is not None and time.monotonic() - store.checked < self.ROUTE_TTL:
            return store
        listed, own_url, state = self._placement(name)
        with self._lock:
            store = self._stores.get(name)
            if not listed:
                if store is not None:
                    self._stores.pop(name, None)
                return None
            if store is None or store.database_url != own_url:
                store = self._open(name, own_url)
                if self._prepare is not None:
                    self._prepare(store)
                self._stores[name] = store
            store.read_only = state != "active"
            store.checked = time.monotonic()
            return store

    def drop(self, name: str) -> None:
        """Remove an instance and all its data (used to undo a failed restore)."""
        store = self._stores.pop(name, None) or self._open(name, self.database_url(name))
        self.destroy(store)
        with self._control() as conn:
            conn.execute(instances_table.delete().where(instances_table.c.name == name))
            conn.commit()

    def destroy(self, store: Store) -> None:
        """Delete one location's data of an instance (its schema, or its SQLite file)."""
        if store.schema is not None:
            with store.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE'))
            return
        store.dispose()
        path = Path(self.settings.data_dir) / "instances" / f"{store.name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def open_at(self, name: str, database_url: str | None) -> Store:
        """A store for ``name`` at a location of choice, built to the current schema (moves)."""
        store = self._open(name, database_url)
        if self._prepare is not None:
            self._prepare(store)
        return store

    def set_route(
        self, name: str, *, state: str, database_url: str | None = None, keep_url: bool = True
    ) -> None:
        """Change an instance's routing entry; workers follow within ``ROUTE_TTL``."""
        values: dict[str, Any] = {"state": state}
        if not keep_url:
            values["database_url"] = database_url
        with self._control() as conn:
            conn.execute(
                instances_table.update().where(instances_table.c.name == name).values(**values)
            )
            conn.commit()
        self._stores.pop(name, None)

    def schemas(self) -> list[str]:
        """PostgreSQL schemas this deployment uses (control schema first); empty on SQLite."""
        if self._control_schema is None:
            return []
        prefix = self.settings.schema_prefix + SCHEMA_PREFIX
        return [self._control_schema] + [
            prefix + n for n in self.names() if self.database_url(n) is None
        ]

    def close(self) -> None:
        for store in self._stores.values():
            store.dispose()
        self._stores.clear()
        self._control_engine.dispose()
