"""Applications: the OAuth clients and "application contexts" every face can rely on.

An application is identified by ``identifier`` (the OAuth ``client_id``) and proves itself
with a secret of 160 bits. The secret is shown once, when the application is created; the
store keeps only the lower-case hex SHA-256 of it (``digest(secret).hex()``), the same form the
legacy login's ``appsecret`` check compares, so one secret serves both APIs.

Redirect URIs (``callbackurls``) must be HTTPS, except on the loopback host where native and
command-line clients listen for the callback. Such a client picks a free port when it starts,
so a registered loopback URI without a port matches the same URI on any port (RFC 8252 §7.3).

Every instance holds one ready application for those clients, :data:`NATIVE_IDENTIFIER`: a
public client (no secret to keep, since a program on a user's machine cannot keep one) whose
redirect URIs are the loopback callbacks, so a command-line client can sign in to a fresh
instance without anyone registering an application first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from officina.core.auth import Principal, constant_time_equal
from officina.core.clock import now
from officina.core.ids import digest, new_secret
from officina.core.schema import applications

IDENTIFIER = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")
MAX_IDENTIFIER = 200
MAX_URL = 2000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NATIVE_IDENTIFIER = "officina-cli"
NATIVE_NAME = "Command-line and desktop clients"
NATIVE_CALLBACKS = (
    "http://127.0.0.1/callback",
    "http://localhost/callback",
    "http://[::1]/callback",
    "http://127.0.0.1/",
    "http://localhost/",
    "http://[::1]/",
)


class ApplicationError(ValueError):
    """Bad input when registering an application; the message names the value."""


@dataclass(frozen=True)
class NewApplication:
    id: int
    name: str
    identifier: str
    # Shown once; only its hash is stored.
    secret: str
    callbacks: tuple[str, ...]


@dataclass(frozen=True)
class Client:
    """An active application as the OAuth endpoints see it."""

    id: int
    identifier: str
    name: str
    restricted: bool
    callbacks: tuple[str, ...]
    secret_hash: str | None

    def may_be_used_by(self, principal: Principal) -> bool:
        """Restricted applications serve only users holding a grant for them (admins hold all)."""
        return not self.restricted or principal.is_admin or self.id in principal.app_perms

    @property
    def public(self) -> bool:
        """A client without a secret: it names itself and proves nothing (native apps)."""
        return not self.secret_hash

    def allows_redirect(self, uri: str) -> bool:
        """One of the registered URLs (a port-less loopback one on any port), and one that
        may carry a code at all."""
        if callback_problem(uri) is not None:
            return False
        return uri in self.callbacks or without_loopback_port(uri) in self.callbacks


def without_loopback_port(uri: str) -> str | None:
    """``uri`` with its port removed when it is a plain-HTTP loopback URI, else None."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS or port is None:
        return None
    host = parts.netloc.rsplit(":", 1)[0]
    return parts._replace(netloc=host).geturl()


def callback_problem(url: str) -> str | None:
    """Why ``url`` cannot be a redirect URI, or None when it can."""
    if not url or len(url) > MAX_URL or any(c.isspace() for c in url):
        return "must be an absolute URL without spaces"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "must be an absolute URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute http(s) URL"
    if parts.fragment or url.endswith("#"):
        return "must not have a fragment"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must use HTTPS (plain HTTP only on 127.0.0.1 or localhost)"
    return None


def _callbacks(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def create_application(
    conn: Connection,
    *,
    name: str,
    identifier: str,
    callbacks: list[str],
    restricted: bool = False,
    creator: int | None = None,
) -> NewApplication:
    """Register an active application and return its secret (the only time it is visible)."""
    name = name.strip()
    if not name or "\n" in name or len(name) > 200:
        raise ApplicationError(f"invalid application name {name!r}")
    identifier = identifier.strip()
    if len(identifier) > MAX_IDENTIFIER or not IDENTIFIER.match(identifier):
        raise ApplicationError(
            f"invalid identifier {identifier!r}: letters, digits, '_', '.' and '-', "
            "starting and ending with a letter or digit"
        )
    urls: list[str] = []
    for url in callbacks:
        problem = callback_problem(url.strip())
        if problem is not None:
            raise ApplicationError(f"invalid callback URL {url!r}: {problem}")
        if url.strip() not in urls:
            urls.append(url.strip())
    taken = conn.execute(
        select(applications.c.ID).where(applications.c.identifier == identifier)
    ).first()
    if taken:
        raise ApplicationError(f"an application with identifier {identifier!r} already exists")
    secret = new_secret()
    ts = now()
    app_id = conn.execute(
        insert(applications)
        .values(
            creator=creator,
            creationdate=ts,
            lastmodified=ts,
            name=name,
            identifier=identifier,
            restricted=int(restricted),
            callbackurls=urls,
            secret=digest(secret).hex(),
        )
        .returning(applications.c.ID)
    ).scalar_one()
    return NewApplication(int(app_id), name, identifier, secret, tuple(urls))


def _client(row: Any) -> Client:
    return Client(
        id=int(row.ID),
        identifier=row.identifier,
        name=row.name,
        restricted=bool(row.restricted),
        callbacks=_callbacks(row.callbackurls),
        secret_hash=row.secret,
    )


def find_client(conn: Connection, client_id: str) -> Client | None:
    """The active application with this identifier; inactive ones are unknown clients."""
    if not client_id or len(client_id) > MAX_IDENTIFIER:
        return None
    row = conn.execute(
        select(applications).where(
            applications.c.identifier == client_id, applications.c.activity == 0
        )
    ).first()
    return None if row is None else _client(row)


def client_by_id(conn: Connection, app_id: int) -> Client | None:
    row = conn.execute(
        select(applications).where(applications.c.ID == app_id, applications.c.activity == 0)
    ).first()
    return None if row is None else _client(row)


def verify_client(conn: Connection, client_id: str, secret: str) -> Client | None:
    """The active application when ``secret`` is its secret; None otherwise."""
    client = find_client(conn, client_id)
    # Hash even when the client is unknown, so both failures cost the same.
    offered = digest(secret).hex()
    if client is None:
        return None
    if client.public:
        # Whatever a public client sends as its "secret" is published with it anyway.
        return client
    return client if constant_time_equal(offered, client.secret_hash or "") else None


def ensure_native_application(conn: Connection) -> None:
    """Create the ready application for command-line and desktop clients unless the
    instance has one (or an application of its own under that identifier)."""
    taken = conn.execute(
        select(applications.c.ID).where(applications.c.identifier == NATIVE_IDENTIFIER)
    ).first()
    if taken is not None:
        return
    ts = now()
    conn.execute(
        insert(applications).values(
            creationdate=ts,
            lastmodified=ts,
            name=NATIVE_NAME,
            identifier=NATIVE_IDENTIFIER,
            vendor="officina",
            restricted=0,
            callbackurls=list(NATIVE_CALLBACKS),
            secret=None,
        )
    )
