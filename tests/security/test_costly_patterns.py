"""Regular expressions that backtrack for ages cannot stall the server or outlive the
statement limit: on SQLite (where officina evaluates patterns itself) a pattern too costly on
one value is refused with 400, a statement past its time limit is cut with 503, and the event
loop keeps answering while either happens. PostgreSQL's own engine does not backtrack this way
and is held by its statement timeout."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from officina.core import sqlfuncs
from officina.zeyos.limits import LIMITS
from tests.conftest import STORES, Env
from tests.test_serve_e2e import launch
from tests.zeyos.helpers import API, account, error, listing

# Catastrophic for a backtracking matcher on a run of "a" that ends in something else.
BOMB = "^(a|aa)+$"
VICTIM = "a" * 40 + "!"


def test_a_pattern_too_costly_on_one_value_is_refused(env: Env, admin) -> None:
    for i in range(3):
        account(admin, lastname=f"{VICTIM}{i}")
    account(admin, lastname="aaaa")
    started = time.monotonic()
    response = admin.post(f"{API}/accounts", json={"filter": {"lastname": {"~": BOMB}}})
    elapsed = time.monotonic() - started
    if env.kind == "sqlite":
        assert error(response, 400) == (
            "Bad Request: Invalid filter: a regular expression took too long to evaluate on one "
            "value"
        )
    else:
        assert response.status_code == 200, response.text
        assert [r["lastname"] for r in response.json()] == ["aaaa"]
    assert elapsed < 5


def test_a_list_honours_the_statement_limit(env: Env, admin, monkeypatch) -> None:
    """Each value stays under the per-value cap, yet together they outlive the statement
    limit: the list is cut with 503 once the limit has passed, not answered late."""
    # Each value costs a backtracking matcher tens of milliseconds; twenty of them together
    # several times the limit, however fast the machine.
    for i in range(20):
        account(admin, lastname=f"{'a' * 26}!{i}")
    monkeypatch.setattr(sqlfuncs, "REGEX_TIMEOUT_SECONDS", 60.0)
    monkeypatch.setattr(LIMITS, "statement_seconds", 0.3)
    started = time.monotonic()
    response = admin.post(f"{API}/accounts", json={"filter": {"lastname": {"~": BOMB}}})
    elapsed = time.monotonic() - started
    if env.kind == "sqlite":
        assert error(response, 503) == "Service Unavailable: query took too long"
        assert response.headers["retry-after"] == "5"
    else:
        assert response.status_code == 200, response.text
        assert response.json() == []
    assert elapsed < 3
    monkeypatch.setattr(LIMITS, "statement_seconds", 30.0)
    assert listing(admin, "accounts", {"filter": {"lastname": "x"}}) == []


@pytest.mark.e2e
@pytest.mark.parametrize("kind", STORES)
def test_health_answers_while_a_costly_pattern_runs(kind: str, tmp_path: Path) -> None:
    with launch(kind, tmp_path) as server:
        auth = ("api", server.creds["api_key"])
        with httpx.Client(base_url=server.base, auth=auth, timeout=60) as c:
            for i in range(150):
                made = c.put(
                    "/main/api/v1/accounts", json={"lastname": f"{VICTIM}{i}", "currency": "EUR"}
                )
                assert made.status_code == 201, made.text
            answers: list[httpx.Response] = []

            def costly() -> None:
                for _ in range(3):
                    answers.append(
                        c.post("/main/api/v1/accounts", json={"filter": {"lastname": {"~": BOMB}}})
                    )

            worker = threading.Thread(target=costly)
            worker.start()
            waits: list[float] = []
            with httpx.Client(base_url=server.base, timeout=60) as probe:
                while True:  # at least once: on PostgreSQL the lists may be done already
                    started = time.monotonic()
                    assert probe.get("/healthz").status_code == 200
                    waits.append(time.monotonic() - started)
                    if not worker.is_alive():
                        break
                    time.sleep(0.01)
            worker.join()
        assert len(answers) == 3
        for answer in answers:
            assert answer.status_code == (400 if kind == "sqlite" else 200), answer.text
        # Before patterns watched the clock, /healthz waited 11-21 s behind such a list.
        assert statistics.median(waits) < 0.1, waits
        assert max(waits) < 1.0, waits
