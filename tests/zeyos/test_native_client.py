"""The ready application for command-line and desktop clients: every instance has it, it
takes loopback redirect URIs on any port (RFC 8252 §7.3) and needs no secret; a redirect it
does not know shows a page saying what to register."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from officina.core.applications import NATIVE_CALLBACKS, NATIVE_IDENTIFIER
from officina.core.schema import applications
from tests.conftest import Env, basic
from tests.zeyos.oauth_helpers import (
    OAUTH,
    App,
    bearer,
    browser,
    callback_params,
    hidden_fields,
    pkce_pair,
    tokens_of,
)
from tests.zeyos.test_oauth2_pages import error_page

NATIVE = App(0, NATIVE_IDENTIFIER, "")
FACES = ("/main/api/v1/config", "/main/flow/api/v1/users", "/main/goana/api/v1/jobs")
HTTPS = "https://testserver"


def _code(env: Env, redirect_uri: str, challenge: str) -> str:
    client = browser(env)
    params = {
        "client_id": NATIVE_IDENTIFIER,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    first = client.get(f"{OAUTH}/authorize", params=params)
    assert first.status_code == 303, first.text
    page = client.get(first.headers["location"])
    assert page.status_code == 200 and "Command-line and desktop clients" in page.text
    form = {
        **hidden_fields(page.text),
        "login": env.admin.email,
        "password": env.admin.password,
        "decision": "allow",
    }
    return callback_params(client.post(f"{OAUTH}/consent", data=form), redirect_uri)["code"]


def test_every_instance_has_the_ready_application(env: Env) -> None:
    with env.store.read() as conn:
        row = conn.execute(
            select(applications).where(applications.c.identifier == NATIVE_IDENTIFIER)
        ).one()
    assert row.activity == 0 and row.secret is None and not row.restricted
    assert tuple(row.callbackurls) == NATIVE_CALLBACKS


def _token(env: Env, body: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    return env.client(headers).post(f"{OAUTH}/token", data=body)


def test_command_line_sign_in_on_any_loopback_port(env: Env) -> None:
    for port, host in ((53682, "127.0.0.1"), (9005, "localhost"), (40001, "[::1]")):
        redirect = f"http://{host}:{port}/callback"
        verifier, challenge = pkce_pair()
        code = _code(env, redirect, challenge)
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "client_id": NATIVE_IDENTIFIER,
        }
        if host == "localhost":
            # The official client sends Basic and body credentials; any secret is taken.
            answer = _token(env, {**body, "client_secret": "x"}, basic(NATIVE_IDENTIFIER, "x"))
        else:
            answer = _token(env, body)
        access, refresh = tokens_of(answer)
        for path in FACES:
            r = env.client(bearer(access), base_url=HTTPS).get(path)
            assert r.status_code == 200, (path, r.text)
        renewed = _token(
            env,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": NATIVE_IDENTIFIER,
            },
        )
        tokens_of(renewed)


def test_redirect_mismatch_says_what_to_register(env: Env) -> None:
    client = browser(env)
    url = f"{OAUTH}/authorize"
    base = {"client_id": NATIVE_IDENTIFIER, "response_type": "code"}
    other_path = client.get(url, params={**base, "redirect_uri": "http://127.0.0.1:8080/other"})
    error_page(other_path, "is not registered for the application")
    assert "add exactly this URL" in other_path.text
    assert "http://127.0.0.1:8080/other" in other_path.text
    assert "officina-cli" in other_path.text
    remote = client.get(url, params={**base, "redirect_uri": "http://app.example.com/callback"})
    error_page(remote, "must use HTTPS")
    # The port rule covers loopback only: a registered HTTPS URI matches exactly.
    https = client.get(url, params={**base, "redirect_uri": "https://127.0.0.1:8443/callback"})
    error_page(https, "is not registered")


def test_a_public_client_cannot_pass_for_another(env: Env) -> None:
    from tests.zeyos.oauth_helpers import register

    confidential = register(env)
    r = _token(
        env,
        {
            "grant_type": "password",
            "username": env.admin.email,
            "password": env.admin.password,
            "client_id": confidential.client_id,
        },
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
