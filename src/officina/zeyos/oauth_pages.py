"""The few HTML pages of the OAuth flow: sign-in, consent, error, and the form_post hand-off.

Pages are rendered from small string templates with every caller-supplied value escaped.
Each answer carries a fresh CSP nonce (the only inline style and script allowed), forbids
framing (clickjacking a consent button is the classic attack) and is never cached. The CSP's
``form-action`` also lists the client's redirect origin: browsers apply it to the redirect that
follows a form submission, and the consent form's answer is exactly such a redirect.

Forms carry a CSRF token: a nonce plus an HMAC of the nonce and the client/redirect pair, keyed
with a secret the browser holds in an HttpOnly cookie (the session id once signed in, a
pre-login cookie before). Another site can make the browser send the cookie, but cannot read it
and so cannot mint a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, Response

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}h1{font-size:1.3rem}label{display:block;margin:.8rem 0 .2rem}"
    "input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}"
    ".row{margin-top:1.2rem;display:flex;gap:.6rem}.msg{color:#a00}"
    "button{padding:.45rem 1rem}"
)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _headers(nonce: str, form_targets: Iterable[str]) -> dict[str, str]:
    targets = " ".join(sorted({origin(t) for t in form_targets}))
    policy = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        f"form-action 'self' {targets}".rstrip()
        + "; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def page(
    title: str,
    body: str,
    status: int = 200,
    form_targets: Iterable[str] = (),
    script: str | None = None,
) -> Response:
    """A complete HTML document; ``body`` must already be escaped."""
    nonce = secrets.token_urlsafe(16)
    tail = f'<script nonce="{nonce}">{script}</script>' if script else ""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{STYLE}</style></head>'
        f"<body>{body}{tail}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_headers(nonce, form_targets))


def error_page(message: str, status: int = 400) -> Response:
    body = (
        "<h1>This sign-in request cannot continue</h1>"
        f'<p class="msg">{escape(message)}</p>'
        "<p>Go back to the application and try again. No data was shared.</p>"
    )
    return page("Sign-in error", body, status)


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def _buttons() -> str:
    return (
        '<div class="row"><button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></div>'
    )


def login_page(
    action: str,
    fields: Mapping[str, str],
    client_name: str,
    redirect_uri: str,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """Sign in and decide in one step: the buttons both authenticate and answer the client."""
    note = f'<p class="msg">{escape(message)}</p>' if message else ""
    body = (
        "<h1>Sign in to officina</h1>"
        f"<p><strong>{escape(client_name)}</strong> asks to access your data on your behalf. "
        "Sign in to allow it, or deny the request.</p>"
        f'{note}<form method="post" action="{escape(action)}">{_hidden(fields)}'
        '<label for="login">E-mail or user name</label>'
        '<input type="text" id="login" name="login" autocomplete="username" autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password">'
        f"{_buttons()}</form>"
    )
    return page("Sign in", body, status, form_targets=[redirect_uri])


def consent_page(
    action: str,
    fields: Mapping[str, str],
    client_name: str,
    redirect_uri: str,
    user_name: str,
) -> Response:
    body = (
        "<h1>Allow access?</h1>"
        f"<p>You are signed in as <strong>{escape(user_name)}</strong>.</p>"
        f"<p><strong>{escape(client_name)}</strong> asks to access your data on your behalf. "
        f"It will be sent back to <code>{escape(origin(redirect_uri))}</code>.</p>"
        f'<form method="post" action="{escape(action)}">{_hidden(fields)}{_buttons()}</form>'
    )
    return page("Allow access", body, form_targets=[redirect_uri])


def form_post_page(redirect_uri: str, params: Mapping[str, str]) -> Response:
    """``response_mode=form_post``: the browser posts the answer to the client by itself."""
    body = (
        f'<form id="answer" method="post" action="{escape(redirect_uri)}">{_hidden(params)}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
    )
    script = 'document.getElementById("answer").submit();'
    return page("Continue", body, form_targets=[redirect_uri], script=script)


# -- CSRF -------------------------------------------------------------------------------


def _mac(key: str, nonce: str, scope: tuple[str, ...]) -> str:
    message = "\n".join((nonce, *scope)).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def csrf_token(key: str, scope: tuple[str, ...]) -> str:
    """A token valid for forms answered with the same cookie ``key`` and ``scope``."""
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(key, nonce, scope)}"


def csrf_valid(key: str | None, scope: tuple[str, ...], token: str | None) -> bool:
    if not key or not token or "." not in token:
        return False
    nonce, _, mac = token.partition(".")
    return hmac.compare_digest(mac.encode("utf-8"), _mac(key, nonce, scope).encode("utf-8"))
