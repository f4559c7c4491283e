"""Lists of one shape share a statement: each request still gets its own operands, its own
errors and only the rows its caller may see; and lists that outrun the event loop's budget
are answered from a worker thread."""

from __future__ import annotations

import base64

import pytest

from officina.zeyos import http, list_statements
from tests.zeyos.helpers import API, account, contact, error, listing


@pytest.fixture
def accounts(admin):
    made = [account(admin, lastname=f"Row {i:02d}", type=i % 3) for i in range(30)]
    return [row["ID"] for row in made]


def _ids(rows):
    return [row["ID"] for row in rows]


def test_one_shape_many_operands(admin, accounts):
    list_statements._KEPT.clear()
    for start in (0, 7, 20):
        body = {"filter": {"ID": {">=": accounts[start], "<": accounts[start] + 5}}, "limit": 3}
        assert _ids(listing(admin, "accounts", body)) == accounts[start : start + 3]
    # the three requests were one shape, kept once
    assert len(list_statements._KEPT) == 1
    # paging numbers are operands too
    body = {"filter": {"ID": {">=": accounts[0]}}, "limit": 4, "offset": 10}
    assert _ids(listing(admin, "accounts", body)) == accounts[10:14]
    body["offset"] = 2
    assert _ids(listing(admin, "accounts", body)) == accounts[2:6]


def test_in_lists_of_other_values_and_nulls(admin, accounts):
    for chosen in ([accounts[1], accounts[4]], [accounts[8], accounts[2]], [accounts[5], None]):
        rows = listing(admin, "accounts", {"filter": {"ID": chosen}})
        assert _ids(rows) == sorted(i for i in chosen if i is not None)
    # numbers sent as text are coerced, on the first request of the shape and on later ones
    for pair in ((3, 6), (9, 1)):
        body = {"filter": {"ID": {"IN": [str(accounts[i]) for i in pair]}}}
        assert _ids(listing(admin, "accounts", body)) == sorted(accounts[i] for i in pair)
    refused = admin.post(f"{API}/accounts", json={"filter": {"ID": {"IN": ["x", "7"]}}})
    assert error(refused, 400) == "Bad Request: Invalid filter value for 'ID'"


def test_text_operand_is_coerced_each_time(admin, accounts):
    for kind in (0, "1", 2):
        rows = listing(admin, "accounts", {"filter": {"type": kind}, "limit": 100})
        assert {row["type"] for row in rows} == {int(kind)}
        assert len(rows) == 10


def test_bad_operand_of_a_kept_shape_fails_the_same_way(admin, accounts):
    first = admin.post(f"{API}/accounts", json={"filter": {"type": "one"}})
    listing(admin, "accounts", {"filter": {"type": 1}})
    listing(admin, "accounts", {"filter": {"type": 2}})
    again = admin.post(f"{API}/accounts", json={"filter": {"type": "two"}})
    assert error(first, 400) == error(again, 400) == "Bad Request: Invalid filter value for 'type'"
    bad_limit = admin.post(f"{API}/accounts", json={"filter": {"type": 2}, "limit": 0})
    assert error(bad_limit, 400) == "Bad Request: Invalid limit"


def test_callers_with_other_rights_do_not_share_rows(env, admin):
    sales = env.group()
    _, member_h = env.user({"accounts": True}, groups={sales: True})
    _, outsider_h = env.user({"accounts": True})
    member, outsider = env.client(member_h), env.client(outsider_h)
    owned = account(member, lastname="Owned", ownergroup=sales)
    public = account(member, lastname="Public")
    body = {"filter": {"ID": {">=": owned["ID"]}}, "sort": ["ID"]}
    assert _ids(listing(member, "accounts", body)) == [owned["ID"], public["ID"]]
    assert _ids(listing(outsider, "accounts", body)) == [public["ID"]]
    assert _ids(listing(member, "accounts", body)) == [owned["ID"], public["ID"]]


