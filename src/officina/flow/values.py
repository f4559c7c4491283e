"""Wire value types of the Flow dialect, as pydantic annotated types.

Flow clients send ids as 32 upper-case hex digits, instants as unix seconds, money and hours
as JSON numbers with two decimals, dates as ``YYYY-MM-DD``. Each type here checks exactly one
of those formats and says what was wrong in words a client developer understands; decimals
become integer hundredths at the border so no float ever reaches the store.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Strict, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

UUID_PATTERN = r"^[0-9A-F]{32}$"
UUID_RE = re.compile(UUID_PATTERN)
UUID_MESSAGE = "must be 32 upper-case hexadecimal characters"
MAX_UNIX = 4102444800  # 2100-01-01
MAX_CENTS = 99999999  # DECIMAL(8,2): 999999.99
KV_MAX_PROPERTIES = 20
KV_MAX_VALUE_BYTES = 20 * 1024


def fail(message: str) -> PydanticCustomError:
    """A validation error whose text is shown to the caller as is."""
    return PydanticCustomError("flow", message)


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_RE.match(value) is not None


def _uuid(value: Any) -> Any:
    if not isinstance(value, str):
        raise fail("must be a string")
    if not UUID_RE.match(value):
        raise fail(UUID_MESSAGE)
    return value


Uuid = Annotated[
    str,
    BeforeValidator(_uuid),
    WithJsonSchema({"type": "string", "pattern": UUID_PATTERN}),
]


def _unix(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("must be an integer (unix seconds)")
    if isinstance(value, float):
        if not value.is_integer():
            raise fail("must be an integer (unix seconds)")
        value = int(value)
    if not 0 <= value <= MAX_UNIX:
        raise fail(f"must be between 0 and {MAX_UNIX}")
    return int(value)


Unix = Annotated[
    int,
    BeforeValidator(_unix),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_UNIX}),
]


def to_cents(value: Any) -> int:
    """A JSON number → integer hundredths, rounded half-up like a DECIMAL(8,2) column."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail("must be a number")
    try:
        exact = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise fail("must be a finite number") from exc
    if exact < 0:
        raise fail("must not be negative")
    cents = int(exact * 100)
    if cents > MAX_CENTS:
        raise fail("must be at most 999999.99")
    return cents


def from_cents(cents: int | None) -> int | float | None:
    """Integer hundredths → the JSON number a client expects (``8``, ``0.25``, ``125.5``)."""
    if cents is None:
        return None
    if cents % 100 == 0:
        return cents // 100
    return float(Decimal(cents) / 100)


Cents = Annotated[
    int,
    BeforeValidator(to_cents),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 999999.99}),
]


def parse_date(value: str) -> dt.date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("must be a date string YYYY-MM-DD")
    if parse_date(value) is None:
        raise fail("must be a real calendar date YYYY-MM-DD")
    return value


DateStr = Annotated[
    str,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise fail("must not be blank")
    return value


Text191 = Annotated[str, Strict(), StringConstraints(max_length=191)]
Text5000 = Annotated[str, Strict(), StringConstraints(max_length=5000)]
Name = Annotated[str, Strict(), StringConstraints(max_length=191), AfterValidator(_not_blank)]


def _color(value: str) -> str:
    if not re.fullmatch(r"[0-9A-Fa-f]{0,6}", value):
        raise fail("must be up to 6 hexadecimal characters (no '#')")
    return value


Color = Annotated[
    str,
    Strict(),
    AfterValidator(_color),
    WithJsonSchema({"type": "string", "maxLength": 6, "pattern": "^[0-9A-Fa-f]{0,6}$"}),
]


def dedupe(values: list[str]) -> list[str]:
    """Duplicates removed, first occurrence kept, order kept."""
    return list(dict.fromkeys(values))


UuidList = Annotated[list[Uuid], AfterValidator(dedupe)]


def json_size(value: Any) -> int:
    """Bytes of the compact UTF-8 JSON form: what the 20 KiB value limits measure."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail("must be an object")
    if len(value) > KV_MAX_PROPERTIES:
        raise fail(f"at most {KV_MAX_PROPERTIES} properties")
    for key, item in value.items():
        if not key or len(key) > 191:
            raise fail("keys must have 1 to 191 characters")
        if json_size(item) > KV_MAX_VALUE_BYTES:
            raise fail(f"the value of {key!r} exceeds {KV_MAX_VALUE_BYTES} bytes")
    return value


JsonObject = Annotated[
    dict[str, Any],
    BeforeValidator(_json_object),
    WithJsonSchema({"type": "object", "maxProperties": KV_MAX_PROPERTIES}),
]


def merge_top_level(stored: dict[str, Any] | None, patch: dict[str, Any]) -> dict[str, Any]:
    """The keyValueStore/timeControl patch rule: replace given keys, ``null`` removes one."""
    merged = dict(stored or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check_time_control(value: dict[str, Any]) -> str | None:
    """officina's own ``from``/``to`` convention inside timeControl: dates, in order."""
    bounds = {}
    for key in ("from", "to"):
        if key in value:
            raw = value[key]
            parsed = parse_date(raw) if isinstance(raw, str) else None
            if parsed is None:
                return f"{key}: must be a date YYYY-MM-DD"
            bounds[key] = parsed
    if "from" in bounds and "to" in bounds and bounds["from"] > bounds["to"]:
        return "to: must not be before from"
    return None
