"""Where a request's store work runs: PostgreSQL work that only waits on the database runs on
the event loop through the asynchronous driver; everything else goes to a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from sqlalchemy import text

from officina.core.store import LOOP_POOL_SIZE, run_store_work
from tests.conftest import Env


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


def test_more_concurrent_work_than_pooled_connections_waits_its_turn(env: Env) -> None:
    """Work beyond the pool's size waits for a connection: on PostgreSQL the loop's pool
    opens none past its size; every piece of work still gets its answer."""
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
    if env.kind == "postgres":
        assert len(set(answers)) <= LOOP_POOL_SIZE
    else:
        assert set(answers) == {7}


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
