"""The ZeyOS request-body parser: JSON, PHP bracket forms, multipart, limits and coercions."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officina.core.errors import HttpError
from officina.zeyos.body import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    decode_json_text,
    merge_query_params,
    parse_body,
    to_flag,
    to_int,
    to_list,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MALFORMED_JSON = "Bad Request: Malformed JSON"
MALFORMED_FORM = "Bad Request: Malformed form data"


def malformed_at(column: int) -> str:
    """A JSON syntax error names where it is (all these bodies are one line)."""
    return f"{MALFORMED_JSON} at line 1, column {column}"


def fails(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    """Run ``call`` expecting an HttpError; return its status and message."""
    with pytest.raises(HttpError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.message


def form(text: str, content_type: str | None = FORM, **kwargs: Any) -> Any:
    return parse_body(text.encode("utf-8"), content_type, **kwargs)


def nested(depth: int) -> bytes:
    """JSON text of ``depth`` arrays nested in each other, innermost holding 1."""
    return b"[" * depth + b"1" + b"]" * depth


# --------------------------------------------------------------------------------------------
# Empty bodies


@pytest.mark.parametrize("raw", [b"", b" ", b"\r\n\t ", b"\xef\xbb\xbf", b"\xef\xbb\xbf  \n"])
@pytest.mark.parametrize(
    "content_type", [None, JSON, FORM, "multipart/form-data; boundary=x", "text/plain"]
)
def test_empty_or_blank_body_is_none(raw: bytes, content_type: str | None) -> None:
    assert parse_body(raw, content_type) is None


def test_json_null_is_treated_as_no_body() -> None:
    assert parse_body(b"null", JSON) is None
    assert parse_body(b" null ", "application/vnd.api+json") is None


def test_sniffed_null_without_type_is_a_form_key() -> None:
    # Sniffing only looks for { or [; a bare word is form data with an empty value.
    assert parse_body(b"null", None) == {"null": ""}


# --------------------------------------------------------------------------------------------
# JSON


def test_json_object() -> None:
    raw = b'{"fields": ["ID", "lastname"], "filter": {"ID": {">": 3}}, "limit": 3}'
    assert parse_body(raw, JSON) == {
        "fields": ["ID", "lastname"],
        "filter": {"ID": {">": 3}},
        "limit": 3,
    }


def test_json_keeps_its_types() -> None:
    raw = b'{"count": true, "offset": 0, "x": null, "f": 1.5, "s": "1"}'
    assert parse_body(raw, JSON) == {"count": True, "offset": 0, "x": None, "f": 1.5, "s": "1"}


def test_json_top_level_array_is_returned_for_the_caller_to_judge() -> None:
    assert parse_body(b'[1, {"a": "b"}]', JSON) == [1, {"a": "b"}]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "  application/json ;charset=UTF-8",
        "application/vnd.api+json",
        "application/merge-patch+json",
        "application/problem+json; charset=utf-8",
    ],
)
def test_json_content_types(content_type: str) -> None:
    assert parse_body(b'{"limit": 5}', content_type) == {"limit": 5}


def test_json_content_type_decides_even_for_form_looking_text() -> None:
    assert fails(parse_body, b"limit=5", JSON) == (400, malformed_at(1))


def test_json_utf8_text() -> None:
    raw = '{"lastname": "Müller – 東京"}'.encode()
    assert parse_body(raw, JSON) == {"lastname": "Müller – 東京"}


def test_json_with_utf8_bom() -> None:
    assert parse_body(b'\xef\xbb\xbf{"a": 1}', JSON) == {"a": 1}
    assert parse_body(b'\xef\xbb\xbf{"a": 1}', None) == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", malformed_at(2)),
        (b'{"a": }', malformed_at(7)),
        (b"{'a': 1}", malformed_at(2)),
        (b'{"a": 1,}', malformed_at(8)),
        (b'{"a": 1} x', malformed_at(10)),
        (b'{"a": NaN}', malformed_at(7)),
        (b"[1, 2", malformed_at(6)),
        (b'{"a": [}', malformed_at(8)),
        (b'{"a": "\xff"}', MALFORMED_JSON),  # invalid UTF-8: no text, so no place
        (b'{"a": "\xed\xa0\x80"}', MALFORMED_JSON),  # encoded surrogate
        (b'"just a string"', MALFORMED_JSON),  # valid JSON, but a scalar carries no parameters
        (b"5", MALFORMED_JSON),
        (b"true", MALFORMED_JSON),
    ],
)
def test_malformed_json(raw: bytes, message: str) -> None:
    assert fails(parse_body, raw, JSON) == (400, message)


def test_malformed_error_has_no_field() -> None:
    with pytest.raises(HttpError) as caught:
        parse_body(b"{", JSON)
    assert caught.value.field is None
    assert caught.value.headers == {}


# --------------------------------------------------------------------------------------------
# Sniffing without (or with an unknown) content type


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/octet-stream"])
def test_sniff_json_object_and_array(content_type: str | None) -> None:
    assert parse_body(b'{"limit": 2}', content_type) == {"limit": 2}
    assert parse_body(b" \r\n\t[1, 2]", content_type) == [1, 2]


@pytest.mark.parametrize("content_type", [None, "", "text/plain"])
def test_sniff_form(content_type: str | None) -> None:
    assert parse_body(b"fields[]=ID&limit=3", content_type) == {"fields": ["ID"], "limit": "3"}


def test_sniffed_json_that_is_malformed_reports_json() -> None:
    assert fails(parse_body, b"{limit: 2}", None) == (400, malformed_at(2))


def test_form_typed_body_that_starts_like_json_is_json() -> None:
    # curl -d labels pasted JSON as a form; read it as what it obviously is.
    assert parse_body(b'{"limit": 2}', FORM) == {"limit": 2}
    assert parse_body(b'  ["a"]', FORM) == ["a"]
    assert fails(parse_body, b'{"limit": }', FORM) == (400, malformed_at(11))
    # A form key cannot start with "[" anyway, so nothing valid is lost by this.
    assert fails(parse_body, b"[a]=1", FORM) == (400, malformed_at(2))


# --------------------------------------------------------------------------------------------
# Form data: the PHP bracket grammar


def test_seed_curl_example() -> None:
    assert form("fields[]=ID&fields[]=lastname&fields[]=firstname&limit=3") == {
        "fields": ["ID", "lastname", "firstname"],
        "limit": "3",
    }


def test_legacy_login_form() -> None:
    assert form("name=admin&password=p%40ss+word&identifier=cli&appsecret=s3") == {
        "name": "admin",
        "password": "p@ss word",
        "identifier": "cli",
        "appsecret": "s3",
    }


def test_bracket_map_keys_and_literal_dots() -> None:
    assert form("fields[Town]=contact.city&fields[Name]=lastname") == {
        "fields": {"Town": "contact.city", "Name": "lastname"}
    }


def test_filter_with_dotted_path_and_in_list() -> None:
    text = "filter[contact.country][IN][]=DE&filter[contact.country][IN][]=AT&filter[status]=1"
    assert form(text) == {"filter": {"contact.country": {"IN": ["DE", "AT"]}, "status": "1"}}


def test_filter_group_becomes_list() -> None:
    assert form("filter[2][0]=OR&filter[2][1][x]=1") == {"filter": {"2": ["OR", {"x": "1"}]}}


def test_index_map_in_any_order_becomes_ordered_list() -> None:
    assert form("a[2]=c&a[0]=a&a[1]=b") == {"a": ["a", "b", "c"]}
    assert form("g[1][y]=2&g[0]=AND&g[2][z]=3") == {"g": ["AND", {"y": "2"}, {"z": "3"}]}


def test_index_keys_with_gaps_or_padding_stay_a_map() -> None:
    assert form("a[0]=x&a[2]=y") == {"a": {"0": "x", "2": "y"}}
    assert form("a[1]=x") == {"a": {"1": "x"}}
    assert form("a[00]=x") == {"a": {"00": "x"}}
    assert form("a[0]=x&a[01]=y") == {"a": {"0": "x", "01": "y"}}
    assert form("a[-1]=x&a[0]=y") == {"a": {"-1": "x", "0": "y"}}


def test_deep_nesting_several_levels() -> None:
    text = (
        "filter[0]=OR"
        "&filter[1][contact.city][LIKE]=Mun%25"
        "&filter[2][0]=AND"
        "&filter[2][1][type][IN][]=1"
        "&filter[2][1][type][IN][]=2"
        "&filter[2][2][extdata.nickname]=Bob"
    )
    assert form(text) == {
        "filter": [
            "OR",
            {"contact.city": {"LIKE": "Mun%"}},
            ["AND", {"type": {"IN": ["1", "2"]}}, {"extdata.nickname": "Bob"}],
        ]
    }


def test_append_creates_one_element_per_occurrence() -> None:
    assert form("a[][x]=1&a[][y]=2") == {"a": [{"x": "1"}, {"y": "2"}]}
    assert form("a[][x]=1&a[][x]=2") == {"a": [{"x": "1"}, {"x": "2"}]}
    assert form("a[][]=1&a[][]=2") == {"a": [["1"], ["2"]]}


def test_append_continues_after_explicit_index_like_php() -> None:
    assert form("a[5]=x&a[]=y") == {"a": {"5": "x", "6": "y"}}
    assert form("a[1]=b&a[]=c&a[0]=a") == {"a": ["a", "b", "c"]}


def test_append_next_to_named_keys_stays_a_map() -> None:
    assert form("a[]=x&a[k]=y") == {"a": {"0": "x", "k": "y"}}


def test_extdata_and_sort_examples() -> None:
    assert form("extdata[nickname]=Bob&sort[]=-name&sort[]=%2BID") == {
        "extdata": {"nickname": "Bob"},
        "sort": ["-name", "+ID"],
    }


def test_repeated_plain_keys_become_a_list() -> None:
    assert form("fields=ID&fields=name&fields=lastname") == {"fields": ["ID", "name", "lastname"]}


def test_single_plain_key_is_a_string() -> None:
    assert form("fields=ID") == {"fields": "ID"}
    assert form("query=a,b") == {"query": "a,b"}


def test_repeated_bracket_key_collects_values_too() -> None:
    assert form("a[k]=1&a[k]=2") == {"a": {"k": ["1", "2"]}}


def test_js_client_form_mode() -> None:
    # Arrays as repeated keys, objects as JSON text, booleans as words.
    text = "fields=ID&fields=name&filters=%7B%22status%22%3A1%7D&count=false&limit=10"
    assert form(text) == {
        "fields": ["ID", "name"],
        "filters": '{"status":1}',
        "count": "false",
        "limit": "10",
    }


def test_leading_space_in_key_is_a_plus() -> None:
    # "+tags" not percent-encoded arrives as " tags".
    assert form("+tags[]=a&+tags[]=b&-tags[]=c") == {"+tags": ["a", "b"], "-tags": ["c"]}
    assert form("%20tags=x") == {"+tags": "x"}
    assert form("%2Btags=x") == {"+tags": "x"}


def test_only_the_first_leading_space_is_rewritten() -> None:
    assert form("++x=1") == {"+ x": "1"}


def test_spaces_elsewhere_are_kept() -> None:
    assert form("a+b=1&f[a+b]=2&f[+c]=3") == {"a b": "1", "f": {"a b": "2", " c": "3"}}


def test_plus_and_percent_in_values() -> None:
    assert form("q=a+b%2Bc%26d%3De") == {"q": "a b+c&d=e"}


def test_blank_values_and_values_without_equals() -> None:
    assert form("a=&b&c[]=&c[]=x") == {"a": "", "b": "", "c": ["", "x"]}


def test_values_may_contain_brackets_and_equals() -> None:
    assert form("q=[1]=x&r={") == {"q": "[1]=x", "r": "{"}


def test_nameless_pairs_and_stray_separators_are_ignored() -> None:
    assert form("=x&&a=1&") == {"a": "1"}
    assert form("&&&") == {}


def test_percent_encoded_brackets_are_brackets() -> None:
    assert form("fields%5B%5D=ID&fields%5B%5D=name") == {"fields": ["ID", "name"]}


def test_form_utf8_raw_and_percent_encoded() -> None:
    assert parse_body("name=Müller".encode(), FORM) == {"name": "Müller"}
    assert form("name=M%C3%BCller&f[%C3%A4]=1") == {"name": "Müller", "f": {"ä": "1"}}


def test_form_charset_parameter_is_accepted() -> None:
    assert form("a=1", "application/x-www-form-urlencoded; charset=UTF-8") == {"a": "1"}


def test_top_level_index_names_stay_a_map() -> None:
    assert form("0=a&1=b") == {"0": "a", "1": "b"}


@pytest.mark.parametrize(
    "text",
    [
        "a[b=1",
        "a]=1",
        "a]b=1",
        "a[b]c=1",
        "a[b]]=1",
        "a[b[c]]=1",
        "a[[b]]=1",
        "x=1&[a]=1",
        "x=1&[]=1",
        "a[=1",
        "a=1&a[b]=2",  # scalar, then container
        "a[b]=2&a=1",  # container, then scalar
        "a[]=1&a[0][x]=2",
        "a[x][y]=1&a[x]=2",
        "a[x]=1&a[x][y]=2",
        "fields=ID&fields[]=name",
    ],
)
def test_malformed_form(text: str) -> None:
    assert fails(form, text) == (400, MALFORMED_FORM)


def test_form_invalid_utf8() -> None:
    assert fails(parse_body, b"name=M\xfcller", FORM) == (400, MALFORMED_FORM)
    assert fails(parse_body, b"na\xffme=x", None) == (400, MALFORMED_FORM)
    assert fails(parse_body, b"name=M%FCller", FORM) == (400, MALFORMED_FORM)
    assert fails(parse_body, b"f[%FF]=1", FORM) == (400, MALFORMED_FORM)


# --------------------------------------------------------------------------------------------
# multipart/form-data


def multipart(*parts: tuple[str, str | bytes] | bytes, boundary: str = "BoUnDaRy") -> bytes:
    """Build a multipart body; a tuple is a text part, raw bytes are inserted as a whole part."""
    chunks: list[bytes] = []
    for part in parts:
        chunks.append(f"--{boundary}\r\n".encode())
        if isinstance(part, bytes):
            chunks.append(part)
        else:
            name, value = part
            data = value if isinstance(value, bytes) else value.encode("utf-8")
            header = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
            chunks.append(header.encode("utf-8") + data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


MP = "multipart/form-data; boundary=BoUnDaRy"


def test_multipart_text_parts_use_the_bracket_grammar() -> None:
    raw = multipart(
        ("fields[]", "ID"),
        ("fields[]", "lastname"),
        ("filter[contact.country][IN][]", "DE"),
        ("filter[2][0]", "OR"),
        ("filter[2][1][x]", "1"),
        ("limit", "3"),
    )
    assert parse_body(raw, MP) == {
        "fields": ["ID", "lastname"],
        "filter": {"contact.country": {"IN": ["DE"]}, "2": ["OR", {"x": "1"}]},
        "limit": "3",
    }


def test_multipart_repeated_names_and_utf8() -> None:
    raw = multipart(("fields", "ID"), ("fields", "name"), ("lastname", "Müller\r\nZweite"))
    assert parse_body(raw, MP) == {"fields": ["ID", "name"], "lastname": "Müller\r\nZweite"}


def test_multipart_file_parts_and_nameless_parts_are_ignored() -> None:
    file_part = (
        b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"file content \xff\xfe"
    )
    nameless = b"Content-Disposition: form-data\r\n\r\nnothing"
    no_disposition = b"Content-Type: text/plain\r\n\r\norphan"
    raw = multipart(("a", "1"), file_part, nameless, no_disposition, ("b", "2"))
    assert parse_body(raw, MP) == {"a": "1", "b": "2"}


def test_multipart_quoted_boundary_and_header_case() -> None:
    part = b'content-disposition: form-data; name="x"\r\n\r\nvalue'
    raw = multipart(part, boundary="a b;c")
    assert parse_body(raw, 'Multipart/Form-Data; boundary="a b;c"') == {"x": "value"}


def test_multipart_without_parts_is_empty() -> None:
    assert parse_body(b"--BoUnDaRy--\r\n", MP) == {}


def test_multipart_json_looking_value_stays_text() -> None:
    raw = multipart(("filters", '{"status": 1}'))
    assert parse_body(raw, MP) == {"filters": '{"status": 1}'}


def test_multipart_leading_space_rule_applies() -> None:
    raw = multipart((" tags[]", "a"))
    assert parse_body(raw, MP) == {"+tags": ["a"]}


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (multipart(("a", "1")), "multipart/form-data"),  # no boundary
        (multipart(("a", "1")), "multipart/form-data; boundary="),
        (multipart(("a", "1")), "multipart/form-data; boundary=other"),
        (multipart(("a", "1"))[:-12], MP),  # truncated before the closing boundary
        (b"not multipart at all", MP),
        (multipart(("a", b"\xff")), MP),  # value is not UTF-8
        (multipart(("a[b", "1")), MP),  # malformed key
        (multipart(("a", "1"), ("a[x]", "2")), MP),  # scalar and container
    ],
)
def test_malformed_multipart(raw: bytes, content_type: str) -> None:
    assert fails(parse_body, raw, content_type) == (400, MALFORMED_FORM)


# --------------------------------------------------------------------------------------------
# Size limit


def test_size_limit_is_inclusive() -> None:
    raw = b'{"a": "' + b"x" * 93 + b'"}'
    assert len(raw) == 102
    assert parse_body(raw, JSON, max_bytes=102) == {"a": "x" * 93}
    assert fails(parse_body, raw, JSON, max_bytes=101) == (413, "Payload Too Large")


@pytest.mark.parametrize("content_type", [JSON, FORM, MP, None])
def test_size_limit_applies_to_every_encoding(content_type: str | None) -> None:
    assert fails(parse_body, b"a=" + b"1" * 20, content_type, max_bytes=10) == (
        413,
        "Payload Too Large",
    )


def test_size_limit_counts_blank_bodies_too() -> None:
    assert fails(parse_body, b" " * 11, None, max_bytes=10)[0] == 413


def test_default_limits() -> None:
    assert DEFAULT_MAX_BYTES == 64 * 1024 * 1024
    assert DEFAULT_MAX_DEPTH == 32


def test_default_size_limit_allows_large_base64_upload() -> None:
    content = b"QUJD" * (4 * 1024 * 1024)  # 16 MiB of base64
    raw = b'{"binfile": {"content": "' + content + b'"}}'
    result = parse_body(raw, JSON)
    assert isinstance(result, dict)
    assert len(result["binfile"]["content"]) == len(content)


# --------------------------------------------------------------------------------------------
# Depth limit


def test_json_depth_at_the_limit_is_accepted() -> None:
    assert parse_body(nested(32), JSON) == json.loads(nested(32))
    assert parse_body(nested(3), JSON, max_depth=3) == [[[1]]]


def test_json_depth_over_the_limit_is_413() -> None:
    assert fails(parse_body, nested(33), JSON) == (413, "Payload Too Large")
    assert fails(parse_body, nested(4), JSON, max_depth=3) == (413, "Payload Too Large")


def test_json_depth_counts_objects_and_arrays_alike() -> None:
    raw = b'{"a": [{"b": [1]}]}'
    assert parse_body(raw, JSON, max_depth=4) == {"a": [{"b": [1]}]}
    assert fails(parse_body, raw, JSON, max_depth=3)[0] == 413


def test_json_depth_is_the_deepest_branch_not_the_bracket_count() -> None:
    raw = b"[" + b",".join([b"[[1]]"] * 50) + b"]"  # 101 openers, depth 3
    assert parse_body(raw, JSON, max_depth=3) == [[[1]]] * 50
    assert fails(parse_body, raw, JSON, max_depth=2)[0] == 413


def test_json_brackets_inside_strings_do_not_count() -> None:
    raw = b'{"note": "[[[[[[[[[[{{{{{{{{{{", "other": ["]]]]]]", "\\"[[[[[[\\\\"]}'
    assert parse_body(raw, JSON, max_depth=2) == {
        "note": "[[[[[[[[[[{{{{{{{{{{",
        "other": ["]]]]]]", '"[[[[[[\\'],
    }


def test_json_closing_brackets_inside_strings_cannot_hide_depth() -> None:
    decoy = b'"' + b"]" * 100 + b'"'
    raw = b"[" + decoy + b"," + nested(40) + b"]"
    assert fails(parse_body, raw, JSON)[0] == 413


def test_json_escaped_quotes_cannot_hide_depth() -> None:
    decoy = b'"\\"' + b"]" * 100 + b'\\\\"'  # a string holding a quote, brackets, backslash
    raw = b"[" + decoy + b"," + nested(40) + b"]"
    assert fails(parse_body, raw, JSON)[0] == 413
    shallow = b"[" + decoy + b"," + nested(5) + b"]"
    assert parse_body(shallow, JSON) == ['"' + "]" * 100 + "\\", [[[[[1]]]]]]


def test_extremely_deep_json_is_refused_without_recursing() -> None:
    # orjson would overflow the C stack on this; the guard must answer first.
    raw = b"[" * 3_000_000 + b"]" * 3_000_000
    assert fails(parse_body, raw, JSON) == (413, "Payload Too Large")
    assert fails(parse_body, b'{"a":' * 1_000_000, None)[0] == 413


def test_deep_json_in_a_wide_document() -> None:
    raw = b"[" + b"[1]," * 200_000 + nested(33) + b"]"
    assert fails(parse_body, raw, JSON)[0] == 413
    raw = b"[" + b"[1]," * 200_000 + nested(31) + b"]"
    result = parse_body(raw, JSON)
    assert isinstance(result, list)
    assert len(result) == 200_001


def test_unbalanced_json_is_malformed() -> None:
    assert fails(parse_body, b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]", JSON)[0] in (400, 413)
    assert fails(parse_body, b"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" + b"[" * 40, JSON) == (
        400,
        malformed_at(1),
    )
    assert fails(parse_body, b"[" * 10 + b"]" * 40, JSON) == (400, malformed_at(21))


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_tricky_text = st.text(alphabet='[]{}"\\ ab\n\u00e9', max_size=8)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | _tricky_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_tricky_text, children, max_size=3)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(_tricky_text, _json_values, max_size=3), limit=st.integers(1, 6))
def test_json_depth_guard_agrees_with_real_depth(value: dict[str, Any], limit: int) -> None:
    raw = orjson.dumps(value)
    if _depth(value) <= limit:
        assert parse_body(raw, JSON, max_depth=limit) == value
    else:
        assert fails(parse_body, raw, JSON, max_depth=limit) == (413, "Payload Too Large")


def test_form_depth_at_the_limit_is_accepted() -> None:
    key = "a" + "[x]" * 31  # the top-level dict plus 31 levels: depth 32
    result = form(f"{key}=1")
    assert _depth(result) == 32
    node = result["a"]
    for _ in range(30):
        node = node["x"]
    assert node == {"x": "1"}


def test_form_depth_over_the_limit_is_413() -> None:
    assert fails(form, "a" + "[x]" * 32 + "=1") == (413, "Payload Too Large")
    assert fails(form, "a" + "[]" * 32 + "=1") == (413, "Payload Too Large")
    assert fails(form, "a[b][c]=1", max_depth=2) == (413, "Payload Too Large")
    assert form("a[b]=1", max_depth=2) == {"a": {"b": "1"}}


def test_form_repeated_values_at_the_deepest_level_count_as_a_level() -> None:
    assert form("a[b]=1", max_depth=2) == {"a": {"b": "1"}}
    assert fails(form, "a[b]=1&a[b]=2", max_depth=2) == (413, "Payload Too Large")
    assert fails(form, "a=1&a=2", max_depth=1) == (413, "Payload Too Large")


def test_form_with_huge_bracket_key_is_refused_quickly() -> None:
    assert fails(parse_body, b"a" + b"[]" * 5_000_000 + b"=1", FORM)[0] == 413


# --------------------------------------------------------------------------------------------
# decode_json_text


def test_decode_json_text_object_and_array() -> None:
    assert decode_json_text('{"status": 1, "name": {"LIKE": "a%"}}') == {
        "status": 1,
        "name": {"LIKE": "a%"},
    }
    assert decode_json_text('["ID", "name"]') == ["ID", "name"]
    assert decode_json_text(' \n\t{"a": []} ') == {"a": []}


@pytest.mark.parametrize("value", ["ID", "", "  ", "5", "true", "null", '"x"', "a[0]", " x{"])
def test_decode_json_text_leaves_other_strings(value: str) -> None:
    assert decode_json_text(value) == value


@pytest.mark.parametrize("value", [None, 5, 1.5, True, {"a": "{"}, ["[", "{"]])
def test_decode_json_text_leaves_non_strings(value: Any) -> None:
    assert decode_json_text(value) is value


@pytest.mark.parametrize("value", ["{", "[1, 2", "{status: 1}", "[1] x", "{'a': 1}"])
def test_decode_json_text_invalid(value: str) -> None:
    assert fails(decode_json_text, value) == (400, MALFORMED_FORM)


def test_decode_json_text_lone_surrogate() -> None:
    assert fails(decode_json_text, "[\ud800]") == (400, MALFORMED_FORM)


def test_decode_json_text_depth() -> None:
    assert decode_json_text("[[1]]", max_depth=2) == [[1]]
    assert fails(decode_json_text, "[[[1]]]", max_depth=2) == (413, "Payload Too Large")
    assert fails(decode_json_text, "[" * 100_000)[0] == 413


def test_decode_json_text_on_parsed_form_values() -> None:
    body = form("filters=%7B%22status%22%3A1%7D&fields=%5B%22ID%22%5D")
    assert decode_json_text(body["filters"]) == {"status": 1}
    assert decode_json_text(body["fields"]) == ["ID"]


# --------------------------------------------------------------------------------------------
# merge_query_params


def test_query_fills_what_the_body_lacks() -> None:
    merged = merge_query_params({"limit": 10}, [("offset", "5"), ("fields[]", "ID")])
    assert merged == {"offset": "5", "fields": ["ID"], "limit": 10}


def test_body_wins_over_query() -> None:
    body = {"limit": 10, "filter": {"status": 1}}
    query = [("limit", "5"), ("filter[type]", "2"), ("count", "1")]
    assert merge_query_params(body, query) == {
        "limit": 10,
        "filter": {"status": 1},  # replaced as a whole, not merged key by key
        "count": "1",
    }


def test_query_uses_the_bracket_grammar() -> None:
    query = [
        ("fields", "ID"),
        ("fields", "name"),
        ("filter[contact.country][IN][]", "DE"),
        ("filter[2][1][x]", "1"),
        ("filter[2][0]", "OR"),
        (" tags", "1"),
    ]
    assert merge_query_params({}, query) == {
        "fields": ["ID", "name"],
        "filter": {"contact.country": {"IN": ["DE"]}, "2": ["OR", {"x": "1"}]},
        "+tags": "1",
    }


def test_merge_without_body_or_query() -> None:
    assert merge_query_params(None, [("limit", "2")]) == {"limit": "2"}
    assert merge_query_params({"limit": 2}, []) == {"limit": 2}
    assert merge_query_params(None, []) == {}


def test_merge_does_not_modify_the_body() -> None:
    body: dict[str, Any] = {"limit": 1}
    merged = merge_query_params(body, [("offset", "3")])
    assert body == {"limit": 1}
    assert merged is not body


def test_merge_malformed_query() -> None:
    assert fails(merge_query_params, {}, [("a[b", "1")]) == (400, MALFORMED_FORM)
    assert fails(merge_query_params, {}, [("a", "1"), ("a[b]", "2")]) == (400, MALFORMED_FORM)


def test_merge_query_depth() -> None:
    deep = [("a" + "[x]" * 40, "1")]
    assert fails(merge_query_params, {}, deep) == (413, "Payload Too Large")


# --------------------------------------------------------------------------------------------
# to_flag


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        (" 1 ", True),
        ("\tfalse\n", False),
        (None, False),
    ],
)
def test_to_flag_valid(value: Any, expected: bool) -> None:
    assert to_flag(value, "count") is expected


@pytest.mark.parametrize(
    "value", ["", " ", "yes", "no", "on", "2", "-1", "01", "1.0", 2, -1, 1.0, 0.0, [], [1], {}]
)
def test_to_flag_invalid(value: Any) -> None:
    assert fails(to_flag, value, "count") == (400, "Bad Request: Invalid count")


def test_to_flag_message_and_field_are_chosen_by_the_caller() -> None:
    with pytest.raises(HttpError) as caught:
        to_flag("maybe", "value for field 'active'", field="active")
    assert caught.value.status == 400
    assert caught.value.message == "Bad Request: Invalid value for field 'active'"
    assert caught.value.field == "active"


# --------------------------------------------------------------------------------------------
# to_int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        (0, 0),
        (-7, -7),
        (2**63 - 1, 2**63 - 1),
        ("12", 12),
        (" 12 ", 12),
        ("+3", 3),
        ("-4", -4),
        ("0", 0),
        ("007", 7),
        ("12345678901234567890", 12345678901234567890),
    ],
)
def test_to_int_valid(value: Any, expected: int) -> None:
    result = to_int(value, "limit")
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        1.0,
        2.5,
        "1.0",
        "",
        " ",
        "1e3",
        "abc",
        "12a",
        "1_000",
        "0x10",
        "+",
        "--1",
        "1 2",
        "\u0661\u0662",  # Arabic-Indic digits: int() would take them, we do not
        "9" * 5000,  # beyond what int() converts from text
        [],
        ["1"],
        {"0": "1"},
    ],
)
def test_to_int_invalid(value: Any) -> None:
    assert fails(to_int, value, "limit") == (400, "Bad Request: Invalid limit")


def test_to_int_field_is_passed_on() -> None:
    with pytest.raises(HttpError) as caught:
        to_int("x", "value for field 'type'", field="type")
    assert caught.value.message == "Bad Request: Invalid value for field 'type'"
    assert caught.value.field == "type"


# --------------------------------------------------------------------------------------------
# to_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("-name", ["-name"]),
        ("a,b", ["a,b"]),
        ("", [""]),
        (5, [5]),
        (True, [True]),
        (["a", "b"], ["a", "b"]),
        ([], []),
        (("a", "b"), ["a", "b"]),
        ({"0": "a", "1": "b"}, ["a", "b"]),
        ({"1": "b", "0": "a", "2": "c"}, ["a", "b", "c"]),
        ({}, []),
    ],
)
def test_to_list_valid(value: Any, expected: list[Any]) -> None:
    assert to_list(value) == expected


def test_to_list_copies() -> None:
    original = ["a"]
    result = to_list(original)
    assert result == original
    assert result is not original


@pytest.mark.parametrize("value", [{"a": 1}, {"0": "a", "2": "b"}, {"1": "a"}, {"00": "a"}])
def test_to_list_invalid_dict(value: dict[str, Any]) -> None:
    assert fails(to_list, value, "sort") == (400, "Bad Request: Invalid sort")


def test_to_list_field_is_passed_on() -> None:
    with pytest.raises(HttpError) as caught:
        to_list({"x": 1}, "expand", field="expand")
    assert caught.value.field == "expand"


def test_to_list_on_parsed_forms() -> None:
    assert to_list(form("sort=-name")["sort"]) == ["-name"]
    assert to_list(form("sort=-name&sort=ID")["sort"]) == ["-name", "ID"]
    assert to_list(form("sort[]=-name")["sort"]) == ["-name"]
