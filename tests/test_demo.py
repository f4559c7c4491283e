"""``officina demo``: the sample company is written through the faces and reads back."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core.schema import tokens
from officina.core.store import Instances
from officina.flow.tables import billings, time_records
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
