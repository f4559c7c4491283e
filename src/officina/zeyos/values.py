"""Values crossing the records face: coercion of what callers send, encoding of what we show.

Callers send JSON or form data (where everything is a string), so every value is coerced by
the declared kind of its column. Output mirrors what ZeyOS shows: 0/1 flags as numbers, JSON
and array columns as text unless expanded, the binfile hash in PostgreSQL hex form.
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any

import orjson

from officina.core.errors import HttpError, bad_request, short
from officina.zeyos.registry import CANONICAL_ENTITY_NAMES
from officina.zeyos.registry.model import INTEGER_KINDS, TEXT_KINDS, Field, Kind

# Entity names a polymorphic reference may carry ("follows" may also point at records).
POLYMORPHIC_TARGETS = frozenset(CANONICAL_ENTITY_NAMES) | {"records"}

_INT_BOUNDS = {
    Kind.SMALLINT: (-(2**15), 2**15 - 1),
    Kind.INT: (-(2**31), 2**31 - 1),
    Kind.BINFILE: (-(2**31), 2**31 - 1),
    Kind.BIGINT: (-(2**63), 2**63 - 1),
}
_INTEGRAL = re.compile(r"^[+-]?\d+$")
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_LINE_BREAK = re.compile(r"[\r\n]")

# Structured shape each JSON column must have (see the records-face guide); others: any.
ARRAY_JSON = {"items", "contractitems", "billingitems", "procurementitems"}
OBJECT_JSON = {"meta", "foreigntaxrates", "autobilling", "ticketing", "folders", "langaliases"}
NON_EMPTY_OBJECT = {"autobilling", "ticketing"}


def invalid_value(name: str, rule: str | None = None) -> HttpError:
    """A 400 naming the field and, for a cross-field rule, the rule itself, so the caller
    learns what to change rather than only where."""
    detail = f"Invalid value for field '{short(name)}'"
    return bad_request(f"{detail}: {rule}" if rule else detail, field=name)


def as_int(value: Any) -> int | None:
    """An integer from ints, integral floats, booleans and integer strings; else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGRAL.match(text):
            return int(text)
        if text.lower() in ("true", "false"):
            return 1 if text.lower() == "true" else 0
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        f = float(value.strip())
        return f if math.isfinite(f) else None
    return None


def as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value) if not value.is_integer() else str(int(value))
    return None


