"""The floor of R1 and R5: the same server stack (uvicorn + Starlette) doing only the database
work of the measured request, straight through the driver officina uses, and nothing else:
no authentication, no access line, no metrics, no validation, no ETag.

The bare endpoint tells what the stack costs without a database; this one tells what a
request costs that must also reach the database once. officina cannot be faster than this
on the same machine, so ``floor ÷ bare`` is the highest R1 (or, against raw inserts, R5)
that any server built on this stack could reach here.

Configured from the environment by ``run.py``: ``FLOOR_SQLITE_FILE`` (an instance's SQLite
file) or ``FLOOR_POSTGRES_URL`` with ``FLOOR_POSTGRES_SCHEMA`` (an instance's schema).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SQLITE_FILE = os.environ.get("FLOOR_SQLITE_FILE")
POSTGRES_URL = os.environ.get("FLOOR_POSTGRES_URL")
POSTGRES_SCHEMA = os.environ.get("FLOOR_POSTGRES_SCHEMA", "public")
# As many connections as officina's event loop keeps for PostgreSQL.
POOL_SIZE = 16

READ = 'SELECT * FROM accounts WHERE "ID" = {}'
INSERT = (
    "INSERT INTO accounts (lastname, currency, creationdate, lastmodified, visibility) "
    "VALUES ({0}, {0}, 0, 0, 0) RETURNING *"
)


def _json(columns: list[str], row: Any, status: int = 200) -> Response:
    body = orjson.dumps(dict(zip(columns, row, strict=True)), default=str)
    return Response(body, status_code=status, media_type="application/json")


class SqliteFloor:
    """One connection on the event loop's thread, as officina keeps for its own lookups and
    writes on SQLite; WAL with ``synchronous=NORMAL``, as officina runs it."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    async def read(self, request: Request) -> Response:
        cursor = self.conn.execute(READ.format("?"), (int(request.path_params["id"]),))
        row = cursor.fetchone()
        if row is None:
            return Response(status_code=404)
        return _json([d[0] for d in cursor.description], row)

    async def insert(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = self.conn.execute(INSERT.format("?"), (body["lastname"], body["currency"]))
            row = cursor.fetchone()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return _json([d[0] for d in cursor.description], row, 201)


class PostgresFloor:
    """psycopg's asynchronous connections in autocommit, the driver and mode officina uses
    for a request's single-row work on its event loop."""

    def __init__(self) -> None:
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def open(self, url: str, schema: str) -> None:
        for _ in range(POOL_SIZE):
            conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
            await conn.execute(f'SET search_path TO "{schema}"')
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()

    async def _one(self, sql: str, params: tuple[Any, ...], status: int) -> Response:
        conn = await self.idle.get()
        try:
            cursor = await conn.execute(sql, params)
            row = await cursor.fetchone()
            columns = [d.name for d in cursor.description or ()]
        finally:
            self.idle.put_nowait(conn)
        if row is None:
            return Response(status_code=404)
        return _json(columns, row, status)

    async def read(self, request: Request) -> Response:
        return await self._one(READ.format("%s"), (int(request.path_params["id"]),), 200)

    async def insert(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        return await self._one(INSERT.format("%s"), (body["lastname"], body["currency"]), 201)


def build() -> Starlette:
    floor: SqliteFloor | PostgresFloor
    if POSTGRES_URL:
        floor = pg = PostgresFloor()

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            await pg.open(POSTGRES_URL, POSTGRES_SCHEMA)
            yield
            await pg.close()

    elif SQLITE_FILE:
        floor = SqliteFloor(SQLITE_FILE)
        lifespan = None  # type: ignore[assignment]
    else:
        raise SystemExit("set FLOOR_SQLITE_FILE or FLOOR_POSTGRES_URL")
    routes = [
        Route("/main/api/v1/accounts/{id}", floor.read, methods=["GET"]),
        Route("/main/api/v1/accounts", floor.insert, methods=["PUT"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


app = build()
