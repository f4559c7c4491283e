"""Single-row requests of the records face: their store work runs on the event loop (on
PostgreSQL through the asynchronous driver); a sign-in with a password, a file's content in
or out, a delete, and on SQLite a write whose lock another connection holds go to a worker
thread. Whichever way, the answers are the same."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from officina.core import store as store_module
from officina.zeyos.http import LOOP_BODY_BYTES
from tests.conftest import Env, basic

BASE = "/main/api/v1/accounts"


@pytest.fixture
def threads_used(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the store work functions handed to a worker thread."""
    used: list[str] = []
    real = store_module.run_in_threadpool

    async def recording(work: Callable[..., Any], *args: Any) -> Any:
        used.append(work.__name__)
        return await real(work, *args)

    monkeypatch.setattr(store_module, "run_in_threadpool", recording)
    return used


def test_where_single_row_work_runs(env: Env, admin: TestClient, threads_used: list[str]) -> None:
    created = admin.put(BASE, json={"lastname": "Loop", "currency": "EUR"})
    assert created.status_code == 201, created.text
    row = f"{BASE}/{created.json()['ID']}"
    assert admin.get(row).json()["lastname"] == "Loop"
    patched = admin.patch(row, json={"lastname": "Looped"})
    assert patched.status_code == 200, patched.text
    signed_in = env.client(basic(env.admin.email, env.admin.password)).get(row)
    assert signed_in.json()["lastname"] == "Looped"
    assert admin.delete(row).status_code == 204
    assert admin.get(row).status_code == 404
    if env.kind == "postgres":
        assert threads_used == ["read"]  # the password sign-in only
    else:
        # Reads and single-row writes run on the loop as plain code; a delete may cascade.
        assert threads_used == ["read", "remove"]


def test_concurrent_writes_beyond_the_pool_all_land(env: Env) -> None:
    writers = store_module.LOOP_POOL_SIZE * 2 + 5

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=env.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=env.admin_headers
        ) as client:
            puts: list[Awaitable[httpx.Response]] = [
                client.put(BASE, json={"lastname": f"Writer {n}", "currency": "CHF"})
                for n in range(writers)
            ]
            return list(await asyncio.gather(*puts))

    answers = asyncio.run(main())
    assert [a.status_code for a in answers] == [201] * writers
    ids = {a.json()["ID"] for a in answers}
    assert len(ids) == writers
    listed = env.client(env.admin_headers).post(BASE, json={"count": 1})
    assert listed.status_code == 200, listed.text
    assert listed.json()["count"] == writers


def test_files_in_or_out_go_to_a_thread(
    env: Env, admin: TestClient, threads_used: list[str]
) -> None:
    """A picture of more than LOOP_BODY_BYTES, and a read that expands it, are decoded,
    hashed and encoded on a worker thread; a small body and a plain read are not."""
    content = bytes(range(256)) * ((LOOP_BODY_BYTES // 256) + 1)
    big = {
        "lastname": "Big",
        "type": 1,
        "picbinfile": {"content": base64.b64encode(content).decode()},
    }
    created = admin.put("/main/api/v1/contacts", json=big)
    assert created.status_code == 201, created.text
    row = f"/main/api/v1/contacts/{created.json()['ID']}"
    plain = admin.get(row)
    assert plain.status_code == 200
    expanded = admin.get(row, params={"expand": "picbinfile"})
    assert expanded.status_code == 200, expanded.text
    assert base64.b64decode(expanded.json()["picbinfile"]["content"]) == content
    small = admin.patch(row, json={"lastname": "Small"})
    assert small.status_code == 200, small.text
    assert threads_used == ["create", "read"]


def test_a_write_whose_lock_is_held_elsewhere_waits_on_a_thread(
    env: Env, admin: TestClient, threads_used: list[str]
) -> None:
    """Another process holds SQLite's write lock: the loop does not wait for it, a worker
    thread does, and the write lands once the lock is free."""
    if env.kind == "postgres":
        made = admin.put(BASE, json={"lastname": "Held", "currency": "EUR"})
        assert made.status_code == 201 and threads_used == []
        return
    other = sqlite3.connect(
        Path(env.settings.data_dir) / "instances" / "main.sqlite",
        isolation_level=None,
        check_same_thread=False,
    )
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, other.execute, ("COMMIT",))
    release.start()
    try:
        made = admin.put(BASE, json={"lastname": "Held", "currency": "EUR"})
    finally:
        release.join()
        other.close()
    assert made.status_code == 201, made.text
    assert threads_used == ["create"]
    assert admin.get(f"{BASE}/{made.json()['ID']}").json()["lastname"] == "Held"
    again = admin.put(BASE, json={"lastname": "Free", "currency": "EUR"})
    assert again.status_code == 201 and threads_used == ["create"]
