"""Scale data for benchmarks: N accounts with contacts, N time records on a large tree.

Writing a million rows through the HTTP API would take hours, so one example of each kind
is written through the faces (which makes it valid by their rules) and then copied in bulk
with varied names, cities, times and identities. The copies are exactly what the faces would
have written, so every read path treats them like any other row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from officina.core.ids import new_uuid
from officina.core.store import Store
from officina.demo.client import FaceClient
from officina.flow.tables import ancestry, nodes, time_records
from officina.zeyos.tables import table

CHUNK = 5000
CITIES = ["Zürich", "Bern", "Basel", "Luzern", "Zug", "Genf", "Lausanne", "Lugano", "Chur", "Thun"]
WORK_PACKAGES_PER_GROUP = 50
BILLABLE_PACKAGES = 1000


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, CHUNK):
        yield start, min(CHUNK, total - start)


def _row(conn: Connection, t: Any, key: Any, value: Any) -> dict[str, Any]:
    row = conn.execute(select(t).where(key == value)).one()
    return dict(row._mapping)


def accounts_and_contacts(
    c: FaceClient, store: Store, size: int, advance: Callable[[int], None]
) -> None:
    """``size`` accounts, each with its own contact person in one of ten cities."""
    person = c.call(
        "PUT", "/api/v1/contacts", {"lastname": "Seed", "firstname": "S", "city": "Zürich"}
    )
    account = c.call(
        "PUT",
        "/api/v1/accounts",
        {"lastname": "Seed AG", "currency": "CHF", "contact": person["ID"]},
    )
    contacts_t, accounts_t = table("contacts"), table("accounts")
    rng = random.Random(7)
    with store.write() as conn:
        contact_row = _row(conn, contacts_t, contacts_t.c.ID, person["ID"])
        account_row = _row(conn, accounts_t, accounts_t.c.ID, account["ID"])
    contact_row.pop("ID")
    account_row.pop("ID")
    for start, count in _chunks(size - 1):
        people = []
        for n in range(start, start + count):
            people.append({**contact_row, "lastname": f"Person {n}", "city": rng.choice(CITIES)})
        with store.write() as conn:
            ids = (
                conn.execute(
                    insert(contacts_t).returning(contacts_t.c.ID, sort_by_parameter_order=True),
                    people,
                )
                .scalars()
                .all()
            )
            conn.execute(
                insert(accounts_t),
                [
                    {**account_row, "lastname": f"Company {start + i:07d}", "contact": cid}
                    for i, cid in enumerate(ids)
                ],
            )
        advance(count)
    advance(1)


def project_tree(
    c: FaceClient, store: Store, size: int, advance: Callable[[int], None]
) -> list[str]:
    """A project whose groups hold ``size`` work packages; returns their ids."""
    customer = c.call("POST", "/flow/api/v1/customers", {"name": "Scale AG"})["id"]
    project = c.call(
        "POST", "/flow/api/v1/projects", {"name": "Scale project", "flowCustomer": customer}
    )["id"]
    group = c.call("POST", "/flow/api/v1/groups", {"name": "Group 0", "parentNodeId": project})[
        "id"
    ]
    first = c.call(
        "POST", "/flow/api/v1/workPackages", {"name": "Package 0", "parentNodeId": group}
    )["id"]
    with store.read() as conn:
        group_row = _row(conn, nodes, nodes.c.id, group)
        package_row = _row(conn, nodes, nodes.c.id, first)
        group_up = [
            dict(r._mapping)
            for r in conn.execute(select(ancestry).where(ancestry.c.descendant_id == group))
        ]
    packages = [first]
    groups_needed = max(1, size // WORK_PACKAGES_PER_GROUP)
    made = 1
    group_ids = [group]
    with store.write() as conn:
        for g in range(1, groups_needed):
            gid = new_uuid()
            conn.execute(
                insert(nodes).values(
                    {**group_row, "id": gid, "name": f"Group {g}", "name_cf": f"group {g}"}
                )
            )
            conn.execute(
                insert(ancestry),
                [{**a, "descendant_id": gid} for a in group_up if a["depth"] > 0]
                + [{"ancestor_id": gid, "descendant_id": gid, "depth": 0}],
            )
            group_ids.append(gid)
    ups: dict[str, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for gid in group_ids:
            ups[gid] = [
                dict(r._mapping)
                for r in conn.execute(select(ancestry).where(ancestry.c.descendant_id == gid))
            ]
    for start, count in _chunks(size - made):
        rows, links = [], []
        for n in range(start, start + count):
            pid = new_uuid()
            parent = group_ids[(n + 1) // WORK_PACKAGES_PER_GROUP % len(group_ids)]
            name = f"Package {n + 1} {CITIES[n % len(CITIES)]}"
            rows.append(
                {
                    **package_row,
                    "id": pid,
                    "parent_id": parent,
                    "name": name,
                    "name_cf": name.casefold(),
                }
            )
            links += [
                {"ancestor_id": a["ancestor_id"], "descendant_id": pid, "depth": a["depth"] + 1}
                for a in ups[parent]
            ]
            links.append({"ancestor_id": pid, "descendant_id": pid, "depth": 0})
            packages.append(pid)
        with store.write() as conn:
            conn.execute(insert(nodes), rows)
            conn.execute(insert(ancestry), links)
        advance(count)
    advance(made)
    return packages


def time_tracking(
    c: FaceClient, store: Store, size: int, packages: list[str], advance: Callable[[int], None]
) -> None:
    """``size`` time records spread over a year and over the first thousand work packages,
    so one billing (whose request names its work packages) can take all of them."""
    users = c.call("GET", "/flow/api/v1/users")
    record = c.call(
        "POST",
        "/flow/api/v1/timeTrackingRecords",
        {
            "user": users[0]["id"],
            "referenceNode": packages[0],
            "workTimeStart": 1_700_000_000,
            "workTimeEnd": 1_700_003_600,
        },
    )["id"]
    with store.read() as conn:
        template = _row(conn, time_records, time_records.c.id, record)
    rng = random.Random(11)
    billed = packages[:BILLABLE_PACKAGES]
    for _start, count in _chunks(size - 1):
        rows = []
        for _ in range(count):
            begin = 1_700_000_000 + rng.randrange(0, 365 * 86400 // 900) * 900
            package = billed[rng.randrange(len(billed))]
            rows.append(
                {
                    **template,
                    "id": new_uuid(),
                    "work_time_start": begin,
                    "work_time_end": begin + 900 * rng.randrange(1, 17),
                    "record_time": begin,
                    "reference_node_id": package,
                    "work_package_id": package,
                }
            )
        with store.write() as conn:
            conn.execute(insert(time_records), rows)
        advance(count)
    advance(1)


def analyze(store: Store) -> None:
    """Refresh the planner's statistics: after a bulk load they describe empty tables, and
    PostgreSQL would plan the first queries as if they still were."""
    names = ("accounts", "contacts", "flow_nodes", "flow_node_ancestry", "flow_time_records")
    with store.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            if store.schema is not None:
                conn.execute(text(f'ANALYZE "{store.schema}"."{name}"'))
            else:
                conn.execute(text(f'ANALYZE "{name}"'))
