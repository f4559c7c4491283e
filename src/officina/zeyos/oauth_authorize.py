"""The browser side of the authorization-code flow: ``GET /authorize`` and the consent page.

``/authorize`` only checks the request and sends the browser (303) to officina's own page
``/consent`` with the same parameters; that page signs the user in (a ``ZEYOSID`` session) or
reuses a live session, asks for consent and answers the client with a code or
``error=access_denied``.

Nothing is stored between the two steps: both re-check the parameters, because the browser
carries them. Until the client and its redirect URI are known to be good, problems are shown
on an error page and never redirected (an open redirector would otherwise be born); after
that, they go back to the client as RFC 6749 error parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from officina.core import throttle
from officina.core.applications import (
    NATIVE_IDENTIFIER,
    Client,
    callback_problem,
    find_client,
)
from officina.core.auth import SESSION_COOKIE, AuthError, Principal, authenticate
from officina.core.errors import HttpError, method_not_allowed, not_found, payload_too_large
from officina.core.ids import new_secret
from officina.core.sessions import Lifetimes, create_session
from officina.core.store import Store
from officina.zeyos import oauth_pages as pages
from officina.zeyos.oauth_grants import PKCE_VALUE, issue_code
from officina.zeyos.responses import guarded

# Before sign-in, the CSRF key lives in this cookie (afterwards the session id is the key).
PRELOGIN_COOKIE = "ZEYOSCSRF"
_KEY = re.compile(r"^[0-9a-f]{40}$")
MAX_FORM = 16 * 1024
MAX_STATE = 2000


class PageError(Exception):
    """A problem shown to the user on an error page (no redirect)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AuthRequest:
    client: Client
    redirect_uri: str
    form_post: bool
    challenge: str | None
    state: str | None

    def fields(self) -> dict[str, str]:
        """The request as parameters, for the consent URL and the forms' hidden fields."""
        out = {
            "client_id": self.client.identifier,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "response_mode": "form_post" if self.form_post else "query",
        }
        if self.challenge is not None:
            out["code_challenge"] = self.challenge
            out["code_challenge_method"] = "S256"
        if self.state is not None:
            out["state"] = self.state
        return out

    @property
    def scope(self) -> tuple[str, ...]:
        return (self.client.identifier, self.redirect_uri, self.challenge or "")


