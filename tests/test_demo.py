"""``officina demo``: the sample company is written through the faces and reads back."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core.schema import tokens
from officina.core.store import Instances
from officina.flow.tables import billings, nodes, time_records
from officina.migrations.runner import upgrade
from tests.conftest import basic
from tests.test_cli import Cli, cli, credentials_line  # noqa: F401 - the fixture


def test_demo_fills_every_face(cli: Cli) -> None:  # noqa: F811
    creds = credentials_line(cli.ok("init").stdout)
    cli.ok("demo")
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        auth = basic("api", creds["api_key"])
        c = TestClient(
            build_app(cli.settings, instances), headers=auth, base_url="https://testserver"
        )
        accounts = c.post("/main/api/v1/accounts", json={"count": True}).json()["count"]
        assert accounts == 5  # four customers, and the project's customer (also an account)
        jobs = c.get("/main/goana/api/v1/jobs", headers={"Accept-Language": "de"}).json()
        assert len(jobs) == 4
        assert {j["JobTemplateTitle"] for j in jobs} == {"Heating maintenance"}
        assert {j["JobTemplateDisplayTitle"] for j in jobs} == {"Heizungswartung"}
        assert sorted(j["Status"] for j in jobs) == ["Done", "In Progress", "Open", "Open"]
        progress = c.get("/main/goana/api/v1/jobs", params={"statusName": "In Progress"}).json()
        assert len(progress) == 1
        assert len(c.get("/main/goana/api/v1/contacts").json()) == 4
        with instances.get("main").read() as conn:
            billed = conn.execute(select(func.count()).select_from(time_records)).scalar_one()
            billings_made = conn.execute(select(func.count()).select_from(billings)).scalar_one()
            demo_keys = conn.execute(
                select(func.count())
                .select_from(tokens)
                .where(tokens.c.hint == "demo", tokens.c.revoked.is_(None))
            ).scalar_one()
        assert billed == 18 and billings_made == 1
        assert demo_keys == 0  # the demo's own API key is revoked when it is done
    finally:
        instances.close()
    # A second run on the same instance is refused cleanly (the sample keys exist).
    message = cli.fails("demo")
    assert "refused" in message


def test_demo_size_makes_benchmark_data(cli: Cli) -> None:  # noqa: F811
    creds = credentials_line(cli.ok("init").stdout)
    cli.ok("demo", "--size", "300")
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        auth = basic("api", creds["api_key"])
        c = TestClient(build_app(cli.settings, instances), headers=auth)
        # 300 accounts plus the project's customer, which is an account too.
        assert c.post("/main/api/v1/accounts", json={"count": True}).json()["count"] == 301
        in_bern = c.post(
            "/main/api/v1/accounts",
            json={"filter": {"contact.city": "Bern"}, "fields": ["ID", "lastname", "contact.city"]},
        ).json()
        assert in_bern and all(row["contact.city"] == "Bern" for row in in_bern)
        with instances.get("main").read() as conn:
            packages = [
                r.id
                for r in conn.execute(select(nodes.c.id).where(nodes.c.node_type == "workPackage"))
            ]
            project = conn.execute(
                select(nodes.c.id).where(nodes.c.node_type == "project")
            ).scalar()
            records = conn.execute(select(func.count()).select_from(time_records)).scalar_one()
        assert len(packages) == 300 and records == 300
        found = c.get("/main/flow/api/v1/workPackages/search/name/Bern").json()
        assert found and len(found) == 30
        billing = c.post(
            "/main/flow/api/v1/billings", json={"projectId": project, "workPackageIds": packages}
        )
        assert billing.status_code == 201, billing.text
        sums = c.get(
            f"/main/flow/api/v1/billings/{billing.json()['id']}?withTimeRecordIds=1"
        ).json()
        assert len(sums["timeRecordIds"]) == 300
    finally:
        instances.close()
    assert "at least 1" in cli.fails("demo", "--size", "0")
