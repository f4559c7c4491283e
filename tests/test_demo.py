"""``officina demo``: the sample company is written through the faces and reads back."""

from __future__ import annotations

from sqlalchemy import func, inspect, select
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core.schema import metadata, tokens
from officina.core.store import Instances
from officina.flow.tables import billings, nodes, time_records
from officina.migrations.runner import upgrade
from tests.conftest import basic
from tests.test_cli import Cli, cli, credentials_line  # noqa: F401 - the fixture


def test_demo_fills_every_face(cli: Cli) -> None:  # noqa: F811
    creds = credentials_line(cli.ok("init").stdout)
    made = cli.json("demo")
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        auth = basic("api", creds["api_key"])
        c = TestClient(
            build_app(cli.settings, instances), headers=auth, base_url="https://testserver"
        )
        accounts = c.post("/main/api/v1/accounts", json={"count": True}).json()["count"]
        assert accounts == 4  # four customers; the project's customer is one of them
        # The project's customer is the records face's account, not a second one.
        project = c.get(f"/main/flow/api/v1/projects/{made['created']['project']}").json()
        customer = c.get(f"/main/flow/api/v1/customers/{project['flowCustomer']}").json()
        hotel = c.post(
            "/main/api/v1/accounts",
            json={"fields": ["ID", "type"], "filters": {"lastname": "Hotel Alpenblick"}},
        ).json()
        assert len(hotel) == 1 and hotel[0]["type"] == 1
        assert customer["name"] == "Hotel Alpenblick"
        assert customer["id"] == f"{'0' * 16}{int(hotel[0]['ID']):016X}"
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
    # A second run on the same instance is refused in one line and writes nothing.
    assert cli.fails("demo") == (
        "error: instance 'main' already holds the sample company; use --again to add another copy"
    )


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


def _rows(cli: Cli) -> dict[str, int]:  # noqa: F811
    """Rows per table of every face in instance main."""
    import officina.migrations.models  # noqa: F401 - every face's tables

    instances = Instances(cli.settings, prepare=upgrade)
    try:
        store = instances.get("main")
        with store.read() as conn:
            present = set(inspect(conn).get_table_names(schema=store.schema))
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
                if t.name in present
            }
    finally:
        instances.close()


def test_demo_again_adds_a_marked_copy(cli: Cli) -> None:  # noqa: F811
    cli.ok("init")
    cli.ok("demo")
    once = _rows(cli)
    again = cli.json("demo", "--again")
    assert again["copy"] == 2
    assert again["created"]["jobs"] == ["2026-2/0001", "2026-2/0002", "2026-2/0003", "2026-2/0004"]
    twice = _rows(cli)
    for name in ("accounts", "contacts", "goana_job", "flow_time_records", "flow_billings"):
        assert twice[name] == 2 * once[name], name
    assert cli.ok("demo", "--again").stdout.splitlines()[0] == (
        "filled instance 'main' with the sample company (copy 3)"
    )


def test_a_failing_demo_leaves_nothing_behind(cli: Cli) -> None:  # noqa: F811
    creds = credentials_line(cli.ok("init").stdout)
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        # A job of another template holds the key of the demo's last job, so the last request
        # is refused (400: the parameters do not fit that template) after
        # the customers, the project, its hours and billing and three jobs were written.
        c = TestClient(
            build_app(cli.settings, instances),
            headers=basic("api", creds["api_key"]),
            base_url="https://testserver",
        )
        assert c.post("/main/goana/api/v1/jobtemplates", json={"Title": "Other"}).status_code == 201
        taken = c.post(
            "/main/goana/api/v1/jobs", json={"Key": "2026/0004", "JobTemplateTitle": "Other"}
        )
        assert taken.status_code == 201, taken.text
    finally:
        instances.close()
    before = _rows(cli)
    message = cli.fails("demo")
    assert message.startswith(
        "error: demo data was refused, nothing was kept: POST /goana/api/v1/jobs: 400 "
    )
    after = _rows(cli)
    # The one row that stays is the demo's own API key, revoked like after a successful run.
    assert after.pop("tokens") == before.pop("tokens") + 1
    assert after == before
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        with instances.get("main").read() as conn:
            live = select(func.count()).select_from(tokens).where(tokens.c.revoked.is_(None))
            assert conn.execute(live.where(tokens.c.hint == "demo")).scalar_one() == 0
    finally:
        instances.close()