class Refusal(Exception):
    """A problem reported back to the client's redirect URI."""

    def __init__(self, req: AuthRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.req = req
        self.error = error
        self.description = description


def _parse(store: Store, params: Mapping[str, str]) -> AuthRequest:
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if not client_id:
        raise PageError("Missing parameter 'client_id'.")
    with store.read() as conn:
        client = find_client(conn, client_id)
    if client is None:
        raise PageError("Unknown client application.")
    if not redirect_uri:
        raise PageError("Missing parameter 'redirect_uri'.")
    if not client.allows_redirect(redirect_uri):
        raise PageError(mismatch_advice(client, redirect_uri))
    state = params.get("state")
    mode = params.get("response_mode") or "query"
    req = AuthRequest(
        client,
        redirect_uri,
        mode == "form_post",
        params.get("code_challenge") or None,
        state[:MAX_STATE] if state else None,
    )
    _check_rest(req, params, mode)
    return req


def mismatch_advice(client: Client, redirect_uri: str) -> str:
    """What to register so that this request would work: the page a developer sees first."""
    shown = redirect_uri if len(redirect_uri) <= 300 else redirect_uri[:300] + "..."
    problem = callback_problem(redirect_uri)
    if problem is not None:
        return (
            f"The redirect_uri {shown!r} cannot be used: it {problem}. "
            "Use an HTTPS URL, or http://127.0.0.1:<port>/callback for a program on this "
            "computer."
        )
    return (
        f"The redirect_uri {shown!r} is not registered for the application "
        f"{client.name!r} (client_id {client.identifier!r}). An administrator must add exactly "
        "this URL to the application's callback URLs (a loopback URL registered without a "
        "port matches any port). Command-line and desktop clients can use the ready "
        f"application {NATIVE_IDENTIFIER!r}, which accepts http://127.0.0.1:<any port>/callback."
    )


def _check_rest(req: AuthRequest, params: Mapping[str, str], mode: str) -> None:
    response_type = params.get("response_type")
    if not response_type:
        raise Refusal(req, "invalid_request", "Missing parameter 'response_type'")
    if response_type != "code":
        raise Refusal(req, "unsupported_response_type", "Only response_type 'code' is supported")
    if mode not in ("query", "form_post"):
        raise Refusal(req, "invalid_request", "Invalid parameter 'response_mode'")
    if req.state is not None and len(params.get("state", "")) > MAX_STATE:
        raise Refusal(req, "invalid_request", "Invalid parameter 'state'")
    method = params.get("code_challenge_method")
    if req.challenge is None:
        if method:
            raise Refusal(req, "invalid_request", "Missing parameter 'code_challenge'")
        return
    if method != "S256":
        raise Refusal(req, "invalid_request", "Invalid parameter 'code_challenge_method'")
    if not PKCE_VALUE.match(req.challenge):
        raise Refusal(req, "invalid_request", "Invalid parameter 'code_challenge'")


def answer(req: AuthRequest, values: dict[str, str]) -> Response:
    """Send ``values`` (a code or an error, plus ``state``) to the client."""
    if req.state is not None:
        values = {**values, "state": req.state}
    if req.form_post:
        return pages.form_post_page(req.redirect_uri, values)
    joiner = "&" if "?" in req.redirect_uri else "?"
    return RedirectResponse(req.redirect_uri + joiner + urlencode(values), status_code=303)


def _refused(err: Refusal) -> Response:
    return answer(err.req, {"error": err.error, "error_description": err.description})


def _store(request: Request) -> Store:
    store = request.app.state.instances.lookup(request.path_params["instance"])
    if store is None:
        raise not_found()
    return store


def consent_path(request: Request) -> str:
    return f"/{request.path_params['instance']}/oauth2/v1/consent"


@guarded
async def authorize(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed(["GET", "HEAD"])
    store = _store(request)
    try:
        req = await run_in_threadpool(_parse, store, dict(request.query_params))
    except PageError as err:
        return pages.error_page(err.message, err.status)
    except Refusal as err:
        return _refused(err)
    target = consent_path(request) + "?" + urlencode(req.fields())
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


# -- the consent page -------------------------------------------------------------------


def _session_principal(store: Store, sid: str | None) -> Principal | None:
    if not sid:
        return None
    with store.read() as conn:
        try:
            principal = authenticate(conn, None, sid)
        except AuthError:
            return None
    # API-only users may not hold interactive sessions.
    return None if principal.apionly else principal


def _login_form(
    request: Request, req: AuthRequest, message: str | None = None, status: int = 200
) -> Response:
    key = request.cookies.get(PRELOGIN_COOKIE, "")
    if not _KEY.match(key):
        key = new_secret()
    fields = {**req.fields(), "csrf": pages.csrf_token(key, req.scope)}
    response = pages.login_page(
        consent_path(request), fields, req.client.name, req.redirect_uri, message, status
    )
    response.set_cookie(
        PRELOGIN_COOKIE,
        key,
        path=f"/{request.path_params['instance']}/oauth2/v1/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _consent_form(request: Request, req: AuthRequest, sid: str, who: Principal) -> Response:
    fields = {**req.fields(), "csrf": pages.csrf_token(sid, req.scope)}
    return pages.consent_page(
        consent_path(request), fields, req.client.name, req.redirect_uri, who.name
    )


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM:
        raise payload_too_large()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise PageError("Malformed form data.") from None
    return dict(pairs)


def _grant(
    store: Store, req: AuthRequest, who: Principal, new_session: bool, ip: str, life: Lifetimes
) -> tuple[str, str | None]:
    """Issue the code (and the session, after a sign-in) in one transaction."""
    with store.write() as conn:
        sid = create_session(conn, who.user_id, ip, life) if new_session else None
        code = issue_code(conn, req.client, who.user_id, req.redirect_uri, req.challenge)
    return code, sid


async def _decide(request: Request, store: Store) -> Response:
    form = await _form(request)
    req = await run_in_threadpool(_parse, store, form)
    decision = form.get("decision")
    if decision not in ("allow", "deny"):
        raise PageError("Missing decision: choose Allow or Deny.")
    signing_in = "password" in form or "login" in form
    sid = request.cookies.get(SESSION_COOKIE)
    key = request.cookies.get(PRELOGIN_COOKIE) if signing_in else sid
    if not pages.csrf_valid(key, req.scope, form.get("csrf")):
        raise PageError("This form has expired. Start again from the application.", 403)
    if decision == "deny":
        return answer(req, {"error": "access_denied", "error_description": "Denied by the user"})
    if signing_in:
        address = request.client.host if request.client else ""
        who = await run_in_threadpool(
            _check_login, store, form.get("login", ""), form.get("password", ""), address
        )
        if isinstance(who, HttpError):
            shown = _login_form(request, req, who.message, who.status)
            shown.headers.update(who.headers)
            return shown
    else:
        session_user = await run_in_threadpool(_session_principal, store, sid)
        if session_user is None or sid is None:
            return _login_form(request, req, "Please sign in.")
        who = session_user
    if not req.client.may_be_used_by(who):
        return answer(
            req,
            {"error": "access_denied", "error_description": "Application not available to user"},
        )
    ip = request.client.host if request.client else ""
    settings = request.app.state.settings
    life = Lifetimes(settings.session_idle_seconds, settings.session_max_seconds)
    code, new_sid = await run_in_threadpool(_grant, store, req, who, signing_in, ip, life)
    response = answer(req, {"code": code})
    if new_sid is not None:
        _set_session(request, response, new_sid)
    return response


def _check_login(store: Store, login: str, password: str, address: str) -> Principal | HttpError:
    """The signed-in user, or what to show on the form again (with the form's status)."""
    if not login or not password:
        return HttpError(200, "Enter your e-mail or user name and your password.")
    try:
        who = throttle.check_password(store, login, password, "session", address)
    except HttpError as err:
        if err.status != 429:
            raise
        message = "Too many failed sign-ins. Please wait a few minutes and try again."
        return HttpError(429, message, err.headers)
    if who is None:
        return HttpError(200, "Invalid credentials.")
    if who.apionly:
        return HttpError(200, "This account may only use the API; it cannot sign in here.")
    return who


def _set_session(request: Request, response: Response, sid: str) -> None:
    instance = request.path_params["instance"]
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        path=f"/{instance}/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(PRELOGIN_COOKIE, path=f"/{instance}/oauth2/v1/")


@guarded
async def consent(request: Request) -> Response:
    if request.method not in ("GET", "HEAD", "POST"):
        raise method_not_allowed(["GET", "HEAD", "POST"])
    store = _store(request)
    try:
        if request.method == "POST":
            return await _decide(request, store)
        req = await run_in_threadpool(_parse, store, dict(request.query_params))
        sid = request.cookies.get(SESSION_COOKIE)
        who = await run_in_threadpool(_session_principal, store, sid)
        if who is None or sid is None:
            return _login_form(request, req)
        return _consent_form(request, req, sid, who)
    except PageError as err:
        return pages.error_page(err.message, err.status)
    except Refusal as err:
        return _refused(err)
    except HttpError as err:
        if err.status == 404:
            raise
        return pages.error_page(err.message, err.status)
