"""Bodies and set-ups shared by the jobs face tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.goana.helpers import BASE

PIZZA_PARAMS: list[dict[str, Any]] = [
    {"Name": "ADDRESS", "Type": "Location", "Title": "Lieferadresse"},
    {
        "Name": "PIZZA",
        "Type": "Dropdown",
        "Title": "Pizza",
        "UseAsJobTitle": True,
        "DataCollectionValues": [
            {"Key": "M", "Label": "Margherita", "Value": "9.50"},
            {"Key": "F", "Label": "Funghi"},
        ],
    },
    {"Name": "CUSTOMER", "Type": "Contact", "Title": "Kunde"},
    {"Name": "NOTE", "Type": "Text", "Title": "Notiz", "MaxOcc": 3, "DefaultValue": "none"},
    {"Name": "PHOTO", "Type": "Image", "Title": "Foto"},
]


def pizza_template(c: TestClient, title: str = "Pizza Lieferung", **headers: str) -> int:
    r = c.post(
        f"{BASE}/jobtemplates", json={"Title": title, "Parameters": PIZZA_PARAMS}, headers=headers
    )
    assert r.status_code == 201, r.text
    return int(r.json()["Id"])


def address(**extra: Any) -> dict[str, Any]:
    return {
        "Street": "Bahnhofstrasse",
        "Zip": "8001",
        "City": "Zürich",
        "CountryIsoCode": "CH",
        **extra,
    }
