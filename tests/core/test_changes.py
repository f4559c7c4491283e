"""The change log's API on both stores: what an entry holds, and that it shares the write's
transaction."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from sqlalchemy import select

from officina.core.changes import Actor, actor_for, log_create, log_delete, log_update
from officina.core.schema import changes


def _entries(env):
    with env.store.read() as conn:
        rows = conn.execute(select(changes).order_by(changes.c.ID)).mappings().all()
    return [dict(r) for r in rows]


def _strip(entry):
    return {k: v for k, v in entry.items() if k not in ("ID", "time")}


def test_create_update_delete_entries(env):
    actor = Actor("main", 7, "projects")
    with env.store.write() as conn:
        log_create(conn, actor, "flow_nodes", 12, {"name": "A", "_rev": 1, "size": 3})
        log_update(
            conn,
            actor,
            "flow_nodes",
            12,
            {"name": "A", "size": 3, "note": None, "_rev": 1},
            {"name": "B", "size": 3, "note": "x", "_rev": 2},
        )
        log_delete(conn, actor, "flow_nodes", "12", {"name": "B", "size": 3})
    entries = _entries(env)
    assert [_strip(e) for e in entries] == [
        {
            "instance": "main",
            "entity": "flow_nodes",
            "row_id": "12",
            "action": "create",
            "actor": 7,
            "face": "projects",
            "fields": {"name": [None, "A"], "size": [None, 3]},
        },
        {
            "instance": "main",
            "entity": "flow_nodes",
            "row_id": "12",
            "action": "update",
            "actor": 7,
            "face": "projects",
            "fields": {"name": ["A", "B"], "note": [None, "x"]},
        },
        {
            "instance": "main",
            "entity": "flow_nodes",
            "row_id": "12",
            "action": "delete",
            "actor": 7,
            "face": "projects",
            "fields": {"name": ["B", None], "size": [3, None]},
        },
    ]
    assert entries[0]["ID"] < entries[1]["ID"] < entries[2]["ID"]
    assert all(isinstance(e["time"], int) and e["time"] > 1_700_000_000 for e in entries)


def test_update_without_difference_writes_nothing(env):
    with env.store.write() as conn:
        log_update(conn, Actor("main", None, "cli"), "users", 1, {"a": 1, "b": None}, {"a": 1})
        log_update(conn, Actor("main", None, "cli"), "users", 1, {"a": 1}, {"_rev": 5})
    assert _entries(env) == []


def test_values_become_json(env):
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with env.store.write() as conn:
        log_create(
            conn,
            actor_for(conn, None, "jobs"),
            "goana_job",
            "k-1",
            {
                "blob": b"\x00" * 40,
                "at": when,
                "day": dt.date(2026, 1, 2),
                "price": decimal.Decimal("1.10"),
                "settings": {"a": [1, b"xy"]},
                "flag": True,
            },
        )
    (entry,) = _entries(env)
    assert entry["instance"] == "main" and entry["actor"] is None and entry["face"] == "jobs"
    assert entry["row_id"] == "k-1"
    assert entry["fields"] == {
        "blob": [None, {"$bytes": 40}],
        "at": [None, "2026-01-02T03:04:05+00:00"],
        "day": [None, "2026-01-02"],
        "price": [None, "1.10"],
        "settings": [None, {"a": [1, {"$bytes": 2}]}],
        "flag": [None, True],
    }


def test_entries_roll_back_with_the_write(env):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), env.store.write() as conn:
        log_create(conn, Actor("main", 1, "records"), "accounts", 1, {"lastname": "x"})
        raise Boom
    assert _entries(env) == []


def test_secrets_are_never_copied(env):
    actor = Actor("main", 1, "jobs")
    with env.store.write() as conn:
        log_create(conn, actor, "users", 5, {"name": "a", "password": "$argon2id$hash"})
        log_update(conn, actor, "users", 5, {"password": "$argon2id$hash"}, {"password": "$new"})
        log_delete(conn, actor, "applications", 3, {"name": "app", "secret": None})
    assert [e["fields"] for e in _entries(env)] == [
        {"name": [None, "a"], "password": [None, {"$secret": True}]},
        {"password": [{"$secret": True}, {"$secret": True}]},
        {"name": ["app", None], "secret": [None, None]},
    ]


def test_people_writes_are_logged(env):
    from officina.core import people
    from tests.conftest import unique

    email = f"{unique('logged')}@example.com"
    actor = Actor("main", env.admin.user_id, "jobs")
    with env.store.write() as conn:
        gid = people.create_group(conn, unique("team"), creator=env.admin.user_id, actor=actor)
        user = people.create_user(conn, email=email, password="pass-word-1", actor=actor)
        people.add_member(conn, gid, user.id, writable=False, actor=actor)
        people.add_member(conn, gid, user.id, writable=True, actor=actor)
        people.grant(conn, gid, "accounts", writable=True)
    logged = [(e["entity"], e["action"], e["face"]) for e in _entries(env)]
    assert logged == [
        ("groups", "create", "jobs"),
        ("users", "create", "jobs"),
        ("groups2users", "create", "jobs"),
        ("groups2users", "delete", "jobs"),
        ("groups2users", "create", "jobs"),
        ("permissions", "create", "cli"),
    ]
    entries = _entries(env)
    assert entries[1]["row_id"] == str(user.id)
    assert entries[1]["fields"]["password"] == [None, {"$secret": True}]
    assert entries[1]["fields"]["email"] == [None, email]
    assert entries[3]["fields"]["writable"] == [0, None]
    assert entries[4]["fields"]["writable"] == [None, 1]
    assert entries[5]["actor"] is None and entries[5]["instance"] == "main"
