"""Where a request's store work runs: PostgreSQL work that only waits on the database runs on
the event loop through the asynchronous driver; everything else goes to a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text

from officina.core.schema import instance_settings
from officina.core.store import LOOP_POOL_SIZE, run_store_work
from tests.conftest import Env, unique


def _where(env: Env, may_stall: bool) -> dict[str, Any]:
    """Run a statement through run_store_work and report the thread and driver it used."""

    def work() -> dict[str, Any]:
        with env.store.read(lookups=True) as conn:
            value = conn.execute(text("SELECT 41 + 1")).scalar_one()
            driver = type(conn.connection.driver_connection).__name__
        return {"thread": threading.get_ident(), "driver": driver, "value": value}

    async def main() -> tuple[int, dict[str, Any]]:
        return threading.get_ident(), await run_store_work(env.store, work, may_stall=may_stall)

    loop_thread, seen = asyncio.run(main())
    return {**seen, "on_loop": seen["thread"] == loop_thread}


def test_short_work_runs_on_the_loop_only_on_postgresql(env: Env) -> None:
    seen = _where(env, may_stall=False)
    assert seen["value"] == 42
    if env.kind == "postgres":
        assert seen["on_loop"]
        assert seen["driver"] == "AsyncConnection"
    else:
        assert not seen["on_loop"]
        assert seen["driver"] == "Connection"


def test_work_that_may_stall_goes_to_a_thread(env: Env) -> None:
    seen = _where(env, may_stall=True)
    assert seen["value"] == 42
    assert not seen["on_loop"]
    assert seen["driver"] == "Connection"


def _beyond_the_pool(env: Env) -> list[int]:
    """More concurrent store work than the loop's pool has connections, in one event loop."""
    started = LOOP_POOL_SIZE * 2 + 3
    sql = "SELECT pg_backend_pid() FROM pg_sleep(0.02)" if env.kind == "postgres" else "SELECT 7"

    def work() -> int:
        with env.store.read(lookups=True) as conn:
            return int(conn.execute(text(sql)).scalar_one())

    async def main() -> list[int]:
        return list(
            await asyncio.gather(*(run_store_work(env.store, work) for _ in range(started)))
        )

    answers = asyncio.run(main())
    assert len(answers) == started
    return answers


def test_more_concurrent_work_than_pooled_connections_waits_its_turn(env: Env) -> None:
    """Work beyond the pool's size waits for a connection: on PostgreSQL the loop's pool
    opens none past its size; every piece of work still gets its answer."""
    answers = _beyond_the_pool(env)
    if env.kind == "postgres":
        assert len(set(answers)) <= LOOP_POOL_SIZE
    else:
        assert set(answers) == {7}


def test_the_pool_serves_one_event_loop_after_another(env: Env) -> None:
    """A program that runs event loops in turn (a test client starts one per request) can
    drain the pool under each of them."""
    for _ in range(3):
        answers = _beyond_the_pool(env)
        assert len(set(answers)) <= (LOOP_POOL_SIZE if env.kind == "postgres" else 1)


def _in_transaction(conn: Any) -> bool:
    """Whether the block's statements run inside a transaction the database opened for it
    (two statements see one transaction id only inside one)."""
    if conn.dialect.name != "postgresql":
        return bool(conn.connection.dbapi_connection.in_transaction)
    first = conn.execute(text("SELECT txid_current()")).scalar_one()
    return bool(first == conn.execute(text("SELECT txid_current()")).scalar_one())


def test_lookups_run_without_a_transaction_and_other_blocks_within_one(env: Env) -> None:
    """On the loop's PostgreSQL connections, which stay in autocommit between uses, lookups
    take no transaction while reads and writes get one, whichever block the connection
    served before; a write that fails leaves nothing behind."""
    key = unique("mode")

    def blocks() -> list[bool]:
        seen = []
        for _ in range(2):
            with env.store.read(lookups=True) as conn:
                seen.append(_in_transaction(conn))
            with env.store.read() as conn:
                conn.execute(text("SELECT 1"))
                seen.append(_in_transaction(conn))
            with env.store.write() as conn:
                conn.execute(text("SELECT 1"))
                seen.append(_in_transaction(conn))
        with pytest.raises(RuntimeError), env.store.write() as conn:
            conn.execute(insert(instance_settings).values(key=key, value="1"))
            raise RuntimeError("the block fails after its insert")
        with env.store.read(lookups=True) as conn:
            left = conn.execute(
                select(instance_settings.c.key).where(instance_settings.c.key == key)
            ).all()
        assert left == []
        return seen

    async def main() -> list[bool]:
        return await run_store_work(env.store, blocks)

    seen = asyncio.run(main())
    if env.kind == "postgres":
        assert seen == [False, True, True] * 2
    else:
        assert seen[2::3] == [True, True]


def test_the_loop_keeps_one_lookup_connection_on_sqlite(env: Env) -> None:
    """Lookups run on the event loop's thread reuse one connection there; a block nested in
    another takes an ordinary one, and closing the store closes the kept one."""

    def driver_of(conn: Any) -> int:
        return id(conn.connection.driver_connection)

    with env.store.loop_lookups() as first:
        outer = driver_of(first)
        assert first.execute(text("SELECT 5")).scalar_one() == 5
        with env.store.loop_lookups() as nested:
            assert driver_of(nested) != outer
            assert nested.execute(text("SELECT 6")).scalar_one() == 6
    with env.store.loop_lookups() as again:
        assert (driver_of(again) == outer) == (env.kind == "sqlite")
        assert not again.in_transaction() or env.kind == "postgres"
    # A store of its own (the same instance opened again), so closing it spares the others.
    spare = env.instances._open("main")
    with spare.loop_lookups() as conn:
        held = conn
    assert held.closed == (env.kind == "postgres")
    spare.dispose()
    assert held.closed


def test_the_loops_writes_leave_waits_and_checkpoints_to_threads(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's write connection neither waits for the lock nor checkpoints the log itself;
    every CHECKPOINT_EVERY commits a worker thread checkpoints. Pooled connections keep
    SQLite's usual settings."""
    if env.kind == "postgres":
        with pytest.raises(RuntimeError), env.store.loop_write():
            pass
        return
    loop = env.store.loop
    assert loop is not None
    monkeypatch.setattr(loop, "CHECKPOINT_EVERY", 2)
    checkpoints: list[int] = []
    real = loop._checkpoint

    def recording() -> None:
        checkpoints.append(threading.get_ident())
        real()

    monkeypatch.setattr(loop, "_checkpoint", recording)
    key = unique("probe")

    async def main() -> tuple[int, list[int]]:
        settings: list[int] = []
        for n in range(4):
            with env.store.loop_write() as conn:
                driver = conn.connection.dbapi_connection
                settings = [
                    driver.execute(f"PRAGMA {name}").fetchone()[0]
                    for name in ("busy_timeout", "wal_autocheckpoint")
                ]
                conn.execute(delete(instance_settings).where(instance_settings.c.key == key))
                conn.execute(insert(instance_settings).values(key=key, value=n))
        await asyncio.sleep(0.5)
        return threading.get_ident(), settings

    loop_thread, settings = asyncio.run(main())
    assert settings == [0, 0]
    assert len(checkpoints) == 2 and loop_thread not in checkpoints
    with env.store.write() as conn:
        driver = conn.connection.dbapi_connection
        assert driver.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        stored = conn.execute(
            select(instance_settings.c.value).where(instance_settings.c.key == key)
        ).scalar_one()
        conn.execute(delete(instance_settings).where(instance_settings.c.key == key))
    assert stored == 3
