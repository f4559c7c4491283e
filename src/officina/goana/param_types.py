"""Parameter types of job templates and the wire rules of their values.

The vendor's own list of types was not published with the articles the face is built from,
so this table holds the types they name (Contact, Location, Dropdown, Multiselect, Image) and
the obvious plain ones; adding a type is adding a row here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ParamType:
    name: str
    # May the value be the job's display title?
    titled: bool
    # Does the value carry option keys (``Key``) from DataCollectionValues?
    options: bool = False
    binary: bool = False


TYPES = {
    t.name.lower(): t
    for t in (
        ParamType("Text", titled=True),
        ParamType("Number", titled=True),
        ParamType("Date", titled=True),
        ParamType("Dropdown", titled=True, options=True),
        ParamType("Multiselect", titled=False, options=True),
        ParamType("Contact", titled=False),
        ParamType("Location", titled=False),
        ParamType("Image", titled=False, binary=True),
        ParamType("Signature", titled=False, binary=True),
    )
}

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$")


def lookup(name: str) -> ParamType | None:
    return TYPES.get(name.strip().lower())