def test_joined_filter_and_count_keep_their_shapes(admin):
    for city in ("Bern", "Basel", "Bern"):
        person = contact(admin, lastname=f"In {city}", city=city)
        account(admin, lastname=f"Of {city}", contact=person["ID"])
    for city, expected in (("Bern", 2), ("Basel", 1), ("Chur", 0)):
        body = {"filter": {"contact.city": city}, "fields": ["lastname", "contact.city"]}
        rows = listing(admin, "accounts", body)
        assert len(rows) == expected and all(r["contact.city"] == city for r in rows)
        counted = listing(admin, "accounts", {"filter": {"contact.city": city}, "count": 1})
        assert counted == {"count": expected}


@pytest.fixture
def threads(monkeypatch):
    """The work that the records face handed to a worker thread."""
    moved = []
    real = http.run_in_threadpool

    async def counted(fn, *args):
        moved.append(fn)
        return await real(fn, *args)

    monkeypatch.setattr(http, "run_in_threadpool", counted)
    return moved


def test_short_list_on_sqlite_stays_on_the_loop(env, admin, accounts, threads):
    assert _ids(listing(admin, "accounts", {"limit": 5})) == accounts[:5]
    assert len(threads) == (0 if env.store.dialect == "sqlite" else 1)


def test_list_over_the_loop_budget_is_answered_from_a_thread(admin, accounts, threads, monkeypatch):
    # enough rows that SQLite consults its progress handler (every thousand steps)
    more = accounts + [account(admin, lastname=f"More {i}")["ID"] for i in range(60)]
    monkeypatch.setattr(http, "LOOP_BUDGET", 0.0)
    threads.clear()
    assert _ids(listing(admin, "accounts", {"limit": 1000})) == more
    # on SQLite it started on the loop and moved; on PostgreSQL it went to a thread at once
    assert len(threads) == 1


def test_list_with_file_contents_never_runs_on_the_loop(admin, threads):
    payload = base64.b64encode(b"picture bytes").decode()
    contact(admin, lastname="Pic", type=1, picbinfile={"content": payload})
    body = {"fields": ["picbinfile"], "expand": ["picbinfile"]}
    threads.clear()
    assert listing(admin, "contacts", body) == [{"picbinfile": {"content": payload}}]
    assert len(threads) == 1


def test_wide_selections_are_not_kept(admin, accounts):
    list_statements._KEPT.clear()
    wide = {f"k{i}": "lastname" for i in range(list_statements._MAX_KEPT_OUTPUTS + 1)}
    body = {"fields": wide, "filter": {"ID": accounts[0]}}
    rows = listing(admin, "accounts", body)
    assert rows == [dict.fromkeys(wide, "Row 00")]
    assert list_statements._KEPT == {}
    listing(admin, "accounts", {"fields": ["lastname"], "filter": {"ID": accounts[0]}})
    assert len(list_statements._KEPT) == 1


def test_a_shape_that_overran_starts_on_a_thread_until_it_runs_short(
    env, admin, accounts, threads, monkeypatch
):
    from contextlib import contextmanager

    from officina.zeyos import records

    more = accounts + [account(admin, lastname=f"More {i}")["ID"] for i in range(60)]
    budgets = []
    real = records.time_limit

    @contextmanager
    def recorded(conn, seconds, budget=None):
        budgets.append(budget)
        with real(conn, seconds, budget):
            yield

    monkeypatch.setattr(records, "time_limit", recorded)
    list_statements._KEPT.clear()
    body = {"filter": {"ID": {">=": more[0]}}, "limit": 1000}
    monkeypatch.setattr(http, "LOOP_BUDGET", 1e-6)
    threads.clear()
    for _ in range(2):
        assert _ids(listing(admin, "accounts", body)) == more
    monkeypatch.setattr(http, "LOOP_BUDGET", 10.0)
    assert _ids(listing(admin, "accounts", body)) == more
    if env.store.dialect == "sqlite":
        # tried on the loop and moved; then straight to a thread; then short again: the loop
        assert budgets == [1e-6, None, None, 10.0]
        assert len(threads) == 2
    else:
        assert budgets == [None, None, None]
        assert len(threads) == 3
