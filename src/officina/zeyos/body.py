"""Request bodies of the ZeyOS face, turned into plain Python values.

ZeyOS clients send the same parameters in several encodings (spec §2.2): the official
JavaScript client posts JSON, the vendor's curl examples post PHP-style bracket forms
(``fields[]=ID&filter[status]=1``), and the client's form mode repeats plain keys and embeds
objects as JSON text. Every operation handler wants one shape regardless of how the caller
spelled it, so this module normalises all of them into dicts, lists and strings before the
query language or the record writers look at them.

Everything here is a pure function without a web framework, so the grammar can be tested on
its own and reused for the URL query string of list requests. Bodies come from untrusted
callers: size and nesting are bounded before any recursive work happens, and every failure is
an :class:`~officina.core.errors.HttpError` with the exact ZeyOS message text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

from officina.core import json_errors
from officina.core.errors import bad_request, payload_too_large

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "MALFORMED_FORM",
    "MALFORMED_JSON",
    "decode_json_text",
    "merge_query_params",
    "parse_body",
    "to_flag",
    "to_int",
    "to_list",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Spec §2.2: bodies may be 64 MiB because binfile uploads travel as base64 inside JSON."""

DEFAULT_MAX_DEPTH = 32
"""Spec §2.2: containers nested deeper than this are refused with 413."""

MALFORMED_JSON = "Malformed JSON"
MALFORMED_FORM = "Malformed form data"

_FORM_TYPE = "application/x-www-form-urlencoded"
_MULTIPART_TYPE = "multipart/form-data"
_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_BLANKS = " \t\r\n"

# A form key is a name followed by zero or more bracketed segments; brackets may not nest
# and nothing may follow the last ``]``. Dots and other characters are literal everywhere.
_FORM_KEY = re.compile(r"([^\[\]]*)((?:\[[^\[\]]*\])*)")
_FORM_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
# Canonical list indexes as PHP would produce them: no sign, no leading zeros. The length cap
# keeps int() cheap and far above any list a body of bounded size could hold.
_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")
_INTEGER = re.compile(r"[+-]?[0-9]+")

# Structural scan of JSON text (see _check_json_nesting): keep only quotes and brackets, fold
# objects onto arrays, then map openers to +1 and closers to -1 as signed bytes.
_JSON_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_JSON_FOLD = bytes.maketrans(b"{}", b"[]")
_JSON_STEPS = bytes.maketrans(b"[]", b"\x01\xff")
_SCAN_CHUNK = 1 << 20


# --------------------------------------------------------------------------------------------
# Entry point


def parse_body(
    raw: bytes,
    content_type: str | None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any] | list[Any] | None:
    """Decode a ZeyOS request body according to its ``Content-Type``.

    Returns ``None`` when there is nothing to decode (empty or blank body, or the JSON literal
    ``null``), because list requests then use their defaults and writers report a missing
    body themselves. JSON keeps its own types; form and multipart bodies yield a dict of
    strings, lists and nested dicts built with the PHP bracket grammar.

    The type decides the decoder, with two lenient exceptions for hand-written requests: a
    missing or unknown type is sniffed (``{``/``[`` means JSON, anything else form data), and
    a form-typed body that starts with ``{``/``[`` is read as JSON, because ``curl -d`` labels
    everything as a form even when people paste JSON into it.

    Raises 413 for bodies over ``max_bytes`` or nested deeper than ``max_depth``, and 400 with
    ``Malformed JSON`` / ``Malformed form data`` for anything undecodable, including invalid
    UTF-8 and JSON whose top level is a scalar.
    """
    if len(raw) > max_bytes:
        raise payload_too_large()
    data = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    head = data.lstrip()
    if not head:
        return None
    media_type = _media_type(content_type)
    looks_like_json = head[:1] in (b"{", b"[")
    if _is_json_type(media_type):
        return _parse_json_body(data, max_depth)
    if media_type == _MULTIPART_TYPE:
        return _parse_multipart(data, content_type or "", max_depth)
    if looks_like_json:
        return _parse_json_body(data, max_depth)
    return _parse_form(data, max_depth)


