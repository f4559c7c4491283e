"""The one request pipeline, on every face: sign-in throttling by the route's declared kind,
credentials before any body, one body limit, one Origin check for cookie sessions, one
ETag format and one If-Match reader."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import anyio
import orjson
import pytest
from starlette.testclient import TestClient

from officina.app import build_app
from officina.core import clock, people, throttle
from officina.core.sessions import create_session
from tests.conftest import Env, basic, unique
from tests.flow.helpers import count
from tests.goana.fixtures import address

RECORDS = "/main/api/v1"
FLOW = "/main/flow/api/v1"
JOBS = "/main/goana/api/v1"
HTTPS = "https://testserver"
ETAG = re.compile(r'^"[0-9a-f]{32}"$')


def _person(env: Env) -> str:
    email = f"{unique('k')}@example.com"
    with env.store.write() as conn:
        people.create_user(conn, email=email, password="right-password-1", name=email)
    return email


@pytest.fixture
def few_failures(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The throttle's clock stands still: the wait after the free failures (a second) must
    # not run out on a slow machine before the request that should meet it.
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)
    saved = throttle.LIMITS
    # Three failures of one account from one address cost no waiting (the pair's free
    # failures under a limit of four); the next attempt waits, with 429.
    throttle.configure(account=4, address=1000, window=60)
    try:
        yield
    finally:
        throttle.LIMITS = saved


# -- 1. sign-in throttling by the route's kind, never by path text -----------------------------

SUFFIXED = [
    f"{JOBS}/jobs/x/oauth2/v1/token",
    f"{JOBS}/jobs/x/oauth2/v1/revoke",
    f"{FLOW}/customers/search/name/x/oauth2/v1/introspect",
    f"{RECORDS}/accounts/oauth2/v1/token",
]


@pytest.mark.parametrize("path", SUFFIXED)
def test_paths_ending_like_oauth_endpoints_are_throttled(
    env: Env, few_failures: None, path: str
) -> None:
    email = _person(env)
    c = env.client(base_url=HTTPS)
    for _ in range(3):
        r = c.get(path, headers=basic(email, "wrong"))
        if r.status_code == 404:
            # A path no route takes counts no failure; the guesses are made elsewhere, and
            # the block must still reach this path.
            r = c.get(f"{RECORDS}/accounts/1", headers=basic(email, "wrong"))
        assert r.status_code == 401, r.text
    blocked = c.get(path, headers=basic(email, "right-password-1"))
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 60


def test_the_429_speaks_the_dialect_of_the_face(env: Env, few_failures: None) -> None:
    email = _person(env)
    c = env.client(base_url=HTTPS)
    for _ in range(3):
        assert c.get(f"{RECORDS}/accounts/1", headers=basic(email, "wrong")).status_code == 401
    right = basic(email, "right-password-1")
    records = c.get(f"{RECORDS}/accounts/1", headers=right)
    assert records.status_code == 429
    assert records.headers["content-type"].startswith("text/plain")
    assert records.text == "Too Many Requests: too many failed sign-ins; try again later"
    flow = c.get(f"{FLOW}/customers", headers=right)
    assert flow.status_code == 429
    assert flow.json()["code"] == "too_many_requests"
    assert flow.json()["status"] == 429
    jobs = c.get(f"{JOBS}/jobs/x/oauth2/v1/token", headers=right)
    assert jobs.status_code == 429
    assert jobs.headers["content-type"].startswith("application/problem+json")
    assert jobs.json()["status"] == 429 and jobs.json()["title"] == "Too Many Requests"
    oauth = c.get("/main/oauth2/v1/userinfo", headers=right)
    assert oauth.status_code == 429
    assert oauth.json()["error"] == "invalid_request"


def test_real_client_authenticated_endpoints_are_not_sign_ins(env: Env, few_failures: None) -> None:
    """Basic credentials at the token endpoint name a client application: they never count
    against a person of the same name."""
    email = _person(env)
    c = env.client()
    form = {"grant_type": "client_credentials"}
    for _ in range(5):
        r = c.post("/main/oauth2/v1/token", data=form, headers=basic(email, "wrong"))
        assert r.status_code == 401
    assert c.get(f"{RECORDS}/config", headers=basic(email, "right-password-1")).status_code == 200


# -- 2. credentials before the body ------------------------------------------------------------


def _asgi(
    app: Any, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, bytes, int]:
    """Call the application directly: the status, the body and how many body bytes the
    server took from the client."""
    pending = list(chunks)
    consumed = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if pending:
            chunk = pending.pop(0)
            consumed += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        await anyio.sleep(3600)  # the client has nothing more to send
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }

    async def main() -> None:
        with anyio.fail_after(30):
            await app(scope, receive, send)

    anyio.run(main)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, consumed


BODIED = [
    ("PUT", f"{RECORDS}/accounts"),
    ("POST", f"{RECORDS}/accounts"),
    ("PATCH", f"{RECORDS}/accounts/1"),
    ("POST", f"{FLOW}/projectFolders"),
    ("PUT", f"{FLOW}/customers/{'A' * 32}"),
    ("POST", f"{JOBS}/teams"),
    ("PUT", f"{JOBS}/contacts/x"),
]


@pytest.mark.parametrize(("method", "path"), BODIED)
@pytest.mark.parametrize("credentials", ["Bearer junk", None, "Basic YXBpOmp1bms="])
def test_a_refused_caller_body_is_never_read(
    env: Env, method: str, path: str, credentials: str | None
) -> None:
    chunks = [b"{" + b" " * 100_000] * 10 + [b"}"]
    headers = {"Content-Type": "application/json", "Content-Length": str(sum(map(len, chunks)))}
    if credentials:
        headers["Authorization"] = credentials
    status, body, consumed = _asgi(env.app, method, path, headers, chunks)
    assert status == 401, body
    assert consumed == 0


def test_a_refused_cookie_body_is_never_read(env: Env) -> None:
    chunks = [b"{}"]
    headers = {"Content-Type": "application/json", "Content-Length": "2", "Cookie": "ZEYOSID=bad"}
    for path in (f"{RECORDS}/accounts", f"{FLOW}/projectFolders", f"{JOBS}/teams"):
        status, _, consumed = _asgi(env.app, "POST", path, headers, chunks)
        assert (status, consumed) == (401, 0)


def test_a_known_caller_body_is_read(env: Env) -> None:
    raw = orjson.dumps({"lastname": "Streamed", "currency": "EUR"})
    headers = {
        **env.admin_headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(raw)),
    }
    status, body, consumed = _asgi(env.app, "PUT", f"{RECORDS}/accounts", headers, [raw])
    assert status == 201, body
    assert consumed == len(raw)
    assert orjson.loads(body)["lastname"] == "Streamed"


def test_a_body_over_the_limit_is_cut_off(env: Env) -> None:
    app = build_app(dataclasses.replace(env.settings, max_body_bytes=2000), env.instances)
    headers = {**env.admin_headers, "Content-Type": "application/json"}
    # Declared too large: refused before one byte is taken.
    declared = {**headers, "Content-Length": "2001"}
    status, body, consumed = _asgi(app, "PUT", f"{RECORDS}/accounts", declared, [b" " * 2001])
    assert (status, body, consumed) == (413, b"Payload Too Large", 0)
    # Streamed without a length: reading stops at the chunk that passes the limit.
    chunks = [b" " * 1000] * 50
    for path in (f"{RECORDS}/accounts", f"{FLOW}/projectFolders", f"{JOBS}/teams"):
        status, _, consumed = _asgi(
            app, "POST", path, {**headers, "Transfer-Encoding": "chunked"}, list(chunks)
        )
        assert status == 413
        assert consumed == 3000


# -- 4. one body limit on every face -----------------------------------------------------------


def _padded(data: dict[str, Any], size: int) -> bytes:
    """``data`` as JSON of exactly ``size`` bytes (trailing blanks are valid JSON)."""
    raw = orjson.dumps(data)
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


LIMIT = 3000


@pytest.fixture
def strict(env: Env) -> TestClient:
    app = build_app(dataclasses.replace(env.settings, max_body_bytes=LIMIT), env.instances)
    return TestClient(app, headers=env.admin_headers, base_url=HTTPS)


def test_body_at_the_limit_is_accepted_on_every_face(env: Env, strict: TestClient) -> None:
    json = {"Content-Type": "application/json"}
    team = unique("T")
    r = strict.put(
        f"{RECORDS}/accounts",
        content=_padded({"lastname": "A", "currency": "EUR"}, LIMIT),
        headers=json,
    )
    assert r.status_code == 201, r.text
    r = strict.post(f"{FLOW}/projectFolders", content=_padded({"name": "F"}, LIMIT), headers=json)
    assert r.status_code == 201, r.text
    r = strict.post(f"{JOBS}/teams", content=_padded({"Name": team}, LIMIT), headers=json)
    assert r.status_code == 201, r.text


def test_body_one_byte_over_the_limit_is_413_on_every_face(env: Env, strict: TestClient) -> None:
    json = {"Content-Type": "application/json"}
    team = unique("T")
    over = LIMIT + 1
    r = strict.put(
        f"{RECORDS}/accounts",
        content=_padded({"lastname": "A", "currency": "EUR"}, over),
        headers=json,
    )
    assert (r.status_code, r.text) == (413, "Payload Too Large")
    assert r.headers["content-type"].startswith("text/plain")
    r = strict.post(f"{FLOW}/projectFolders", content=_padded({"name": "F"}, over), headers=json)
    assert r.status_code == 413
    assert r.json() == {
        "status": 413,
        "code": "payload_too_large",
        "message": f"request body larger than {LIMIT} bytes",
        "errors": [],
    }
    r = strict.post(f"{JOBS}/teams", content=_padded({"Name": team}, over), headers=json)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == f"the body is larger than {LIMIT} bytes"
    r = strict.post("/main/oauth2/v1/token", content=b"a" * over)
    assert r.status_code == 413
    assert r.json() == {"error": "invalid_request", "error_description": "Payload Too Large"}
    r = strict.post("/main/auth/v1/login", content=b"a" * over)
    assert (r.status_code, r.text) == (413, "Payload Too Large")
    # nothing was written
    assert strict.post(f"{RECORDS}/accounts", json={"count": True}).json() == {"count": 0}
    assert count(env, "flow_nodes") == 0
    assert [t for t in strict.get(f"{JOBS}/teams").json() if t["Name"] == team] == []


# -- 3. one Origin check for cookie sessions -------------------------------------------------


@pytest.fixture
def browser(env: Env) -> TestClient:
    with env.store.write() as conn:
        sid = create_session(conn, env.admin.user_id, "127.0.0.1")
    c = env.client(base_url=HTTPS)
    c.cookies.set("ZEYOSID", sid)
    return c


CHANGES = [
    ("PUT", f"{RECORDS}/accounts", {"lastname": "X", "currency": "EUR"}),
    ("POST", f"{RECORDS}/accounts", {"count": True}),
    ("PATCH", f"{RECORDS}/accounts/1", {"lastname": "Y"}),
    ("DELETE", f"{RECORDS}/accounts/1", None),
    ("POST", f"{FLOW}/projectFolders", {"name": "F"}),
    ("PUT", f"{FLOW}/customers/{'A' * 32}", {"name": "C"}),
    ("PATCH", f"{FLOW}/customers/{'A' * 32}", {"name": "C"}),
    ("DELETE", f"{FLOW}/customers/{'A' * 32}", None),
    ("POST", f"{JOBS}/teams", {"Name": "T"}),
    ("PUT", f"{JOBS}/contacts/x", {"Name": "N"}),
    ("PATCH", f"{JOBS}/contacts/x", {"Name": "N"}),
    ("DELETE", f"{JOBS}/teams/x", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
def test_a_foreign_origin_cookie_change_is_403(
    browser: TestClient, method: str, path: str, body: Any
) -> None:
    r = browser.request(method, path, json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403, r.text
    if path.startswith(FLOW):
        assert r.json()["code"] == "forbidden"
        assert r.json()["message"] == "Cross-origin request with a session cookie"
    elif path.startswith(JOBS):
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "Cross-origin request with a session cookie"
    else:
        assert r.text == "Forbidden: Cross-origin request with a session cookie"


def test_own_origin_cookie_changes_pass_and_foreign_ones_write_nothing(
    env: Env, browser: TestClient
) -> None:
    own = {"Origin": HTTPS}
    evil = {"Origin": "https://evil.example"}
    assert (
        browser.post(f"{FLOW}/projectFolders", json={"name": "F"}, headers=evil).status_code == 403
    )
    evil_team, own_team = unique("Evil"), unique("Own")
    assert browser.post(f"{JOBS}/teams", json={"Name": evil_team}, headers=evil).status_code == 403
    assert count(env, "flow_nodes") == 0
    assert (
        browser.post(f"{FLOW}/projectFolders", json={"name": "F"}, headers=own).status_code == 201
    )
    assert browser.post(f"{JOBS}/teams", json={"Name": own_team}, headers=own).status_code == 201
    names = [t["Name"] for t in browser.get(f"{JOBS}/teams").json()]
    assert own_team in names and evil_team not in names
    # Reads are never blocked; a bad cookie is a 401 before the Origin is judged.
    assert browser.get(f"{FLOW}/customers", headers=evil).status_code == 200
    stranger = env.client(base_url=HTTPS)
    stranger.cookies.set("ZEYOSID", "0" * 40)
    assert stranger.post(f"{JOBS}/teams", json={"Name": "T"}, headers=evil).status_code == 401


# -- 5. one ETag format and one If-Match reader ------------------------------------------------


def _tags(env: Env, admin: TestClient) -> list[tuple[str, str, str, dict[str, Any], int]]:
    """(method, path, ETag, change body, status of a successful change) of one object per
    face."""
    made = admin.put(f"{RECORDS}/accounts", json={"lastname": "E", "currency": "EUR"})
    account = f"{RECORDS}/accounts/{made.json()['ID']}"
    folder = admin.post(f"{FLOW}/projectFolders", json={"name": "E"}).json()["id"]
    folder_path = f"{FLOW}/projectFolders/{folder}"
    contact = {"Reference": "E", "Name": "Muster", "Location": address()}
    assert admin.post(f"{JOBS}/contacts", json=contact).status_code == 201
    out = []
    for method, path, change, ok in (
        ("PATCH", account, {"lastname": "F"}, 200),
        ("PATCH", folder_path, {"name": "F"}, 204),
        ("PUT", f"{JOBS}/contacts/E", {"Remarks": "1"}, 200),
    ):
        out.append((method, path, admin.get(path).headers["etag"], change, ok))
    return out


def test_every_face_answers_with_one_etag_format(env: Env) -> None:
    admin = env.client(env.admin_headers, base_url=HTTPS)
    for _, path, tag, _, _ in _tags(env, admin):
        assert ETAG.match(tag), (path, tag)
        assert admin.get(path, headers={"If-None-Match": tag}).status_code == 304
        assert admin.get(path, headers={"If-None-Match": f'"x", W/{tag}'}).status_code == 304


def test_if_match_star_lists_and_mismatches_on_every_face(env: Env) -> None:
    admin = env.client(env.admin_headers, base_url=HTTPS)
    for method, path, tag, change, ok in _tags(env, admin):
        stale = '"00000000000000000000000000000000"'
        r = admin.request(method, path, json=change, headers={"If-Match": stale})
        assert r.status_code == 412, (path, r.text)
        r = admin.request(method, path, json=change, headers={"If-Match": f"{stale}, {stale}"})
        assert r.status_code == 412, (path, r.text)
        r = admin.request(method, path, json=change, headers={"If-Match": f"{stale}, {tag}"})
        assert r.status_code == ok, (path, r.text)
        r = admin.request(method, path, json=change, headers={"If-Match": tag})  # now outdated
        assert r.status_code == 412, (path, r.text)
        r = admin.request(method, path, json=change, headers={"If-Match": "*"})
        assert r.status_code == ok, (path, r.text)
