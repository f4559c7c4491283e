"""officina behind PgBouncer in transaction pooling mode: two workers, few server
connections, every face. In this mode a client's consecutive transactions run on whichever
server connection is free, so nothing may outlive a transaction: no session settings, no
server-side prepared statements (the database URL's ``pgbouncer=true`` turns psycopg's off).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.conftest import PG_URL
from tests.test_serve_e2e import free_port, launch

pytestmark = pytest.mark.e2e

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)


@pytest.fixture
def pooler() -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the test database; yields its URL."""
    if not PG_URL:
        pytest.skip("OFFICINA_TEST_POSTGRES_URL not set")
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (the CI script installs it)")
    target = urlsplit(PG_URL)
    user = target.username or "postgres"
    port = free_port()
    # PgBouncer refuses to run as root and then drops to another user, who must be able
    # to read its files: a world-readable directory of its own.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o755)
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={target.hostname or '127.0.0.1'} port={target.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        # Two server connections for two workers and many clients: consecutive
        # transactions of one client land on different server connections.
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 500\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    argv = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        argv[1:1] = ["-u", "postgres"]
    log = (folder / "pgbouncer.log").open("w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"postgresql://{user}@127.0.0.1:{port}{target.path}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "pgbouncer did not start: " + (folder / "pgbouncer.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _round(base: str, key: str, n: int) -> list[int]:
    """One client's mix over every face; the statuses it got."""
    seen: list[int] = []
    with httpx.Client(base_url=base, auth=("api", key), timeout=60) as c:
        made = c.put("/main/api/v1/accounts", json={"lastname": f"Pooled {n}", "currency": "EUR"})
        seen.append(made.status_code)
        row = made.json()["ID"]
        for i in range(8):
            seen.append(c.get(f"/main/api/v1/accounts/{row}").status_code)
            seen.append(
                c.patch(f"/main/api/v1/accounts/{row}", json={"firstname": f"F{i}"}).status_code
            )
            found = c.post("/main/api/v1/accounts", json={"filter": {"lastname": f"Pooled {n}"}})
            seen.append(found.status_code)
            assert [r["ID"] for r in found.json()] == [row]
            seen.append(c.get("/main/flow/api/v1/customers").status_code)
            seen.append(c.get("/main/goana/api/v1/teams").status_code)
        seen.append(c.delete(f"/main/api/v1/accounts/{row}").status_code)
    return seen


def test_two_workers_behind_pgbouncer_in_transaction_mode(pooler: str, tmp_path: Path) -> None:
    with launch(
        "postgres", tmp_path, "--workers", "2", database_url=f"{pooler}?pgbouncer=true"
    ) as server:
        key = server.creds["api_key"]
        with ThreadPoolExecutor(max_workers=6) as pool:
            rounds = list(pool.map(lambda n: _round(server.base, key, n), range(12)))
        statuses = [s for r in rounds for s in r]
        assert statuses and all(s < 300 for s in statuses), (sorted(set(statuses)), server.log())
        # Signing in through the pooler: a login token, then a request made with it.
        login = httpx.post(
            f"{server.base}/main/auth/v1/login",
            data={
                "name": server.creds["email"],
                "password": server.creds["password"],
                "identifier": "pooled",
            },
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        with httpx.Client(base_url=server.base, timeout=30) as c:
            c.headers["Authorization"] = f"Bearer {token}"
            made = c.put("/main/api/v1/accounts", json={"lastname": "Token", "currency": "EUR"})
            assert made.status_code == 201, made.text
            for _ in range(8):
                got = c.get(f"/main/api/v1/accounts/{made.json()['ID']}")
                assert got.status_code == 200, got.text
                assert got.json()["lastname"] == "Token"
        assert "Traceback" not in server.log()
