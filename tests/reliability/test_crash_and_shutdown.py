"""Durability against a killed server, and a graceful stop that finishes in-flight work.

A real ``officina serve`` takes concurrent writes on the records, projects and jobs faces,
is killed with SIGKILL mid-load and started again on the same store: every write that was
answered with 2xx must be there, and the store must pass its integrity check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from officina.core.store import Instances
from officina.goana.tables import job, template
from tests.conftest import STORES, basic
from tests.test_serve_e2e import SRC, Server, _stop, _wait_healthy, launch

pytestmark = pytest.mark.e2e

WRITERS = 6


def _restart(server: Server) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFICINA_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    if server.settings.schema_prefix:
        env["OFFICINA_SCHEMA_PREFIX"] = server.settings.schema_prefix
    proc = subprocess.Popen(
        list(server.process.args),  # type: ignore[arg-type]
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    _wait_healthy(server.base, proc)
    return proc


def _load(server: Server, stop: threading.Event) -> tuple[list[int], list[str], list[str]]:
    auth = basic("api", server.creds["api_key"])
    accounts: list[int] = []
    jobs: list[str] = []
    customers: list[str] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        i = 0
        with httpx.Client(base_url=server.base, headers=auth, timeout=10) as client:
            while not stop.is_set():
                i += 1
                try:
                    a = client.put(
                        "/main/api/v1/accounts", json={"lastname": f"C{n}-{i}", "currency": "EUR"}
                    )
                    if a.status_code == 201:
                        with lock:
                            accounts.append(a.json()["ID"])
                    key = f"crash/{n}/{i}"
                    j = client.post(
                        "/main/goana/api/v1/jobs", json={"Key": key, "JobTemplateTitle": "Crash"}
                    )
                    if j.status_code == 201:
                        with lock:
                            jobs.append(key)
                    f = client.post("/main/flow/api/v1/customers", json={"name": f"F{n}-{i}"})
                    if f.status_code == 201:
                        with lock:
                            customers.append(f.json()["id"])
                except httpx.HTTPError:
                    return  # the server is gone: nothing after this was acknowledged

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    return accounts, jobs, customers  # filled while the threads run


def _integrity(server: Server) -> None:
    instances = Instances(server.settings)
    try:
        store = instances.get("main")
        if store.dialect == "sqlite":
            path = Path(server.settings.data_dir) / "instances" / "main.sqlite"
            engine = create_engine(f"sqlite:///{path}")
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).first() is None
            engine.dispose()
        else:
            with store.read() as conn:
                # Every constraint still holds for rows written up to the kill.
                orphans = conn.execute(
                    select(func.count())
                    .select_from(job.outerjoin(template, template.c.ID == job.c.template))
                    .where(template.c.ID.is_(None))
                ).scalar()
                assert orphans == 0
                invalid = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n "
                        "ON n.oid = c.connamespace WHERE n.nspname = :s AND NOT c.convalidated"
                    ),
                    {"s": store.schema},
                ).scalar()
                assert invalid == 0
    finally:
        instances.close()


@pytest.fixture(params=STORES)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with launch(request.param, tmp_path) as server:
        yield server


def test_acknowledged_writes_survive_sigkill(running: Server) -> None:
    server = running
    auth = basic("api", server.creds["api_key"])
    made = httpx.post(
        f"{server.base}/main/goana/api/v1/jobtemplates", json={"Title": "Crash"}, headers=auth
    )
    assert made.status_code == 201
    stop = threading.Event()
    accounts, jobs, customers = _load(server, stop)
    deadline = time.monotonic() + 30
    while len(accounts) + len(jobs) + len(customers) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    stop.set()
    acked_accounts, acked_jobs, acked_customers = list(accounts), list(jobs), list(customers)
    assert acked_accounts and acked_jobs and acked_customers
    _integrity(server)
    proc = _restart(server)
    try:
        with httpx.Client(base_url=server.base, headers=auth, timeout=30) as client:
            for account in acked_accounts:
                assert client.get(f"/main/api/v1/accounts/{account}").status_code == 200, account
            listed = client.get("/main/goana/api/v1/jobs", params={"pageSize": 1000}).json()
            assert set(acked_jobs) <= {j["Key"] for j in listed}
            for customer in acked_customers:
                found = client.get(f"/main/flow/api/v1/customers/{customer}")
                assert found.status_code == 200, customer
    finally:
        _stop(proc)


def test_sigterm_finishes_the_request_in_flight(running: Server) -> None:
    _finishes_in_flight(running)


@pytest.mark.parametrize("kind", STORES)
def test_sigterm_to_several_workers_finishes_the_request_in_flight(
    kind: str, tmp_path: Path
) -> None:
    with launch(kind, tmp_path, "--workers", "2") as server:
        _finishes_in_flight(server)


def _finishes_in_flight(server: Server) -> None:
    auth = basic("api", server.creds["api_key"])
    body = b'{"lastname": "Slow", "currency": "EUR"}'
    result: dict[str, object] = {}

    def slow_body() -> Iterator[bytes]:
        yield body[:10]
        time.sleep(1.5)  # SIGTERM arrives while the request is being received
        yield body[10:]

    def send() -> None:
        r = httpx.put(
            f"{server.base}/main/api/v1/accounts",
            content=slow_body(),
            headers={**auth, "Content-Type": "application/json", "Content-Length": str(len(body))},
            timeout=30,
        )
        result["status"] = r.status_code

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    sender.join(timeout=30)
    assert result.get("status") == 201
    # The server drains, then exits cleanly.
    assert server.process.wait(timeout=30) == 0
    log = server.log()
    assert "Shutting down" in log and "Traceback" not in log
