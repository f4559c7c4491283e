"""Several worker processes on one PostgreSQL store behave as one server.

Nothing a request needs may live in one worker's memory: writes made through one worker are
seen by every other, ETags agree, and If-Match guards updates across workers.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, basic
from tests.test_serve_e2e import launch

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not PG_URL, reason="OFFICINA_TEST_POSTGRES_URL not set"),
]

WRITERS = 8
PER_WRITER = 10


def test_two_workers_agree(tmp_path: Path):
    with launch("postgres", tmp_path, "--workers", "2") as server:
        auth = basic("api", server.creds["api_key"])
        url = f"{server.base}/main/api/v1/accounts"
        created: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            # A new connection per request lets the kernel spread them over both workers.
            for i in range(PER_WRITER):
                r = httpx.put(
                    url, json={"lastname": f"W{n}-{i}", "currency": "EUR"}, headers=auth, timeout=30
                )
                with lock:
                    if r.status_code == 201:
                        created.append(r.json()["ID"])
                    else:
                        failures.append(f"{r.status_code} {r.text}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures[:3]
        assert len(set(created)) == WRITERS * PER_WRITER
        # every fresh connection sees the same count and the same ETag for a row
        counts = {
            httpx.post(url, json={"count": True}, headers=auth, timeout=30).json()["count"]
            for _ in range(10)
        }
        assert counts == {WRITERS * PER_WRITER}
        row = f"{url}/{created[0]}"
        tags = {httpx.get(row, headers=auth, timeout=30).headers["etag"] for _ in range(10)}
        assert len(tags) == 1
        tag = tags.pop()
        # concurrent conditional updates from many connections: exactly one wins
        results: list[int] = []

        def patch(n: int) -> None:
            r = httpx.patch(
                row, json={"lastname": f"winner {n}"}, headers={**auth, "If-Match": tag}, timeout=30
            )
            with lock:
                results.append(r.status_code)

        racers = [threading.Thread(target=patch, args=(n,)) for n in range(8)]
        for t in racers:
            t.start()
        for t in racers:
            t.join(timeout=60)
        assert sorted(results) == [200] + [412] * 7
        # both worker processes really served
        log = server.stderr_path.read_text(errors="replace")
        assert log.count("Started server process") >= 2, log[-2000:]
