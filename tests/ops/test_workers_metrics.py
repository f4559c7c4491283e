"""With several worker processes on one port, every scrape of /metrics counts the requests
of all workers, whichever worker answers it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from officina.ops.metrics import FLUSH_EVERY
from tests.conftest import STORES, basic
from tests.test_serve_e2e import launch

pytestmark = pytest.mark.e2e

REQUESTS = 40


@pytest.mark.parametrize("kind", STORES)
def test_every_scrape_sums_all_workers(kind: str, tmp_path: Path) -> None:
    with launch(kind, tmp_path, "--workers", "2") as server:
        auth = basic("api", server.creds["api_key"])
        for n in range(REQUESTS):
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client(base_url=server.base, headers=auth, timeout=30) as c:
                assert c.get(f"/main/api/v1/accounts/{n + 1}").status_code == 404
        time.sleep(FLUSH_EVERY + 0.5)
        series = (
            'officina_requests_total{method="GET",'
            'route="/{instance}/api/v1/accounts/{id}",status="404"}'
        )
        for _ in range(6):
            with httpx.Client(base_url=server.base, timeout=30) as c:
                text = c.get("/metrics").text
            assert f"{series} {REQUESTS}\n" in text
        log = server.stderr_path.read_text(errors="replace")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    served_by = {line["pid"] for line in lines if line["logger"] == "officina.access"}
    assert len(served_by) == 2, "both workers served requests"