def _decode_json_text(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return _MISSING
    return value


_MISSING = object()


def coerce_write(f: Field, value: Any) -> Any:
    """The stored value for ``value`` written to column ``f``, or a 400 naming the field."""
    if value is None or (value == "" and f.nullable and f.kind not in TEXT_KINDS):
        if f.nullable:
            return None
        raise invalid_value(f.name)
    kind = f.kind
    if kind in INTEGER_KINDS:
        number = as_int(value)
        low, high = _INT_BOUNDS[kind]
        if number is None or not low <= number <= high:
            raise invalid_value(f.name)
        _check_range(f, number)
        return number
    if kind == Kind.FLOAT:
        real = as_float(value)
        if real is None:
            raise invalid_value(f.name)
        _check_range(f, real)
        return real
    if kind in TEXT_KINDS:
        return _coerce_text(f, value)
    if kind == Kind.JSON:
        return _coerce_json(f, value)
    if kind in (Kind.TEXT_ARRAY, Kind.BIGINT_ARRAY):
        return _coerce_array(f, value)
    raise invalid_value(f.name)


def _check_range(f: Field, number: float) -> None:
    if f.choices is not None and number not in f.choices:
        raise invalid_value(f.name)
    if f.minimum is not None and number < f.minimum:
        raise invalid_value(f.name)
    if f.maximum is not None and number > f.maximum:
        raise invalid_value(f.name)


# Single-line text with an index of its own (names, numbers, identifiers) holds at most this
# many bytes of UTF-8: PostgreSQL refuses a btree entry over about 2 700 bytes that it cannot
# compress, so both stores take the same values and a backup moves between them.
INDEXED_TEXT_BYTES = 2000


def fits_index(text: str) -> bool:
    """Whether ``text`` is short enough for an index entry on both stores."""
    return len(text) <= INDEXED_TEXT_BYTES // 4 or len(text.encode("utf-8")) <= INDEXED_TEXT_BYTES


def _coerce_text(f: Field, value: Any) -> str:
    text = as_text(value)
    if text is None:
        raise invalid_value(f.name)
    # Surrounding blanks are trimmed rather than refused: kinder, and it round-trips.
    text = text.strip()
    if not f.multiline and _LINE_BREAK.search(text):
        raise invalid_value(f.name)
    if "\x00" in text:
        raise invalid_value(f.name, "NUL characters are not allowed")
    if f.max_length is not None and len(text) > f.max_length:
        raise invalid_value(f.name, f"at most {f.max_length} characters")
    if f.indexed and not f.multiline and not fits_index(text):
        raise invalid_value(f.name, f"at most {INDEXED_TEXT_BYTES} bytes of UTF-8")
    if f.pattern is not None and not re.fullmatch(f.pattern, text):
        raise invalid_value(f.name)
    if f.choices is not None and text not in f.choices:
        raise invalid_value(f.name)
    if f.kind == Kind.ENTITY and text not in POLYMORPHIC_TARGETS:
        raise invalid_value(f.name)
    return text


def _coerce_json(f: Field, value: Any) -> Any:
    doc = _decode_json_text(value)
    if doc is _MISSING:
        raise invalid_value(f.name)
    if f.name in ARRAY_JSON and not isinstance(doc, list):
        raise invalid_value(f.name)
    if f.name in OBJECT_JSON and not isinstance(doc, dict):
        raise invalid_value(f.name)
    if f.name in NON_EMPTY_OBJECT and doc == {}:
        raise invalid_value(f.name)
    if f.name in ("options", "data") and not isinstance(doc, list | dict):
        raise invalid_value(f.name)
    return doc


def _coerce_array(f: Field, value: Any) -> list[Any]:
    doc = value
    if isinstance(value, str):
        stripped = value.strip()
        doc = parse_pg_array(stripped) if stripped.startswith("{") else _decode_json_text(value)
    if not isinstance(doc, list):
        raise invalid_value(f.name)
    if f.kind == Kind.BIGINT_ARRAY:
        out: list[Any] = []
        for item in doc:
            number = as_int(item) if item is not None else None
            if item is not None and number is None:
                raise invalid_value(f.name)
            out.append(number)
        return out
    if not all(isinstance(item, str) or item is None for item in doc):
        raise invalid_value(f.name)
    return list(doc)


# -- PostgreSQL array literals ---------------------------------------------------------------

_NEEDS_QUOTES = re.compile(r'[{},"\\\s]')


def _array_item(item: Any) -> str:
    if item is None:
        return "NULL"
    text = str(item)
    if text == "" or text.upper() == "NULL" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def pg_array_literal(items: list[Any]) -> str:
    """``{a.pdf,"b c.pdf"}``: how PostgreSQL prints a one-dimensional array."""
    return "{" + ",".join(_array_item(i) for i in items) + "}"


def parse_pg_array(literal: str) -> list[Any] | object:
    """Read a one-dimensional array literal back; ``_MISSING`` when it is malformed."""
    if not (literal.startswith("{") and literal.endswith("}")):
        return _MISSING
    body = literal[1:-1]
    items: list[Any] = []
    if body == "":
        return items
    i, n = 0, len(body)
    while i <= n:
        if i < n and body[i] == '"':
            i += 1
            buf = []
            while i < n and body[i] != '"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(body[i])
                i += 1
            if i >= n:
                return _MISSING
            items.append("".join(buf))
            i += 1
        else:
            j = body.find(",", i)
            j = n if j == -1 else j
            token = body[i:j].strip()
            items.append(None if token.upper() == "NULL" else token)
            i = j
        if i < n and body[i] != ",":
            return _MISSING
        i += 1
    return items


# -- output ----------------------------------------------------------------------------------


def _loads_if_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def encode_out(kind: Kind, value: Any, expanded: bool = False) -> Any:
    """The JSON value shown for a stored value of ``kind``.

    Expanded binfile columns are filled in later (their content needs its own query).
    """
    if value is None:
        return None
    if kind == Kind.JSON:
        doc = _loads_if_text(value)
        return doc if expanded else orjson.dumps(doc).decode("utf-8")
    if kind in (Kind.TEXT_ARRAY, Kind.BIGINT_ARRAY):
        items = _loads_if_text(value)
        if not isinstance(items, list):
            return items
        return items if expanded else pg_array_literal(items)
    if kind == Kind.HASH:
        raw = bytes(value)
        return "\\x" + raw.hex()
    if kind == Kind.FLOAT:
        return float(value)
    if isinstance(value, memoryview | bytes):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value