def _media_type(content_type: str | None) -> str:
    """The bare ``type/subtype`` in lower case, without parameters such as ``charset``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def _is_json_type(media_type: str) -> bool:
    """``application/json`` and structured-syntax JSON types like ``application/merge+json``."""
    if media_type == "application/json":
        return True
    return media_type.startswith("application/") and media_type.endswith("+json")


# --------------------------------------------------------------------------------------------
# JSON


def _parse_json_body(data: bytes, max_depth: int) -> dict[str, Any] | list[Any] | None:
    """Decode a JSON body; only containers (or ``null``) can carry parameters or fields."""
    value = _load_json(data, max_depth, MALFORMED_JSON)
    if value is None or isinstance(value, dict | list):
        return value
    raise bad_request(MALFORMED_JSON)


def _load_json(data: bytes, max_depth: int, detail: str) -> Any:
    """orjson with the nesting limit enforced *before* parsing.

    The limit has to come first: orjson builds Python objects recursively and a body of a few
    megabytes of ``[`` overflows the C stack and kills the process instead of raising.
    """
    _check_json_nesting(data, max_depth)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        where = detail == MALFORMED_JSON  # a body, not a value inside form data
        raise bad_request(json_errors.from_decode_error(detail, err) if where else detail) from None


def _check_json_nesting(data: bytes, max_depth: int) -> None:
    """Raise 413 when JSON text nests containers deeper than ``max_depth``.

    Works on bytes with C-level primitives only, so a 64 MiB body costs well under a second
    in ordinary cases. Brackets inside string literals are discarded: escapes are removed
    first (``\\\\`` pairs, then ``\\"``), so every remaining quote delimits a string and the
    brackets at even quote parity are the structural ones. The result is exact for valid JSON
    and for the valid prefix of invalid JSON, which is all the parser would ever recurse into.
    """
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return  # cannot nest deeper than it has openers: the common case, decided for free
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = text.translate(_JSON_FOLD, _JSON_STRUCTURE)
    # Two quotes with no bracket between them can go without changing which brackets sit
    # inside strings; this drops every bracket-free string before the costlier split below.
    skeleton = skeleton.replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[0::2])
    steps = skeleton.translate(_JSON_STEPS)
    depth = 0
    for start in range(0, len(steps), _SCAN_CHUNK):
        chunk = steps[start : start + _SCAN_CHUNK]
        openers = chunk.count(1)
        if depth + openers > max_depth:
            deepest = max(accumulate(memoryview(chunk).cast("b"), initial=depth))
            if deepest > max_depth:
                raise payload_too_large()
        depth += openers - (len(chunk) - openers)


# --------------------------------------------------------------------------------------------
# Form data: urlencoded and multipart


def _parse_form(data: bytes, max_depth: int) -> dict[str, Any]:
    """Decode ``application/x-www-form-urlencoded`` (always UTF-8) into the bracket tree."""
    try:
        text = data.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise bad_request(MALFORMED_FORM) from None
    return _build_form(pairs, max_depth)


def _parse_multipart(data: bytes, content_type: str, max_depth: int) -> dict[str, Any]:
    """Decode the text parts of ``multipart/form-data`` exactly like form fields.

    File parts (those whose disposition names a ``filename``) and parts without a name are
    skipped: the ZeyOS API takes binary content as base64 inside fields, never as uploads.
    """
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise bad_request(MALFORMED_FORM)
    collector = _MultipartCollector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        parser.write(data)
        parser.finalize()
    except ValueError:  # python-multipart's parse errors derive from ValueError
        raise bad_request(MALFORMED_FORM) from None
    if not collector.ended:
        raise bad_request(MALFORMED_FORM)  # truncated: the closing boundary never came
    try:
        pairs = [(name.decode("utf-8"), value.decode("utf-8")) for name, value in collector.fields]
    except UnicodeDecodeError:
        raise bad_request(MALFORMED_FORM) from None
    return _build_form(pairs, max_depth)


class _MultipartCollector:
    """Gathers ``(name, value)`` byte pairs of text parts from python-multipart's callbacks."""

    def __init__(self) -> None:
        self.fields: list[tuple[bytes, bytes]] = []
        self.ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name: bytes | None = None
        self._value = bytearray()

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).strip().lower()] = bytes(self._header_value)
        self._header_name = bytearray()
        self._header_value = bytearray()

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition")
        if disposition is None:
            return
        _, params = parse_options_header(disposition)
        if b"filename" in params or b"filename*" in params:
            return
        self._name = params.get(b"name")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name is not None:
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._name is not None:
            self.fields.append((self._name, bytes(self._value)))
        self._name = None

    def _end(self) -> None:
        self.ended = True


