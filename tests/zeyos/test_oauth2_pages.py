"""The browser side of OAuth 2.0: /authorize checks, the sign-in and consent page, sessions,
CSRF, form_post, and the security headers of every HTML answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from officina.core import people
from officina.core.schema import applications, users
from tests.conftest import Env, unique
from tests.zeyos.oauth_helpers import (
    ADMIN_PW,
    CALLBACK,
    HEX40,
    OAUTH,
    auth_params,
    browser,
    callback_params,
    exchange,
    hidden_fields,
    open_consent,
    register,
    sign_in,
    tokens_of,
)


def assert_html_headers(response: Any) -> None:
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def error_page(response: Any, text: str) -> None:
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert_html_headers(response)
    assert text in response.text


def test_authorize_redirects_to_consent(env: Env) -> None:
    app = register(env)
    client = browser(env)
    params = auth_params(app, state="xyz", scope="read write", response_mode="form_post")
    for path in (f"{OAUTH}/authorize", f"{OAUTH}/authorize/"):
        response = client.get(path, params=params)
        assert response.status_code == 303
        target = urlsplit(response.headers["location"])
        assert target.path == f"{OAUTH}/consent"
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert query == {
            "client_id": app.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "response_mode": "form_post",
            "state": "xyz",
        }


def test_authorize_error_pages_never_redirect(env: Env) -> None:
    app = register(env)
    client = browser(env)
    url = f"{OAUTH}/authorize"
    error_page(client.get(url, params={**auth_params(app), "client_id": "nosuch"}), "Unknown")
    error_page(client.get(url, params={"redirect_uri": CALLBACK}), "client_id")
    error_page(client.get(url, params={"client_id": app.client_id}), "redirect_uri")
    unregistered = {**auth_params(app), "redirect_uri": "https://evil.example/cb"}
    error_page(client.get(url, params=unregistered), "not registered")
    # A prefix of a registered URI is not that URI.
    error_page(client.get(url, params={**auth_params(app), "redirect_uri": CALLBACK + "x"}), "")

    # Plain HTTP outside loopback is refused even when somebody stored such a URL.
    insecure = register(env)
    with env.store.write() as conn:
        conn.execute(
            update(applications)
            .where(applications.c.ID == insecure.id)
            .values(callbackurls=["http://app.example.com/cb"])
        )
    plain = {**auth_params(insecure), "redirect_uri": "http://app.example.com/cb"}
    error_page(client.get(url, params=plain), "HTTPS")

    with env.store.write() as conn:
        conn.execute(update(applications).where(applications.c.ID == app.id).values(activity=1))
    error_page(client.get(url, params=auth_params(app)), "Unknown client")


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": ""}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "a" * 43}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_authorize_errors_go_back_to_the_client(
    env: Env, extra: dict[str, str], error: str
) -> None:
    app = register(env)
    params = {**auth_params(app, state="st"), **extra}
    response = browser(env).get(f"{OAUTH}/authorize", params=params)
    answer = callback_params(response)
    assert answer["error"] == error and answer["state"] == "st"
    assert "code" not in answer


def test_login_page(env: Env) -> None:
    app = register(env)
    client = browser(env)
    page = open_consent(client, app, state="a<b")
    assert page.status_code == 200
    assert_html_headers(page)
    assert "form-action 'self' http://127.0.0.1:9005" in page.headers["content-security-policy"]
    assert 'name="password"' in page.text
    assert "Test &lt;App&gt;" in page.text and "<App>" not in page.text
    fields = hidden_fields(page.text)
    assert fields["state"] == "a<b" and fields["client_id"] == app.client_id
    assert "ZEYOSCSRF" in client.cookies


def test_sign_in_sets_session_cookie(env: Env) -> None:
    app = register(env)
    client = browser(env)
    response = sign_in(client, app, login="ADMIN")
    assert HEX40.match(callback_params(response)["code"])
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ZEYOSID="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"path=/main/", "httponly", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # plain HTTP test server
    # The session works on the other APIs too.
    assert client.get(f"{OAUTH}/userinfo").json()["sub"] == str(env.admin.user_id)


def test_existing_session_gets_consent_page(env: Env) -> None:
    app = register(env)
    client = browser(env)
    callback_params(sign_in(client, app))
    page = open_consent(client, app, state="again")
    assert page.status_code == 200
    assert_html_headers(page)
    assert 'name="password"' not in page.text and "admin" in page.text
    fields = hidden_fields(page.text)
    allowed = client.post(f"{OAUTH}/consent", data={**fields, "decision": "allow"})
    params = callback_params(allowed)
    assert params["state"] == "again"
    tokens_of(exchange(env, app, params["code"]))

    page = open_consent(client, app, state="no")
    denied = client.post(f"{OAUTH}/consent", data={**hidden_fields(page.text), "decision": "deny"})
    params = callback_params(denied)
    assert params["error"] == "access_denied" and params["state"] == "no"
    assert "code" not in params


def test_deny_on_sign_in_form(env: Env) -> None:
    app = register(env)
    params = callback_params(sign_in(browser(env), app, password="", decision="deny"))
    assert params["error"] == "access_denied"


def test_wrong_password_shows_the_form_again(env: Env) -> None:
    app = register(env)
    response = sign_in(browser(env), app, password="wrong-password")
    assert response.status_code == 200 and "location" not in response.headers
    assert_html_headers(response)
    assert "Invalid credentials" in response.text and 'name="password"' in response.text
    assert not any(c.startswith("ZEYOSID=") for c in response.headers.get_list("set-cookie"))

    email = f"{unique('apionly')}@example.com"
    with env.store.write() as conn:
        user = people.create_user(conn, email=email, password="pass-word-1")
        conn.execute(update(users).where(users.c.ID == user.id).values(apionly=1))
    refused = sign_in(browser(env), app, login=email, password="pass-word-1")
    assert refused.status_code == 200 and "only use the API" in refused.text


def _csrf_refused(response: Any) -> None:
    assert response.status_code == 403
    assert "location" not in response.headers
    assert_html_headers(response)


def test_consent_post_needs_csrf_token(env: Env) -> None:
    app = register(env)
    victim = browser(env)
    callback_params(sign_in(victim, app))
    fields = hidden_fields(open_consent(victim, app).text)
    forged = {k: v for k, v in fields.items() if k != "csrf"}
    _csrf_refused(victim.post(f"{OAUTH}/consent", data={**forged, "decision": "allow"}))
    _csrf_refused(
        victim.post(f"{OAUTH}/consent", data={**forged, "csrf": "00.11", "decision": "allow"})
    )
    # A token minted for another session does not fit this one.
    attacker = browser(env)
    callback_params(sign_in(attacker, app))
    theirs = hidden_fields(open_consent(attacker, app).text)["csrf"]
    _csrf_refused(
        victim.post(f"{OAUTH}/consent", data={**forged, "csrf": theirs, "decision": "allow"})
    )
    # Nor does one minted for another client's request.
    other = register(env)
    other_fields = hidden_fields(open_consent(victim, other).text)
    _csrf_refused(
        victim.post(
            f"{OAUTH}/consent", data={**forged, "csrf": other_fields["csrf"], "decision": "allow"}
        )
    )
    # The sign-in form is bound to its pre-login cookie.
    fresh = browser(env)
    login_fields = hidden_fields(open_consent(fresh, app).text)
    stranger = browser(env)
    stolen = {**login_fields, "login": "admin", "password": ADMIN_PW, "decision": "allow"}
    _csrf_refused(stranger.post(f"{OAUTH}/consent", data=stolen))


def test_consent_post_rechecks_the_request(env: Env) -> None:
    app = register(env)
    client = browser(env)
    fields = hidden_fields(open_consent(client, app).text)
    tampered = {**fields, "redirect_uri": "https://evil.example/cb", "decision": "allow"}
    response = client.post(
        f"{OAUTH}/consent", data={**tampered, "login": "admin", "password": ADMIN_PW}
    )
    error_page(response, "not registered")
    missing = client.post(f"{OAUTH}/consent", data={**fields, "login": "admin"})
    error_page(missing, "decision")


def test_form_post_response_mode(env: Env) -> None:
    app = register(env)
    response = sign_in(browser(env), app, response_mode="form_post", state="fp")
    assert response.status_code == 200
    assert_html_headers(response)
    assert f'action="{CALLBACK}"' in response.text
    assert "form-action 'self' http://127.0.0.1:9005" in response.headers["content-security-policy"]
    fields = hidden_fields(response.text)
    assert set(fields) == {"code", "state"} and fields["state"] == "fp"
    assert "<script nonce=" in response.text
    tokens_of(exchange(env, app, fields["code"]))


def test_error_page_headers_and_unknown_instance(env: Env) -> None:
    client = browser(env)
    response = client.get(f"{OAUTH}/consent", params={"client_id": "nope"})
    error_page(response, "Unknown client")
    assert client.get("/nosuch/oauth2/v1/authorize").status_code == 404
    assert client.delete(f"{OAUTH}/authorize").status_code == 405


def test_consent_with_query_in_callback(env: Env) -> None:
    target = "https://app.example.com/cb?tenant=7"
    app = register(env, callbacks=(target,))
    params = {"redirect_uri": target}
    response = sign_in(browser(env), app, **params)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert query["tenant"] == ["7"] and HEX40.match(query["code"][0])
