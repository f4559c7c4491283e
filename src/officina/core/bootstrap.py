"""First start: an instance with settings, an administrator, an API key and the ready
application for command-line and desktop clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from officina.core import people
from officina.core.applications import ensure_native_application
from officina.core.store import Instances


@dataclass(frozen=True)
class FirstCredentials:
    instance: str
    email: str
    password: str
    api_key: str
    user_id: int


def new_password() -> str:
    """A random password people can type: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def create_instance(
    instances: Instances,
    name: str,
    admin_email: str = "admin@example.com",
    admin_password: str | None = None,
    admin_name: str = "admin",
    database_url: str | None = None,
) -> FirstCredentials:
    """Create ``name`` with default settings and one administrator holding an API key.

    ``database_url`` places the instance in a PostgreSQL database of its own.
    """
    store = instances.create(name, database_url)
    password = admin_password or new_password()
    with store.write() as conn:
        people.init_settings(conn)
        user = people.create_user(
            conn, email=admin_email, password=password, name=admin_name, admin=True
        )
        key = people.create_api_key(conn, user.id, "created at first start")
        ensure_native_application(conn)
    return FirstCredentials(name, admin_email, password, key, user.id)
