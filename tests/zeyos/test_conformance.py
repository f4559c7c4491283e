"""Every operation of the records face, called over HTTP with what it needs.

For each of the 348 operations of the contract the test creates the records the operation
needs, calls it, and checks the answer is the operation's success status (which the contract
declares) with a body of the right shape.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert

from officina.core.schema import instance_settings
from officina.zeyos.registry import ENTITIES, VENDOR_ENTITIES
from officina.zeyos.registry.model import Kind, Op
from tests.zeyos.factory import Factory
from tests.zeyos.helpers import API

SUCCESS = {Op.LIST: 200, Op.CREATE: 201, Op.GET: 200, Op.HEAD: 204, Op.UPDATE: 200, Op.DELETE: 204}


def _patch_body(name: str, row_id: int) -> dict:
    """A real change where the entity has a free text column; else the ID echoed back."""
    entity = ENTITIES[name]
    for f in entity.fields:
        if (
            f.kind == Kind.TEXT
            and not f.required
            and not f.pattern
            and not f.readonly
            and not f.ref
            and f.name not in ("senderror",)
        ):
            return {f.name: f"changed {name}"}
    return {"ID": row_id}


@pytest.fixture
def carat(env):
    """Switch the seed-only planning module on for one test."""
    with env.store.write() as conn:
        conn.execute(insert(instance_settings).values(key="carat", value=True))
    yield
    with env.store.write() as conn:
        conn.execute(delete(instance_settings).where(instance_settings.c.key == "carat"))


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_every_operation_of(name, env, admin, carat):
    factory = Factory(env, admin)
    entity = ENTITIES[name]
    calls = 0
    row_id = factory.new(name) if name != "binfiles" else factory.insert(entity)
    calls += Op.CREATE in entity.ops
    if Op.LIST in entity.ops:
        response = admin.post(f"{API}/{name}", json={})
        assert response.status_code == SUCCESS[Op.LIST], response.text
        assert row_id in [row["ID"] for row in response.json()]
        count = admin.post(f"{API}/{name}", json={"count": True}).json()
        assert count["count"] >= 1
        calls += 1
    if Op.GET in entity.ops:
        response = admin.get(f"{API}/{name}/{row_id}")
        assert response.status_code == SUCCESS[Op.GET], response.text
        body = response.json()
        assert body["ID"] == row_id
        assert list(body) == [f.name for f in entity.fields]
        assert (
            admin.get(
                f"{API}/{name}/{row_id}", headers={"If-None-Match": response.headers["etag"]}
            ).status_code
            == 304
        )
        calls += 1
    if Op.HEAD in entity.ops:
        response = admin.head(f"{API}/{name}/{row_id}")
        assert response.status_code == SUCCESS[Op.HEAD]
        calls += 1
    if Op.UPDATE in entity.ops:
        patch = _patch_body(name, row_id)
        response = admin.patch(f"{API}/{name}/{row_id}", json=patch)
        assert response.status_code == SUCCESS[Op.UPDATE], response.text
        key, value = next(iter(patch.items()))
        assert response.json()[key] == value
        calls += 1
    if Op.DELETE in entity.ops:
        response = admin.delete(f"{API}/{name}/{row_id}")
        assert response.status_code == SUCCESS[Op.DELETE], response.text
        assert admin.get(f"{API}/{name}/{row_id}").status_code == 404
        calls += 1
    assert calls == len(entity.ops)


def test_seed_modules_are_off_unless_enabled(admin, env):
    assert admin.post(f"{API}/carat_commissions", json={}).status_code == 404
    doc = admin.get(f"{API}/openapi.json").json()
    assert "/carat_commissions" not in doc["paths"]


def test_seed_modules_when_enabled(admin, env, carat):
    doc = admin.get(f"{API}/openapi.json").json()
    assert "/carat_files/{ID}" in doc["paths"]
    _, user_h = env.user({"accounts": True})
    assert env.client(user_h).post(f"{API}/carat_commissions", json={}).status_code == 403


def test_operation_total_and_general_endpoints(admin):
    total = sum(len(ENTITIES[n].ops) for n in VENDOR_ENTITIES)
    assert admin.get(f"{API}/config").status_code == 200
    # without an application context /settings answers its declared 403
    assert admin.get(f"{API}/settings").status_code == 403
    assert total + 2 == 348


WRITABLE = sorted(n for n in VENDOR_ENTITIES if Op.CREATE in ENTITIES[n].ops)


@pytest.mark.parametrize("name", WRITABLE)
def test_bad_input_is_refused_without_a_write(name, env, admin):
    factory = Factory(env, admin)
    entity = ENTITIES[name]
    body = factory.body(name)
    before = admin.post(f"{API}/{name}", json={"count": True}).json()["count"]
    bad_bodies = [({**body, "no_such_field": 1}, 400)]
    number = next(
        (
            f
            for f in entity.fields
            if f.kind in (Kind.INT, Kind.SMALLINT) and not f.ref and f.name not in ("ID", "creator")
        ),
        None,
    )
    if number is not None:
        bad_bodies.append(({**body, number.name: "not a number"}, 400))
    bounded = next((f for f in entity.fields if f.max_length and not f.pattern), None)
    if bounded is not None:
        bad_bodies.append(({**body, bounded.name: "x" * (bounded.max_length + 1)}, 400))
    ref = next(
        (
            f
            for f in entity.fields
            if f.ref
            and f.ref not in ("users", "groups")
            and f.name not in ("fork",)
            and f.kind != Kind.BINFILE
        ),
        None,
    )
    if ref is not None:
        bad_bodies.append(({**body, ref.name: 2_000_000_000}, 410))
    for bad, status in bad_bodies:
        response = admin.put(f"{API}/{name}", json=bad)
        assert response.status_code == status, (bad, response.text)
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text.startswith(("Bad Request: ", "Gone: "))
    after = admin.post(f"{API}/{name}", json={"count": True}).json()["count"]
    assert after == before
