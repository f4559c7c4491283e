"""The sample company: a heating and plumbing firm with customers, a renovation project with
logged hours and a billing, and service jobs planned in German and English.

Each part is a function of the client; ``PARTS`` lists them in the order they run, so a new
part is one more entry.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Any

from officina.demo.client import FaceClient

FLOW = "/flow/api/v1"
JOBS = "/goana/api/v1"

CUSTOMERS = [
    ("Bäckerei Sonnenschein", "Lena", "Sonnenschein", "Zürich", "8001"),
    ("Hotel Alpenblick", "Marco", "Bernasconi", "Luzern", "6003"),
    ("Schule am See", "Petra", "Huber", "Zug", "6300"),
    ("Café Central", "Jonas", "Keller", "Bern", "3011"),
]


def _at(day: str, hhmm: str) -> int:
    return calendar.timegm(dt.datetime.fromisoformat(f"{day}T{hhmm}:00").timetuple())


def records(c: FaceClient, state: dict[str, Any]) -> None:
    """Customers and their contact people in the records face."""
    for company, first, last, city, zip_code in CUSTOMERS:
        person = c.call(
            "PUT",
            "/api/v1/contacts",
            {"firstname": first, "lastname": last, "city": city, "postalcode": zip_code},
        )
        account = c.call(
            "PUT",
            "/api/v1/accounts",
            {"lastname": company, "currency": "CHF", "contact": person["ID"]},
        )
        state.setdefault("accounts", []).append(account["ID"])


def project(c: FaceClient, state: dict[str, Any]) -> None:
    """A renovation project with groups, work packages and time records."""
    senior = c.call("POST", f"{FLOW}/priceCategories", {"name": "Meister", "hourlyRate": 110})["id"]
    junior = c.call("POST", f"{FLOW}/priceCategories", {"name": "Geselle", "hourlyRate": 80})["id"]
    customer = c.call("POST", f"{FLOW}/customers", {"name": "Hotel Alpenblick"})["id"]
    proj = c.call(
        "POST", f"{FLOW}/projects", {"name": "Heizungssanierung 2026", "flowCustomer": customer}
    )["id"]
    plan = c.call("POST", f"{FLOW}/groups", {"name": "Planung", "parentNodeId": proj})["id"]
    build = c.call("POST", f"{FLOW}/groups", {"name": "Montage", "parentNodeId": proj})["id"]
    packages = [
        c.call(
            "POST",
            f"{FLOW}/workPackages",
            {"name": "Bestandsaufnahme", "parentNodeId": plan, "priceCategory": senior},
        )["id"],
        c.call(
            "POST",
            f"{FLOW}/workPackages",
            {"name": "Kessel tauschen", "parentNodeId": build, "priceCategory": junior},
        )["id"],
        c.call(
            "POST",
            f"{FLOW}/workPackages",
            {
                "name": "Inbetriebnahme",
                "parentNodeId": build,
                "billingType": "fixedPrice",
                "fixedPrice": 450,
            },
        )["id"],
    ]
    users = c.call("GET", f"{FLOW}/users")
    me = users[0]["id"]
    for day in range(2, 20, 3):
        for n, wp in enumerate(packages):
            c.call(
                "POST",
                f"{FLOW}/timeTrackingRecords",
                {
                    "user": me,
                    "referenceNode": wp,
                    "workTimeStart": _at(f"2026-03-{day:02d}", f"{8 + n * 2:02d}:00"),
                    "workTimeEnd": _at(f"2026-03-{day:02d}", f"{9 + n * 2:02d}:30"),
                },
            )
    c.call(
        "POST",
        f"{FLOW}/billings",
        {
            "projectId": proj,
            "workPackageIds": packages,
            "interval": "month",
            "intervalFrom": "2026-03-01",
            "intervalTo": "2026-03-31",
            "internalComment": "März",
        },
    )


def jobs(c: FaceClient, state: dict[str, Any]) -> None:
    """Service jobs: a template written in German, its English title, jobs in every status."""
    c.call("POST", f"{JOBS}/teams", {"Name": "Service Zürich"})
    c.call(
        "POST",
        f"{JOBS}/users",
        {
            "Email": "techniker@example.com",
            "DisplayName": "Nico Techniker",
            "LanguageCode": "de",
            "Teams": ["Service Zürich"],
            "WorkAssignable": True,
        },
    )
    template = c.call(
        "POST",
        f"{JOBS}/jobtemplates",
        {
            "Title": "Heizungswartung",
            "TitleTranslations": {"fr": "Entretien du chauffage"},
            "ColorCode": "#D9480F",
            "Parameters": [
                {"Name": "SITE", "Type": "Location", "Title": "Einsatzort"},
                {"Name": "CUSTOMER", "Type": "Contact", "Title": "Kunde"},
                {
                    "Name": "DEVICE",
                    "Type": "Dropdown",
                    "Title": "Gerät",
                    "UseAsJobTitle": True,
                    "DataCollectionValues": [
                        {"Key": "GAS", "Label": "Gastherme"},
                        {"Key": "OIL", "Label": "Ölkessel"},
                        {"Key": "HP", "Label": "Wärmepumpe"},
                    ],
                },
                {"Name": "NOTE", "Type": "Text", "Title": "Bemerkung", "MaxOcc": 3},
            ],
        },
        language="de",
    )
    c.call(
        "PUT",
        f"{JOBS}/jobtemplates/{template['Id']}",
        {"Title": "Heating maintenance"},
        language="en",
    )
    devices = ["GAS", "OIL", "HP", "GAS"]
    statuses = ["Open", "In Progress", "Done", "Open"]
    for n, (company, first, last, city, zip_code) in enumerate(CUSTOMERS):
        key = f"2026/{n + 1:04d}"
        site = {
            "Street": "Seestrasse",
            "StreetNumber": str(10 + n),
            "Zip": zip_code,
            "City": city,
            "CountryIsoCode": "CH",
        }
        c.call(
            "POST",
            f"{JOBS}/jobs",
            {
                "Key": key,
                "JobTemplateTitle": "Heating maintenance",
                "PlannedTime": f"2026-04-{n + 6:02d}T08:00:00",
                "Duration": "02:00:00",
                "UserEmail": "techniker@example.com" if n % 2 == 0 else "",
                "Team": "Service Zürich",
                "Parameters": [
                    {"Name": "SITE", "Location": site},
                    {
                        "Name": "CUSTOMER",
                        "Contact": {
                            "Reference": f"K-{n + 1:03d}",
                            "CompanyName": company,
                            "FirstName": first,
                            "Name": last,
                            "Location": site,
                            "ContactDetails": [
                                {"Type": "Phone", "Value": f"+41 44 000 00 {n:02d}"}
                            ],
                        },
                    },
                    {"Name": "DEVICE", "Key": devices[n]},
                    {"Name": "NOTE", "Value": "Jährliche Wartung"},
                ],
            },
            language="de",
        )
        if statuses[n] != "Open":
            c.call("POST", f"{JOBS}/jobs/{key.replace('/', '%2F')}/status", {"Status": statuses[n]})


PARTS: list[tuple[str, Callable[[FaceClient, dict[str, Any]], None]]] = [
    ("customers and contacts", records),
    ("project, hours and billing", project),
    ("service jobs", jobs),
]


def fill(c: FaceClient, advance: Callable[[str], None]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for label, part in PARTS:
        part(c, state)
        advance(label)
    return state
