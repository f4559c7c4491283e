"""Identifiers: 32-hex uuids for shared rows, 40-hex bearer secrets, API keys."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def new_uuid() -> str:
    """Upper-case 32-hex id, the projects face's id format."""
    return uuid.uuid4().hex.upper()


def new_secret() -> str:
    """160 random bits as 40 lower-case hex: login tokens, OAuth tokens, session ids."""
    return secrets.token_hex(20)


def new_api_key() -> str:
    """An API key in the dashed form the jobs dialect's documentation shows."""
    return str(uuid.uuid4())


def digest(secret: str) -> bytes:
    """What the store keeps of a secret: its SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode("utf-8")).digest()
