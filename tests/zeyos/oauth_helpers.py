"""Helpers for OAuth 2.0 tests: register clients, walk the browser flow, call the token API."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update
from starlette.testclient import TestClient

from officina.core.applications import create_application
from officina.core.schema import applications
from tests.conftest import Env, basic, unique

OAUTH = "/main/oauth2/v1"
API = "/main/api/v1"
CALLBACK = "http://127.0.0.1:9005/callback"
OTHER_CALLBACK = "https://app.example.com/oauth/done"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PW = "admin-pass-1"
HEX40 = re.compile(r"^[0-9a-f]{40}$")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass(frozen=True)
class App:
    id: int
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        return basic(self.client_id, self.secret)

    def body(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.secret}


def register(
    env: Env,
    callbacks: tuple[str, ...] = (CALLBACK, OTHER_CALLBACK),
    restricted: bool = False,
    **columns: Any,
) -> App:
    with env.store.write() as conn:
        created = create_application(
            conn,
            name="Test <App>",
            identifier=unique("app"),
            callbacks=list(callbacks),
            restricted=restricted,
        )
        if columns:
            conn.execute(
                update(applications).where(applications.c.ID == created.id).values(**columns)
            )
    return App(created.id, created.identifier, created.secret)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_params(app: App, **extra: Any) -> dict[str, str]:
    params = {"client_id": app.client_id, "redirect_uri": CALLBACK, "response_type": "code"}
    params.update({k: v for k, v in extra.items() if v is not None})
    return params


def hidden_fields(page: str) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page)}


def open_consent(browser: TestClient, app: App, **extra: Any) -> Any:
    """``GET /authorize`` (must be a 303 to the consent page), then that page."""
    response = browser.get(f"{OAUTH}/authorize", params=auth_params(app, **extra))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{OAUTH}/consent?")
    return browser.get(location)


def sign_in(
    browser: TestClient,
    app: App,
    login: str = ADMIN_EMAIL,
    password: str = ADMIN_PW,
    decision: str = "allow",
    **extra: Any,
) -> Any:
    """The whole browser side: authorize, the sign-in form, the decision."""
    page = open_consent(browser, app, **extra)
    assert page.status_code == 200, page.text
    fields = hidden_fields(page.text)
    form = {**fields, "login": login, "password": password, "decision": decision}
    return browser.post(f"{OAUTH}/consent", data=form)


def callback_params(response: Any, target: str = CALLBACK) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == target
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def get_code(env: Env, app: App, **extra: Any) -> str:
    params = callback_params(sign_in(browser(env), app, **extra))
    assert HEX40.match(params["code"])
    return params["code"]


def browser(env: Env) -> TestClient:
    """A client that keeps cookies and does not follow redirects, like a careful browser."""
    client = env.client()
    client.follow_redirects = False
    return client


def token_request(env: Env, app: App | None, fields: dict[str, str], json: bool = False) -> Any:
    """``POST /token`` with the client's credentials in the header and the body."""
    client = env.client(app.basic() if app else None)
    body = {**(app.body() if app else {}), **fields}
    if json:
        return client.post(f"{OAUTH}/token", json=body)
    return client.post(f"{OAUTH}/token", data=body)


def exchange(env: Env, app: App, code: str, **fields: str) -> Any:
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **fields}
    return token_request(env, app, body)


def password_grant(env: Env, app: App, username: str = "admin", pw: str = ADMIN_PW) -> Any:
    response = token_request(
        env, app, {"grant_type": "password", "username": username, "password": pw}
    )
    return response


def tokens_of(response: Any) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["access_token"], body["refresh_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def oauth_error(response: Any, status: int, error: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    return str(body["error_description"])


def introspect(env: Env, app: App, token: str) -> Any:
    response = env.client(app.basic()).post(f"{OAUTH}/introspect", data={"token": token})
    assert response.status_code == 200, response.text
    return response.json()


def api_status(env: Env, token: str) -> int:
    return int(env.client(bearer(token)).post(f"{API}/accounts", json={}).status_code)
