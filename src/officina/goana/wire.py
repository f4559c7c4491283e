"""The wire forms of the jobs face: how JSON bodies map onto typed values and back.

One :class:`Shape` per object describes its PascalCase properties once; it drives input
parsing (case-insensitive names, unknown and read-only properties ignored, every error
collected under its field path) and the served OpenAPI schemas, so the two never disagree.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from officina.goana.problems import Errors

INT32 = 2**31 - 1


@dataclass(frozen=True)
class Field:
    name: str
    # str, int, bool, float, datetime, timespan, bytes, object, list, map
    kind: str
    max_len: int | None = None
    shape: Shape | None = None
    # For lists: the item kind ("str" or "object", the latter with ``shape``).
    item: str | None = None
    required: bool = False
    read_only: bool = False
    write_only: bool = False
    nullable: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Shape:
    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    by_lower: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_lower.update({f.name.lower(): f for f in self.fields})

    def get(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


@dataclass
class Reader:
    """Parses bodies into ``{PascalName: value}`` holding only the properties sent."""

    tz: ZoneInfo
    errors: Errors = field(default_factory=Errors)

    def object(self, shape: Shape, data: Any, path: str = "") -> dict[str, Any]:
        if not isinstance(data, dict):
            self.errors.add(path or "body", "must be a JSON object")
            return {}
        out: dict[str, Any] = {}
        for key, value in data.items():
            f = shape.get(str(key))
            if f is None or f.read_only:
                continue
            out[f.name] = self.value(f, value, join(path, f.name))
        return out

    def value(self, f: Field, value: Any, path: str) -> Any:
        if value is None:
            if f.kind == "list":
                return []
            return None
        kind = f.kind
        if kind == "str":
            return self.text(value, path, f.max_len)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    self.errors.add(path, "must be an integer")
                    return None
            if not -INT32 - 1 <= value <= INT32:
                self.errors.add(path, "must be a 32-bit integer")
                return None
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                self.errors.add(path, "must be true or false")
                return None
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.errors.add(path, "must be a number")
                return None
            return float(value)
        if kind == "datetime":
            text = self.text(value, path, 40)
            if text is None:
                return None
            parsed = parse_datetime(text, self.tz)
            if parsed is None:
                self.errors.add(path, "must be a date and time like 2024-03-05T11:30:00")
            return parsed
        if kind == "timespan":
            text = self.text(value, path, 40)
            if text is None:
                return None
            seconds = parse_timespan(text)
            if seconds is None:
                self.errors.add(path, "must be a time span like 00:30:00")
            return seconds
        if kind == "bytes":
            text = self.text(value, path, None)
            if text is None:
                return None
            data = parse_base64(text)
            if data is None:
                self.errors.add(path, "must be base64-encoded bytes")
            return data
        if kind == "object":
            assert f.shape is not None
            return self.object(f.shape, value, path)
        if kind == "map":
            if not isinstance(value, dict):
                self.errors.add(path, "must be an object of language codes to texts")
                return None
            out: dict[str, str | None] = {}
            for lang, text in value.items():
                sub = f"{path}.{lang}"
                out[str(lang).lower()] = None if text is None else self.text(text, sub, f.max_len)
            return out
        if kind == "list":
            if not isinstance(value, list):
                self.errors.add(path, "must be an array")
                return []
            if f.item == "object":
                assert f.shape is not None
                return [self.object(f.shape, v, f"{path}[{i}]") for i, v in enumerate(value)]
            items = []
            for i, v in enumerate(value):
                items.append(self.text(v, f"{path}[{i}]", f.max_len))
            return items
        raise AssertionError(kind)

    def text(self, value: Any, path: str, max_len: int | None) -> str | None:
        if not isinstance(value, str):
            self.errors.add(path, "must be a string")
            return None
        if "\x00" in value:
            self.errors.add(path, "must not contain NUL characters")
            return None
        if max_len is not None and len(value) > max_len:
            self.errors.add(path, f"must be at most {max_len} characters")
            return None
        return value


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")


def parse_datetime(text: str, tz: ZoneInfo) -> int | None:
    """Epoch seconds of a wire date-time; without an offset it is the instance's local time."""
    text = text.strip()
    try:
        if _DATE.match(text):
            local = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            local = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return int(local.timestamp())


def format_datetime(seconds: int | None, tz: ZoneInfo) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def parse_timespan(text: str) -> int | None:
    match = _SPAN.match(text.strip())
    if not match:
        return None
    days, hours, minutes, seconds, _fraction = match.groups()
    if int(minutes) > 59 or int(seconds) > 59 or int(hours) > 23:
        return None
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total if total <= INT32 else None


def format_timespan(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    clock = str(timedelta(seconds=rest)).rjust(8, "0")
    return f"{days}.{clock}" if days else clock


def parse_base64(text: str) -> bytes | None:
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")
