"""Small helpers for records-face tests: create rows through the API, read errors."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

API = "/main/api/v1"


def create(client: TestClient, entity: str, /, **fields: Any) -> dict[str, Any]:
    response = client.put(f"{API}/{entity}", json=fields)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def account(client: TestClient, **fields: Any) -> dict[str, Any]:
    fields.setdefault("currency", "EUR")
    fields.setdefault("lastname", "Account")
    return create(client, "accounts", **fields)


def contact(client: TestClient, **fields: Any) -> dict[str, Any]:
    fields.setdefault("lastname", "Contact")
    return create(client, "contacts", **fields)


def listing(client: TestClient, entity: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"{API}/{entity}", json=body or {})
    assert response.status_code == 200, response.text
    return response.json()


def error(response: Any, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    return str(response.text)
