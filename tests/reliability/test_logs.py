"""What a real server tells its operators: a log of JSON lines with one request id through
every line of a request and no password, API key, token or secret in it (even at debug
level), readiness, and metrics by route template in the Prometheus text format."""

from __future__ import annotations

import json
import re
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import STORES, basic
from tests.test_serve_e2e import Server, launch

pytestmark = pytest.mark.e2e


@pytest.fixture(params=STORES)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with launch(request.param, tmp_path, "--log-level", "debug") as server:
        yield server


def _secret(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


def _exercise(server: Server) -> tuple[list[str], str]:
    """Requests that carry secrets in every place a client may put them; returns the
    secrets and the request id of a request that logs a warning of its own."""
    password, key = server.creds["password"], server.creds["api_key"]
    email = server.creds["email"]
    guessed, in_query, cookie, new_password, client_secret = (
        _secret("guess"),
        _secret("query"),
        _secret("cookie"),
        _secret("new-password"),
        _secret("client"),
    )
    with httpx.Client(base_url=server.base, timeout=30) as c:
        as_admin = basic("api", key)
        assert c.get("/main/api/v1/accounts/1", headers=basic(email, password)).status_code in (
            200,
            404,
        )
        assert c.get("/main/auth/v1/", headers=basic(email, guessed)).status_code == 401
        login = c.post(
            "/main/auth/v1/login",
            data={"name": email, "password": password, "identifier": "logs"},
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert c.get("/main/flow/api/v1/users", headers=bearer).status_code == 200
        assert c.get(f"/main/auth/v1/?token={in_query}&password={in_query}").status_code == 401
        assert (
            c.get("/main/goana/api/v1/jobs", headers={"Cookie": f"ZEYOSID={cookie}"}).status_code
            == 401
        )
        made = c.post(
            "/main/goana/api/v1/users",
            json={"Email": "logged@example.com", "DisplayName": "L", "Password": new_password},
            headers=as_admin,
        )
        assert made.status_code in (201, 403), made.text  # the jobs face may want HTTPS
        grant = {
            "grant_type": "password",
            "username": email,
            "password": password,
            "client_id": "nosuch",
            "client_secret": client_secret,
        }
        assert c.post("/main/oauth2/v1/token", data=grant).status_code in (400, 401)
        assert c.get("/main/auth/v1/logout", headers=bearer).status_code in (200, 204)
        # A request that writes a log line of its own (a likely mistake the face warns about).
        tr = {"Title": "Pizza", "TitleTranslations": {"en": "Pizza", "de": "Pizza Lieferung"}}
        traced = "trace-logs-1"
        for n, body in enumerate((tr, {"Title": "Pizza Lieferung"})):
            r = c.post(
                "/main/goana/api/v1/jobtemplates",
                json=body,
                headers={**as_admin, "X-Request-ID": f"{traced}-{n}"},
            )
    assert r.headers["x-request-id"] == f"{traced}-1"
    shown = [password, key, guessed, in_query, cookie, token, new_password, client_secret]
    return shown, f"{traced}-1"


def test_log_lines_are_json_with_request_ids_and_no_secrets(running: Server) -> None:
    server = running
    shown, traced = _exercise(server)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    text = server.stderr_path.read_text(errors="replace")
    leaked = [s for s in shown if s in text]
    assert leaked == [], "secrets in the log"
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(line, dict) and line.get("message") for line in lines)
    access = [line for line in lines if line["logger"] == "officina.access"]
    assert len(access) >= 10
    assert all(len(line["request_id"]) >= 8 for line in access)
    assert len({line["request_id"] for line in access}) == len(access)
    # The face's warning was written while the request ran (in a worker thread), so it
    # carries the request's id, as does the access line. (Debug lines of the connection pool
    # carry it too, on PostgreSQL, where the caller is resolved through the pool of the
    # event loop before the body is read.)
    mine = sorted(
        line["logger"]
        for line in lines
        if line["request_id"] == traced and line["level"] != "debug"
    )
    assert mine == ["officina.access", "officina.goana"]


SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? [0-9.e+-]+$')


def test_readiness_and_metrics_of_a_running_server(running: Server) -> None:
    server = running
    auth = basic("api", server.creds["api_key"])
    with httpx.Client(base_url=server.base, timeout=30) as c:
        assert c.get("/readyz").json()["status"] == "ready"
        for n in range(3):
            c.get(f"/main/api/v1/accounts/{n + 1}", headers=auth)
        c.get("/main/api/v1/accounts/x", headers={"Authorization": "Bearer nothing"})
        scraped = c.get("/metrics")  # from the same machine: no token needed
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = scraped.text
    for line in text.splitlines():
        assert line.startswith(("# HELP ", "# TYPE ")) or SAMPLE.match(line), line
    route = 'route="/{instance}/api/v1/accounts/{id}"'
    assert f'officina_requests_total{{method="GET",{route},status="404"}} 3' in text
    assert f'officina_requests_total{{method="GET",{route},status="401"}} 1' in text
    assert f'officina_request_duration_seconds_count{{method="GET",{route}}} 4' in text
    assert "/main/" not in text
