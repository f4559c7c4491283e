"""The sample company: a heating and plumbing firm with customers, a renovation project with
logged hours and a billing, and service jobs planned in German and English.

Each part is a function of the client; ``PARTS`` lists them in the order they run, so a new
part is one more entry. The first copy in an instance uses the plain names; a further copy
(``officina demo --again``) marks its names, keys and e-mails with its number, because jobs,
templates, teams and users must be unique.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from officina.demo.client import FaceClient

FLOW = "/flow/api/v1"
JOBS = "/goana/api/v1"
TEAM = "Service Zürich"
PROJECT = "Heizungssanierung 2026"
PROJECT_CUSTOMER = "Hotel Alpenblick"

CUSTOMERS = [
    ("Bäckerei Sonnenschein", "Lena", "Sonnenschein", "Zürich", "8001"),
    ("Hotel Alpenblick", "Marco", "Bernasconi", "Luzern", "6003"),
    ("Schule am See", "Petra", "Huber", "Zug", "6300"),
    ("Café Central", "Jonas", "Keller", "Bern", "3011"),
]


def copies(c: FaceClient) -> int:
    """How many sample companies the instance holds, told by their service teams."""
    mark = re.compile(rf"^{re.escape(TEAM)}(?: \((\d+)\))?$")
    found = [mark.match(str(t.get("Name", ""))) for t in c.call("GET", f"{JOBS}/teams")]
    return max((int(m.group(1) or 1) for m in found if m), default=0)


def _label(state: dict[str, Any]) -> str:
    """Appended to the names of a further copy: " (2)"."""
    return "" if state["copy"] == 1 else f" ({state['copy']})"


def _tag(state: dict[str, Any]) -> str:
    """Appended to keys and e-mail names of a further copy: "-2"."""
    return "" if state["copy"] == 1 else f"-{state['copy']}"


def flow_customer_id(account_id: int) -> str:
    """The projects face's id of a records account it has not written to yet: sixteen zeros
    and the ID in sixteen hex digits (the documented rule of the projects face)."""
    return f"{'0' * 16}{account_id:016X}"


def _at(day: str, hhmm: str) -> int:
    return calendar.timegm(dt.datetime.fromisoformat(f"{day}T{hhmm}:00").timetuple())


def records(c: FaceClient, state: dict[str, Any]) -> None:
    """Customers (accounts of type 1, customer) and their contact people in the records face."""
    for company, first, last, city, zip_code in CUSTOMERS:
        person = c.call(
            "PUT",
            "/api/v1/contacts",
            {"firstname": first, "lastname": last, "city": city, "postalcode": zip_code},
        )
        account = c.call(
            "PUT",
            "/api/v1/accounts",
            {
                "lastname": company + _label(state),
                "type": 1,
                "currency": "CHF",
                "contact": person["ID"],
            },
        )
        state.setdefault("accounts", {})[company] = account["ID"]


def project(c: FaceClient, state: dict[str, Any]) -> None:
    """A renovation project for one of the records face's customers (the same account: a
    projects-face customer is a records account), with groups, work packages and hours."""
    label = _label(state)
    senior = c.call(
        "POST", f"{FLOW}/priceCategories", {"name": "Meister" + label, "hourlyRate": 110}
    )["id"]
    junior = c.call(
        "POST", f"{FLOW}/priceCategories", {"name": "Geselle" + label, "hourlyRate": 80}
    )["id"]
    customer = flow_customer_id(state["accounts"][PROJECT_CUSTOMER])
    proj = c.call("POST", f"{FLOW}/projects", {"name": PROJECT + label, "flowCustomer": customer})[
        "id"
    ]
    state["project"] = proj
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
    state["work_packages"] = len(packages)
    users = c.call("GET", f"{FLOW}/users")
    me = users[0]["id"]
    state["time_records"] = 0
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
            state["time_records"] += 1
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
    label, tag = _label(state), _tag(state)
    team = TEAM + label
    technician = f"techniker{tag}@example.com"
    c.call("POST", f"{JOBS}/teams", {"Name": team})
    c.call(
        "POST",
        f"{JOBS}/users",
        {
            "Email": technician,
            "DisplayName": "Nico Techniker" + label,
            "LanguageCode": "de",
            "Teams": [team],
            "WorkAssignable": True,
        },
    )
    template = c.call(
        "POST",
        f"{JOBS}/jobtemplates",
        {
            "Title": "Heizungswartung" + label,
            "TitleTranslations": {"fr": "Entretien du chauffage" + label},
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
        {"Title": "Heating maintenance" + label},
        language="en",
    )
    state["template"] = "Heating maintenance" + label
    devices = ["GAS", "OIL", "HP", "GAS"]
    statuses = ["Open", "In Progress", "Done", "Open"]
    for n, (company, first, last, city, zip_code) in enumerate(CUSTOMERS):
        key = f"2026{tag}/{n + 1:04d}"
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
                "JobTemplateTitle": state["template"],
                "PlannedTime": f"2026-04-{n + 6:02d}T08:00:00",
                "Duration": "02:00:00",
                "UserEmail": technician if n % 2 == 0 else "",
                "Team": team,
                "Parameters": [
                    {"Name": "SITE", "Location": site},
                    {
                        "Name": "CUSTOMER",
                        "Contact": {
                            "Reference": f"K{tag}-{n + 1:03d}",
                            "CompanyName": company + label,
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
        state.setdefault("jobs", []).append(key)
        if statuses[n] != "Open":
            c.call("POST", f"{JOBS}/jobs/{key.replace('/', '%2F')}/status", {"Status": statuses[n]})


PARTS: list[tuple[str, Callable[[FaceClient, dict[str, Any]], None]]] = [
    ("customers and contacts", records),
    ("project, hours and billing", project),
    ("service jobs", jobs),
]


def fill(c: FaceClient, advance: Callable[[str], None], copy: int = 1) -> dict[str, Any]:
    """Write one copy of the sample company; returns what it made (IDs, keys and counts)."""
    state: dict[str, Any] = {"copy": copy}
    for label, part in PARTS:
        part(c, state)
        advance(label)
    return state