class _Leaf:
    """The value(s) given for one exact key; repeating a key appends instead of overwriting."""

    __slots__ = ("values",)

    def __init__(self, value: str) -> None:
        self.values = [value]


class _Branch:
    """A bracket map under construction; ``[]`` appends at the next free integer key as in PHP."""

    __slots__ = ("children", "next_index")

    def __init__(self) -> None:
        self.children: dict[str, _Leaf | _Branch] = {}
        self.next_index = 0

    def claim(self, key: str) -> str:
        """Resolve ``[]`` to a fresh index and keep the append counter past explicit indexes."""
        if key == "":
            key = str(self.next_index)
        if _INDEX.fullmatch(key):
            self.next_index = max(self.next_index, int(key) + 1)
        return key


def _build_form(pairs: Iterable[tuple[str, str]], max_depth: int) -> dict[str, Any]:
    """Assemble decoded ``(key, value)`` pairs into nested dicts and lists (spec §2.2).

    Rules: brackets address nested maps, ``[]`` appends, a map whose keys are exactly
    ``0…n-1`` becomes a list, a key given more than once collects its values into a list,
    a key used both for a value and as a container is an error, and a leading space in the
    top-level name stands for a ``+`` that the client failed to percent-encode.
    """
    root = _Branch()
    for key, value in pairs:
        if key == "":
            continue  # "=x" or a stray "&": PHP ignores nameless pairs and so do we
        path = _split_key(key, max_depth)
        _insert(root, path, value)
    result = {name: _finish(child) for name, child in root.children.items()}
    if _depth(result) > max_depth:
        raise payload_too_large()  # only reachable through repeated keys at the deepest level
    return result


def _split_key(key: str, max_depth: int) -> list[str]:
    """``a[b][][c]`` → ``["a", "b", "", "c"]``; anything else with brackets is malformed."""
    # Count before matching so that an absurdly bracketed key costs nothing more than this.
    if key.count("[") >= max_depth:
        raise payload_too_large()
    match = _FORM_KEY.fullmatch(key)
    if match is None:
        raise bad_request(MALFORMED_FORM)
    name, tail = match.groups()
    if name == "":
        raise bad_request(MALFORMED_FORM)
    if name.startswith(" "):
        name = "+" + name[1:]
    return [name, *_FORM_SEGMENT.findall(tail)]


def _insert(root: _Branch, path: list[str], value: str) -> None:
    node = root
    for position, segment in enumerate(path):
        key = node.claim(segment) if position else segment
        child = node.children.get(key)
        if position == len(path) - 1:
            if child is None:
                node.children[key] = _Leaf(value)
            elif isinstance(child, _Leaf):
                child.values.append(value)
            else:
                raise bad_request(MALFORMED_FORM)  # a container given a plain value
            return
        if child is None:
            child = node.children[key] = _Branch()
        elif isinstance(child, _Leaf):
            raise bad_request(MALFORMED_FORM)  # a plain value used as a container
        node = child


def _finish(node: _Leaf | _Branch) -> Any:
    if isinstance(node, _Leaf):
        return node.values[0] if len(node.values) == 1 else list(node.values)
    mapping = {key: _finish(child) for key, child in node.children.items()}
    as_list = _index_list(mapping)
    return mapping if as_list is None else as_list


