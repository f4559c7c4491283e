"""Statements run straight on the driver answer exactly what SQLAlchemy's execution answers:
same rows, same Python values (JSON decoded, binary as bytes), in the instance's schema."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import JSON, bindparam, literal, select

from officina.core.auth import _TOKEN_PRINCIPAL
from officina.core.direct import Direct
from officina.core.ids import digest
from officina.core.schema import instance_settings, tokens
from tests.conftest import Env


def _both(env: Env, direct: Direct, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    with env.store.read() as conn:
        ran = [tuple(r) for r in direct.rows(conn, params)]
        executed = [tuple(r) for r in conn.execute(direct.stmt, params).all()]
    return ran, executed


def test_values_of_every_kind_come_back_as_sqlalchemy_gives_them(env: Env) -> None:
    direct = Direct(
        select(
            instance_settings.c.key,
            instance_settings.c.value,
            literal(7).label("seven"),
            literal("x%y").label("percent"),
            literal([1, {"two": 2}], JSON).label("document"),
        )
        .where(instance_settings.c.key != bindparam("skip"))
        .order_by(instance_settings.c.key)
    )
    ran, executed = _both(env, direct, {"skip": "currency"})
    assert ran == executed
    assert len(ran) >= 2
    assert any(isinstance(row[1], dict | list | str | int | bool) for row in ran)
    assert all(row[2] == 7 and row[3] == "x%y" for row in ran)
    assert all(row[4] == [1, {"two": 2}] for row in ran)
    assert "currency" not in [row[0] for row in ran]


def test_binary_parameters_and_results(env: Env) -> None:
    direct = Direct(select(tokens.c.hash, tokens.c.kind).where(tokens.c.hash == bindparam("h")))
    hashed = digest(env.admin.api_key)
    ran, executed = _both(env, direct, {"h": hashed})
    assert ran == executed == [(hashed, "apikey")]
    assert _both(env, direct, {"h": digest("no such key")}) == ([], [])


def test_rows_read_by_label(env: Env) -> None:
    stmt = _TOKEN_PRINCIPAL["apikey"]
    params = {"hash": digest(env.admin.api_key), "now": int(time.time())}
    with env.store.read() as conn:
        rows = stmt.rows(conn, params)
        expected = conn.execute(stmt.stmt, params).all()
    assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
    assert rows[0].email == expected[0].email == "admin@example.com"
    assert rows[0].token_kind == "apikey"


def test_in_lists_fall_back_to_sqlalchemy_with_the_same_answer(env: Env) -> None:
    direct = Direct(
        select(instance_settings.c.key)
        .where(instance_settings.c.key.in_(bindparam("keys", expanding=True)))
        .order_by(instance_settings.c.key)
    )
    ran, executed = _both(env, direct, {"keys": ["currency", "locale", "absent"]})
    assert ran == executed == [("currency",), ("locale",)]


def test_inside_a_write_transaction_it_sees_the_transactions_rows(env: Env) -> None:
    direct = Direct(select(instance_settings.c.value).where(instance_settings.c.key == "probe"))
    with env.store.write() as conn:
        conn.execute(instance_settings.insert().values(key="probe", value={"n": 1}))
        assert [tuple(r) for r in direct.rows(conn, {})] == [({"n": 1},)]
        conn.execute(instance_settings.delete().where(instance_settings.c.key == "probe"))
    with env.store.read() as conn:
        assert direct.first(conn, {}) is None


def test_an_insert_returns_what_sqlalchemy_returns_and_runs_once(env: Env) -> None:
    """An INSERT ... RETURNING run on the driver converts its parameters (JSON here) and its
    returned row as SQLAlchemy would, and adds exactly one row, in the caller's transaction."""
    insert_one = Direct(
        instance_settings.insert()
        .values(key=bindparam("k"), value=bindparam("v", type_=JSON))
        .returning(instance_settings.c.key, instance_settings.c.value)
    )
    document = {"list": [1, 2.5, None], "text": "ä%s"}
    with env.store.write() as conn:
        ran = insert_one.first(conn, {"k": "probe-direct", "v": document})
        executed = conn.execute(
            instance_settings.insert()
            .values(key="probe-sqlalchemy", value=document)
            .returning(instance_settings.c.key, instance_settings.c.value)
        ).one()
    assert tuple(ran) == ("probe-direct", document)
    assert ran.value == executed.value
    probe = instance_settings.c.key.like("probe-%")
    with env.store.read() as conn:
        stored = dict(
            conn.execute(select(instance_settings.c.key, instance_settings.c.value).where(probe))
            .tuples()
            .all()
        )
    assert stored == {"probe-direct": document, "probe-sqlalchemy": document}
    with pytest.raises(RuntimeError), env.store.write() as conn:
        insert_one.first(conn, {"k": "probe-rolled-back", "v": 1})
        raise RuntimeError("the transaction fails after the insert")
    with env.store.write() as conn:
        conn.execute(instance_settings.delete().where(probe))
    with env.store.read() as conn:
        assert conn.execute(select(instance_settings.c.key).where(probe)).all() == []


def test_python_side_defaults_fall_back_to_sqlalchemy(env: Env) -> None:
    """A column default computed in Python is filled in by SQLAlchemy's execution, which a
    run on the driver would skip: such a statement is left to SQLAlchemy."""
    from sqlalchemy import Column, MetaData, String, Table

    table = Table(
        "instance_settings",
        MetaData(),
        Column("key", String(100), primary_key=True),
        Column("value", JSON, default=lambda: {"filled": True}),
    )
    direct = Direct(table.insert().values(key=bindparam("k")).returning(table.c.value))
    with pytest.raises(RuntimeError), env.store.write() as conn:
        assert tuple(direct.first(conn, {"k": "probe-default"})) == ({"filled": True},)
        raise RuntimeError("leave nothing behind")
