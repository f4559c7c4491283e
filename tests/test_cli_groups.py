"""``officina group``: module permissions handed out from the command line hold in the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import people
from officina.core.store import Instances
from officina.migrations.runner import upgrade
from officina.zeyos.registry import ENTITIES
from tests.conftest import basic
from tests.test_cli import Cli, cli, credentials_line  # noqa: F401 - the fixture

API = "/main/api/v1"
CLERK = ("clerk@acme.example", "clerk-secret-1")


@pytest.fixture
def api(cli: Cli) -> Iterator[TestClient]:  # noqa: F811
    """A client of the instance the CLI writes to, built after the CLI's first run."""
    credentials_line(cli.ok("init").stdout)
    instances = Instances(cli.settings, prepare=upgrade)
    try:
        yield TestClient(build_app(cli.settings, instances), base_url="https://testserver")
    finally:
        instances.close()


def test_clerk_reads_accounts_and_is_refused_tickets(cli: Cli, api: TestClient) -> None:  # noqa: F811
    assert cli.json("group", "create", "Clerks")["name"] == "Clerks"
    granted = cli.json("group", "grant", "clerks", "accounts", "contacts", "--write")
    assert granted == {
        "instance": "main",
        "group": "clerks",
        "modules": ["accounts", "contacts"],
        "writable": True,
    }
    user = cli.json(
        "user", "create", "--email", CLERK[0], "--password", CLERK[1], "--group", "Clerks"
    )
    assert user["groups"] == ["Clerks"]
    clerk = basic(*CLERK)

    made = api.put(
        f"{API}/accounts", json={"lastname": "Lightexx AG", "currency": "EUR"}, headers=clerk
    )
    assert made.status_code == 201, made.text
    rows = api.post(f"{API}/accounts", json={"fields": ["lastname"]}, headers=clerk)
    assert rows.status_code == 200 and rows.json() == [{"lastname": "Lightexx AG"}]
    assert api.post(f"{API}/contacts", json={}, headers=clerk).status_code == 200
    refused = api.post(f"{API}/tickets", json={}, headers=clerk)
    assert (refused.status_code, refused.text) == (403, "Forbidden: Lacking access permission")

    # Read-only: the clerk still lists accounts but may no longer create one.
    cli.ok("group", "grant", "clerks", "accounts")
    assert api.post(f"{API}/accounts", json={}, headers=clerk).status_code == 200
    denied = api.put(
        f"{API}/accounts", json={"lastname": "Other AG", "currency": "EUR"}, headers=clerk
    )
    assert (denied.status_code, denied.text) == (403, "Forbidden: Lacking access permission")

    listed = cli.json("group", "list")
    clerks = next(g for g in listed if g["name"] == "Clerks")
    assert clerks["permissions"] == [
        {"module": "accounts", "writable": False},
        {"module": "contacts", "writable": True},
    ]
    assert clerks["members"] == [{"email": CLERK[0], "writable": True}]
    human = cli.ok("group", "list").stdout
    assert "Clerks (ID" in human and "permissions: accounts r, contacts rw" in human

    assert cli.json("group", "revoke", "clerks", "accounts")["revoked"] == ["accounts"]
    gone = api.post(f"{API}/accounts", json={}, headers=clerk)
    assert (gone.status_code, gone.text) == (403, "Forbidden: Lacking access permission")
    assert "nothing changed" in cli.ok("group", "revoke", "clerks", "accounts").stdout

    assert cli.json("group", "remove-user", "clerks", "--email", CLERK[0])["removed"] is True
    assert api.post(f"{API}/contacts", json={}, headers=clerk).status_code == 403
    cli.ok("group", "add-user", "clerks", "--email", CLERK[0])
    assert api.post(f"{API}/contacts", json={}, headers=clerk).status_code == 200


def test_group_commands_refuse_bad_input_in_one_line(cli: Cli, api: TestClient) -> None:  # noqa: F811
    cli.ok("group", "create", "clerks")
    message = cli.fails("group", "grant", "clerks", "acounts")
    assert message.startswith("error: unknown module 'acounts'; valid modules: accounts, ")
    assert "tickets" in message and "flow.billing" in message
    # One bad module in a list grants none of them.
    cli.fails("group", "grant", "clerks", "accounts", "nope")
    assert cli.json("group", "list")[1]["permissions"] == []
    assert cli.fails("group", "create", "CLERKS") == "error: group 'CLERKS' already exists"
    assert cli.fails("group", "grant", "typists", "accounts") == "error: no group named 'typists'"
    assert cli.fails("group", "add-user", "clerks", "--email", "x@y.z") == (
        "error: no user with e-mail 'x@y.z'"
    )
    # A user refused for an unknown group is not created either.
    assert cli.fails(
        "user", "create", "--email", CLERK[0], "--password", CLERK[1], "--group", "typists"
    ) == ("error: no group named 'typists'")
    cli.ok("user", "create", "--email", CLERK[0], "--password", CLERK[1])


def test_every_module_of_the_records_face_can_be_granted() -> None:
    needed = {p for e in ENTITIES.values() for p in (*e.read_perms, *e.write_perms)}
    assert needed - {"admin"} <= set(people.GRANTABLE)
