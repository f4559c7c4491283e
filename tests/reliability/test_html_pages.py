"""Every HTML answer of every face, found by walking the app's routes, carries the headers
that keep a sign-in page from being framed, sniffed, leaked by referrer or cached."""

from __future__ import annotations

from typing import Any

from tests.conftest import Env
from tests.reliability.routes import concrete, operations
from tests.zeyos.oauth_helpers import auth_params, browser, open_consent, register
from tests.zeyos.test_oauth2_pages import assert_html_headers


def _html(response: Any) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def test_every_html_answer_has_security_headers(env: Env) -> None:
    client = env.client(base_url="https://testserver")
    pages = []
    for face, method, path, _documented in operations(env):
        body: Any = {} if method in ("POST", "PUT", "PATCH") else None
        r = client.request(method, f"/main{face}{concrete(path)}", json=body)
        if _html(r):
            assert_html_headers(r)
            pages.append((face, method, path))
    # The OAuth sign-in and consent pages, as a browser reaches them.
    app = register(env)
    c = browser(env)
    start = c.get("/main/oauth2/v1/authorize", params=auth_params(app))
    assert start.status_code == 303
    page = open_consent(c, app)
    assert _html(page)
    assert_html_headers(page)
    assert pages, "the walk found no HTML answer at all"