def _index_list(mapping: Mapping[str, Any]) -> list[Any] | None:
    """The values ordered by index when the keys are exactly ``"0"…"n-1"``, else ``None``."""
    count = len(mapping)
    keys = [str(index) for index in range(count)]
    if all(key in mapping for key in keys):
        return [mapping[key] for key in keys]
    return None


def _depth(value: Any) -> int:
    """Container nesting of ``value``: a scalar is 0, ``{"a": ["x"]}`` is 2."""
    if isinstance(value, dict):
        children: Iterable[Any] = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 0
    return 1 + max((_depth(child) for child in children), default=0)


# --------------------------------------------------------------------------------------------
# Helpers for operation handlers


def decode_json_text(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode a form value that carries JSON text for an object- or array-typed parameter.

    The JS client in form mode sends objects as JSON text (``filters={"status":1}``), so a
    string whose first non-blank character is ``{`` or ``[`` is parsed; undecodable text is
    ``400 Malformed form data``, too deep nesting 413. Other values (including already
    structured ones from JSON bodies) are returned unchanged. Callers must only use this
    for parameters declared as object/array: a text column may legitimately start with ``[``.
    """
    if not isinstance(value, str) or value.lstrip(_JSON_BLANKS)[:1] not in ("{", "["):
        return value
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be JSON text
        raise bad_request(MALFORMED_FORM) from None
    return _load_json(data, max_depth, MALFORMED_FORM)


def merge_query_params(
    body: Mapping[str, Any] | None,
    query_items: Iterable[tuple[str, str]],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """Combine list parameters from the URL query string with those of the body.

    Spec §2.2 lets hand-written list requests put parameters in the URL; the query string is
    read with the form grammar and the body wins per top-level parameter (``?limit=5`` with a
    body ``{"limit": 10}`` gives 10; a body ``filter`` replaces a query ``filter`` entirely
    rather than being merged key by key, so no condition appears that the body did not state).
    ``body`` may be ``None`` (no body). Returns a new dict; the body is not modified.
    """
    merged = _build_form(query_items, max_depth)
    if body:
        merged.update(body)
    return merged


def to_flag(value: Any, what: str, *, field: str | None = None) -> bool:
    """Read a ZeyOS flag: ``1``/``0``, ``true``/``false`` as booleans, numbers or strings.

    The seed types flags as integers and api.json as booleans, and form data turns either
    into text, so all spellings are accepted (strings case-insensitively, surrounding blanks
    ignored). ``None`` means the parameter was not given, i.e. off. Anything else is
    ``400 Bad Request: Invalid <what>``; ``what`` is echoed verbatim, so a caller that builds
    it from a client-supplied name should shorten that name first.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value in (0, 1):
            return value == 1
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
    raise bad_request(f"Invalid {what}", field=field)


def to_int(value: Any, what: str, *, field: str | None = None) -> int:
    """Read an integer given as a JSON number or as decimal text (``"12"``, ``" +3 "``).

    Booleans, fractional numbers (also ``"1.0"``), empty text and non-ASCII digits are
    refused with ``400 Bad Request: Invalid <what>``: a limit of ``true`` or ``2.5`` is a
    client bug worth reporting. Range checks belong to the caller.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # more digits than int() converts; no sane parameter has them
                pass
    raise bad_request(f"Invalid {what}", field=field)


def to_list(value: Any, what: str = "list", *, field: str | None = None) -> list[Any]:
    """Read an array-typed parameter that clients may also send as a single value.

    ``None`` is an empty list, a list is copied, a lone scalar (a string included, commas and
    all) becomes a one-element list, and a dict keyed exactly ``"0"…"n-1"`` (how PHP-minded
    JSON encoders write sparse arrays) becomes the list of its values in index order. Any
    other dict is ``400 Bad Request: Invalid <what>``.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        as_list = _index_list(value)
        if as_list is None:
            raise bad_request(f"Invalid {what}", field=field)
        return as_list
    return [value]
