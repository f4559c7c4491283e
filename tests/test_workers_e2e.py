"""Several worker processes on one PostgreSQL store behave as one server.

Nothing a request needs may live in one worker's memory: writes made through one worker are
seen by every other, ETags agree, and If-Match guards updates across workers.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from officina.core.etags import version_tag
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


def test_two_workers_agree_on_time_records_and_billing(tmp_path: Path):
    import calendar
    import datetime as dt

    def at(day: int, hour: int) -> int:
        return calendar.timegm(dt.datetime(2021, 4, day, hour).timetuple())

    with launch("postgres", tmp_path, "--workers", "2") as server:
        auth = basic("api", server.creds["api_key"])
        flow = f"{server.base}/main/flow/api/v1"

        def post(path: str, body: dict) -> str:
            r = httpx.post(f"{flow}/{path}", json=body, headers=auth, timeout=30)
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        customer = post("customers", {"name": "Multi Worker GmbH"})
        project = post("projects", {"name": "Shared", "flowCustomer": customer})
        package = post(
            "workPackages",
            {"name": "Work", "parentNodeId": project, "billingType": "effort"},
        )
        users = httpx.get(f"{flow}/users", headers=auth, timeout=30).json()
        me = next(u["id"] for u in users if u["email"] == "admin@example.com")
        made: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()

        def log_hours(day: int) -> None:
            r = httpx.post(
                f"{flow}/timeTrackingRecords",
                headers=auth,
                timeout=30,
                json={
                    "user": me,
                    "referenceNode": package,
                    "workTimeStart": at(day, 9),
                    "workTimeEnd": at(day, 10),
                },
            )
            with lock:
                (made if r.status_code == 201 else failures).append(
                    r.json()["id"] if r.status_code == 201 else r.text
                )

        threads = [threading.Thread(target=log_hours, args=(d,)) for d in range(1, 21)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures[:3]
        billing = post(
            "billings",
            {
                "projectId": project,
                "workPackageIds": [package],
                "interval": "month",
                "intervalFrom": "2021-04-01",
                "intervalTo": "2021-04-30",
            },
        )
        found = httpx.get(
            f"{flow}/billings/{billing}?withSums=1&withTimeRecordIds=1", headers=auth, timeout=30
        ).json()
        assert sorted(found["timeRecordIds"]) == sorted(made)
        assert found["sums"]["timeRecordCount"] == 20 and found["sums"]["workHours"] == 20
        again = post(
            "billings",
            {
                "projectId": project,
                "workPackageIds": [package],
                "interval": "month",
                "intervalFrom": "2021-04-01",
                "intervalTo": "2021-04-30",
            },
        )
        second = httpx.get(f"{flow}/billings/{again}?withSums=1", headers=auth, timeout=30).json()
        assert second["sums"]["timeRecordCount"] == 0
        # the Flow customer is the same record the records face shows, from any worker
        accounts = httpx.post(
            f"{server.base}/main/api/v1/accounts",
            headers=auth,
            timeout=30,
            json={"fields": ["lastname"], "filters": {"type": 1}},
        ).json()
        assert {"lastname": "Multi Worker GmbH"} in accounts


def test_two_workers_agree_on_jobs(tmp_path: Path):
    """Jobs written through both workers: every add counted once, one If-Match winner."""
    with launch("postgres", tmp_path, "--workers", "2") as server:
        auth = basic("api", server.creds["api_key"])
        jobs = f"{server.base}/main/goana/api/v1"
        made = httpx.post(
            f"{jobs}/jobtemplates",
            json={"Title": "Service", "Parameters": [{"Name": "N", "Type": "Text", "Title": "N"}]},
            headers={**auth, "Content-Language": "de"},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        failures: list[str] = []
        codes: list[int] = []
        lock = threading.Lock()

        def writer(n: int) -> None:
            for i in range(PER_WRITER):
                body = {"Key": f"W{n}/{i}", "JobTemplateTitle": "Service", "Team": "Crew"}
                r = httpx.post(f"{jobs}/jobs", json=body, headers=auth, timeout=30)
                with lock:
                    if r.status_code != 201:
                        failures.append(f"{r.status_code} {r.text}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures[:3]
        totals = {
            httpx.get(
                f"{jobs}/jobs", params={"team": "Crew", "pageSize": 1}, headers=auth, timeout=30
            ).headers["x-total-count"]
            for _ in range(10)
        }
        assert totals == {str(WRITERS * PER_WRITER)}
        one = f"{jobs}/jobs/W0%2F0"
        tags = {httpx.get(one, headers=auth, timeout=30).headers["etag"] for _ in range(10)}
        assert len(tags) == 1
        tag = tags.pop()

        def status(n: int) -> None:
            r = httpx.post(
                f"{one}/status",
                json={"Status": "In Progress" if n % 2 else "Done"},
                headers={**auth, "If-Match": tag},
                timeout=30,
            )
            with lock:
                codes.append(r.status_code)

        racers = [threading.Thread(target=status, args=(n,)) for n in range(8)]
        for t in racers:
            t.start()
        for t in racers:
            t.join(timeout=60)
        assert sorted(codes) == [200] + [412] * 7
        after = httpx.get(one, headers=auth, timeout=30).headers["etag"]
        assert after == version_tag("jobs", 2)  # version 2, in the one ETag format
