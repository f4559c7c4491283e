"""No lost updates: racing conditional writes with one ETag — exactly one wins, on every face."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from officina.core.auth import load_principal
from officina.zeyos import records
from officina.zeyos.registry import ENTITIES
from officina.zeyos.tables import table
from tests.conftest import Env
from tests.flow import helpers as flow

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


def _flow_objects(c: TestClient) -> dict[str, tuple[str, dict[str, Any]]]:
    """One object of each kind the projects face edits, with a change to race on."""
    customer = flow.customer(c, name="Race Corp")
    project = flow.project(c, customer)
    wp = flow.work_package(c, project)
    me = flow.admin_uuid(c)
    record = flow.record(c, me, workPackage=wp, workTimeStart=1586043000, workTimeEnd=1586046600)
    plan = flow.new(
        c, "planningDates", nodeId=wp, plannedStart="2024-03-01", plannedEnd="2024-03-02"
    )
    label = flow.new(c, "labels", name="Race")
    unbilled = flow.work_package(c, project)  # billing the records would make them read-only
    billing = flow.new(c, "billings", projectId=project, workPackageIds=[unbilled])
    return {
        "projects": (project, {"name": "W{n}"}),
        "workPackages": (wp, {"name": "W{n}"}),
        "timeTrackingRecords": (record, {"message": "W{n}"}),
        "planningDates": (plan, {"name": "W{n}"}),
        "labels": (label, {"name": "W{n}"}),
        "billings": (billing, {"internalComment": "W{n}"}),
    }


def _numbered(body: dict[str, Any], n: int) -> dict[str, Any]:
    return {k: v.replace("{n}", str(n)) if isinstance(v, str) else v for k, v in body.items()}


def test_every_projects_object_patch_with_one_etag(env: Env) -> None:
    clients = _clients(env)
    objects = _flow_objects(clients[0])
    lost = {}
    for collection, (item_id, body) in objects.items():
        url = f"{flow.API}/{collection}/{item_id}"
        got = clients[0].get(url)
        assert got.status_code == 200, (collection, got.text)
        tag = got.headers["etag"]
        codes = _race(
            lambda n, url=url, body=body, tag=tag: (
                clients[n]
                .patch(url, json=_numbered(body, n), headers={"If-Match": tag})
                .status_code
            )
        )
        if codes != [204] + [412] * (RACERS - 1):
            lost[collection] = codes
    assert lost == {}


def test_every_jobs_object_put_with_one_etag(env: Env) -> None:
    clients = _clients(env, "https://testserver")
    c = clients[0]
    base = "/main/goana/api/v1"
    where = {"Zip": "8001", "City": "Zürich", "CountryIsoCode": "CH"}
    template = _made(c, f"{base}/jobtemplates", {"Title": "Race"})
    objects = {
        f"{base}/jobtemplates/{template['Id']}": {"Title": "W{n}"},
        _made(c, f"{base}/contacts", {"Reference": "R-1", "Name": "R", "Location": where}): {
            "Name": "W{n}"
        },
        _made(c, f"{base}/users", {"Email": "racer@example.com", "DisplayName": "R"}): {
            "DisplayName": "W{n}"
        },
        # A team is known by its name: once the winner renamed it, the others find none (404).
        _made(c, f"{base}/teams", {"Name": "Racers"}): {"Name": "W{n}"},
    }
    lost = {}
    for url, body in objects.items():
        got = c.get(url)
        assert got.status_code == 200, (url, got.text)
        tag = got.headers["etag"]
        codes = _race(
            lambda n, url=url, body=body, tag=tag: (
                clients[n].put(url, json=_numbered(body, n), headers={"If-Match": tag}).status_code
            )
        )
        refused = {412, 404} if "/teams/" in url else {412}
        if codes[0] != 200 or not set(codes[1:]) <= refused:
            lost[url] = codes
    assert lost == {}


def _made(c: TestClient, collection: str, body: dict[str, Any]) -> Any:
    """POST a new object; its URL (from Location), or its body for job templates."""
    r = c.post(collection, json=body)
    assert r.status_code == 201, r.text
    if collection.endswith("/jobtemplates"):
        return r.json()
    return r.headers["location"].removeprefix("https://testserver")


@pytest.mark.parametrize("action", ["patch", "delete"])
def test_records_write_names_the_version_it_judged(
    env: Env, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """Even if the row were read without a lock, a write cannot overwrite a newer version:
    the version it judged is part of the statement's condition."""
    c = env.client(env.admin_headers)
    made = c.put("/main/api/v1/accounts", json={"lastname": "Judged", "currency": "EUR"})
    row_id = made.json()["ID"]
    accounts = table("accounts")
    with env.store.read() as conn:
        stale = conn.execute(select(accounts).where(accounts.c.ID == row_id)).one()
    with env.store.write() as conn:  # somebody else's write after our read
        conn.execute(
            update(accounts).where(accounts.c.ID == row_id).values(_rev=accounts.c._rev + 1)
        )
    monkeypatch.setattr(records, "_stored_row", lambda *args: stale)
    entity = ENTITIES["accounts"]
    with env.store.write() as conn:
        admin = load_principal(conn, env.admin.user_id, "apikey")
    with pytest.raises(records.HttpError) as refused, env.store.write() as conn:
        if action == "patch":
            records.update_row(conn, entity, row_id, {"lastname": "Lost"}, admin, lambda r: None)
        else:
            records.delete_row(conn, entity, row_id, admin, lambda r: None)
    assert refused.value.status == 412
    assert c.get(f"/main/api/v1/accounts/{row_id}").json()["lastname"] == "Judged"
