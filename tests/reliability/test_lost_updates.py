"""No lost updates: racing conditional writes with one ETag — exactly one wins, on every face."""

from __future__ import annotations

import threading
from collections.abc import Callable

from starlette.testclient import TestClient

from tests.conftest import Env

RACERS = 8


def _race(make: Callable[[int], int]) -> list[int]:
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(RACERS)

    def run(n: int) -> None:
        start.wait()
        code = make(n)
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(codes)


def _clients(env: Env, base_url: str = "http://testserver") -> list[TestClient]:
    return [env.client(env.admin_headers, base_url=base_url) for _ in range(RACERS)]


def test_records_patch_with_one_etag(env: Env) -> None:
    clients = _clients(env)
    made = clients[0].put("/main/api/v1/accounts", json={"lastname": "Race", "currency": "EUR"})
    url = f"/main/api/v1/accounts/{made.json()['ID']}"
    tag = clients[0].get(url).headers["etag"]
    codes = _race(
        lambda n: (
            clients[n].patch(url, json={"lastname": f"W{n}"}, headers={"If-Match": tag}).status_code
        )
    )
    assert codes == [200] + [412] * (RACERS - 1)


def test_projects_patch_with_one_etag(env: Env) -> None:
    clients = _clients(env)
    base = "/main/flow/api/v1/customers"
    made = clients[0].post(base, json={"name": "Race Corp"})
    url = f"{base}/{made.json()['id']}"
    tag = clients[0].get(url).headers["etag"]
    codes = _race(
        lambda n: (
            clients[n].patch(url, json={"name": f"W{n}"}, headers={"If-Match": tag}).status_code
        )
    )
    assert codes == [204] + [412] * (RACERS - 1)


def test_jobs_put_with_one_etag(env: Env) -> None:
    clients = _clients(env, "https://testserver")
    base = "/main/goana/api/v1"
    assert clients[0].post(f"{base}/jobtemplates", json={"Title": "Race"}).status_code == 201
    made = clients[0].post(f"{base}/jobs", json={"Key": "race", "JobTemplateTitle": "Race"})
    tag = made.headers["etag"]
    codes = _race(
        lambda n: (
            clients[n]
            .put(
                f"{base}/jobs/race", json={"Duration": f"00:{10 + n}:00"}, headers={"If-Match": tag}
            )
            .status_code
        )
    )
    assert codes == [200] + [412] * (RACERS - 1)
